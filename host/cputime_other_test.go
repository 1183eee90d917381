//go:build !linux

package host

import "time"

// threadCPU is not measured here: the cpu-ns metrics read 0.
func threadCPU() time.Duration { return 0 }

// procCPU is not measured here.
func procCPU() time.Duration { return 0 }
