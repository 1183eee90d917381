package host

import (
	"runtime"
	"syscall"
	"time"
)

// threadCPU is the CPU time of the calling OS thread: unlike the wall
// clock it does not count the time other processes on a shared machine
// take from a benchmark. The caller must hold its thread
// (runtime.LockOSThread) from the first reading to the last.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var _ = runtime.LockOSThread

// procCPU is the CPU time of the whole process, every thread.
func procCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
