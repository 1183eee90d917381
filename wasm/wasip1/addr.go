//go:build wasip1

package main

import "unsafe"

// addr is the linear-memory address of a buffer's first byte.
func addr(b []byte) uint32 {
	if cap(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}
