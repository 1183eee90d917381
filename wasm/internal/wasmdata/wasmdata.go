// Package wasmdata reads and rewrites what Go's wasm linker puts in a
// module's data section: the initial linear memory, and in it the
// runtime's moduledata, which locates the pclntab, the type data and the
// data sections. wasm/wasmbuild uses it to shrink the js module after
// linking, wasm/sizes to break the data down.
//
// Go's wasm linker writes its sections at increasing addresses: read-only
// data (type descriptors, their names, string constants, GC masks, other
// read-only data), the pclntab (function names, file names, pc-value
// tables, function records, funcdata), the type and itab links,
// moduledata, noptrdata and data. The module names none of them, but
// moduledata points at all of them; it is found through the pclntab
// header, the first word it holds. Its layout is Go's runtime.moduledata,
// checked for sense, so a toolchain that changes it gives an error, not a
// wrong answer or a broken module.
package wasmdata

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Section is one section of a module.
type Section struct {
	ID   byte
	Body []byte
}

// Sections splits a module into its sections.
func Sections(mod []byte) ([]Section, error) {
	if len(mod) < 8 || string(mod[:4]) != "\x00asm" {
		return nil, errors.New("not a wasm module")
	}
	var out []Section
	b := mod[8:]
	for len(b) > 0 {
		size, n := binary.Uvarint(b[1:])
		if n <= 0 || uint64(len(b)-1-n) < size {
			return nil, errors.New("truncated section")
		}
		out = append(out, Section{b[0], b[1+n : 1+n+int(size)]})
		b = b[1+n+int(size):]
	}
	return out, nil
}

// Join writes a module of the header of mod and secs.
func Join(mod []byte, secs []Section) []byte {
	out := append([]byte(nil), mod[:8]...)
	for _, s := range secs {
		out = append(out, s.ID)
		out = binary.AppendUvarint(out, uint64(len(s.Body)))
		out = append(out, s.Body...)
	}
	return out
}

// Image is linear memory as a data section initialises it.
type Image struct {
	Mem      []byte
	In       []bool // whether the byte is written by a segment (not a skipped zero)
	Lo       uint64 // the lowest address a segment writes
	Segments int
	Payload  int // bytes of segment data, without the segments' headers
}

// ReadImage reads a data section's body. It accepts what Go's linker
// writes: active segments in memory 0 at i32.const offsets, in any order,
// not overlapping.
func ReadImage(body []byte) (*Image, error) {
	n, k := binary.Uvarint(body)
	if k <= 0 {
		return nil, errors.New("bad data segment count")
	}
	b := body[k:]
	type seg struct {
		off  uint64
		data []byte
	}
	segs := make([]seg, 0, min(n, 1<<20))
	var hi uint64
	for i := uint64(0); i < n; i++ {
		if len(b) < 2 || b[0] != 0 || b[1] != 0x41 {
			return nil, fmt.Errorf("data segment %d is not active at an i32.const offset", i)
		}
		off, k := sleb32(b[2:])
		if k == 0 || len(b) < 3+k || b[2+k] != 0x0b || off < 0 {
			return nil, fmt.Errorf("data segment %d: bad offset", i)
		}
		b = b[3+k:]
		l, k2 := binary.Uvarint(b)
		if k2 <= 0 || uint64(len(b)-k2) < l {
			return nil, fmt.Errorf("data segment %d: truncated", i)
		}
		segs = append(segs, seg{uint64(off), b[k2 : k2+int(l)]})
		hi = max(hi, uint64(off)+l)
		b = b[k2+int(l):]
	}
	if len(b) != 0 {
		return nil, errors.New("bytes after the last data segment")
	}
	if hi > 1<<32 {
		return nil, errors.New("data beyond 4 GiB")
	}
	im := &Image{Mem: make([]byte, hi), In: make([]bool, hi), Lo: hi, Segments: len(segs)}
	for _, s := range segs {
		for i := range s.data {
			if im.In[s.off+uint64(i)] {
				return nil, fmt.Errorf("data segments overlap at %d", s.off+uint64(i))
			}
			im.In[s.off+uint64(i)] = true
		}
		copy(im.Mem[s.off:], s.data)
		im.Lo = min(im.Lo, s.off)
		im.Payload += len(s.data)
	}
	return im, nil
}

// Encode writes the image as a data section's body: one segment for each
// stretch of memory between runs of at least gap zero bytes, which are
// left out (memory starts zeroed); shorter runs are written as zeros.
func (im *Image) Encode(gap int) []byte {
	gap = max(gap, 1)
	type seg struct{ lo, hi int }
	var segs []seg
	mem := im.Mem
	for i := 0; i < len(mem); {
		for i < len(mem) && mem[i] == 0 {
			i++
		}
		if i == len(mem) {
			break
		}
		j := i
		for j < len(mem) {
			if mem[j] != 0 {
				j++
				continue
			}
			z := j
			for z < len(mem) && mem[z] == 0 {
				z++
			}
			if z-j >= gap || z == len(mem) {
				break
			}
			j = z
		}
		segs = append(segs, seg{i, j})
		i = j
	}
	out := binary.AppendUvarint(nil, uint64(len(segs)))
	for _, s := range segs {
		out = append(out, 0, 0x41)
		out = appendSleb32(out, int32(s.lo))
		out = append(out, 0x0b)
		out = binary.AppendUvarint(out, uint64(s.hi-s.lo))
		out = append(out, mem[s.lo:s.hi]...)
	}
	return out
}

// U32 and U64 read little-endian words of memory; past its end they are 0.
func (im *Image) U32(a uint64) uint32 {
	if a+4 > uint64(len(im.Mem)) {
		return 0
	}
	return binary.LittleEndian.Uint32(im.Mem[a:])
}

// U64 reads a little-endian 8-byte word; past the end of memory it is 0.
func (im *Image) U64(a uint64) uint64 {
	if a+8 > uint64(len(im.Mem)) {
		return 0
	}
	return binary.LittleEndian.Uint64(im.Mem[a:])
}

// sleb32 reads a signed LEB128 number of at most 5 bytes; n is 0 if it
// is malformed.
func sleb32(b []byte) (v int32, n int) {
	var x int64
	var shift uint
	for i := 0; i < len(b) && i < 5; i++ {
		c := b[i]
		x |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				x |= -1 << shift
			}
			return int32(x), i + 1
		}
	}
	return 0, 0
}

func appendSleb32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
