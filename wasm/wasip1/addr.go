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

// trap loads from past the end of linear memory (4 GiB is beyond any
// instance), which wasm refuses with a trap: Go does not check it.
func trap() byte {
	return *(*byte)(unsafe.Add(unsafe.Pointer(&sink), 0xfffffff0-uintptr(unsafe.Pointer(&sink))))
}
