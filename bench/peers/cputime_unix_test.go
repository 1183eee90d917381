//go:build unix

package peers

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, user and system, every
// goroutine and the garbage collector included. On a loaded machine it
// moves less than the wall clock: time spent waiting for a core is not in it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
