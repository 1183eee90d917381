package wasmbuild

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// PackGap is the shortest run of zero bytes that PackData keeps as a gap
// between two data segments; shorter runs are written out as zeros.
//
// Go's linker starts a new data segment at every run of 8 zeros, which
// gave the page's module ~98,000 segments whose headers (offset, length)
// were ~0.8 MB raw and ~180 KB after gzip, since their offsets do not
// repeat. Zeros compress to almost nothing, so merging across short runs
// trades ~1 MB of raw zeros for that: 2.42 → 2.24 MB gzip. Past 64 the
// gap barely matters (RATIONALE.md, "Why repack the js module's data").
const PackGap = 256

// PackData rewrites a module's data section so that segments closer than
// gap bytes become one, the zeros between them written out. Memory starts
// with the same bytes; every other section is copied unchanged. It only
// accepts what Go's linker writes: active segments in memory 0 at
// i32.const offsets that do not overlap.
func PackData(mod []byte, gap int) ([]byte, error) {
	if len(mod) < 8 || string(mod[:4]) != "\x00asm" {
		return nil, errors.New("pack: not a wasm module")
	}
	out := append([]byte(nil), mod[:8]...)
	b := mod[8:]
	for len(b) > 0 {
		id := b[0]
		size, n := binary.Uvarint(b[1:])
		if n <= 0 || uint64(len(b)-1-n) < size {
			return nil, errors.New("pack: truncated section")
		}
		body := b[1+n : 1+n+int(size)]
		b = b[1+n+int(size):]
		switch id {
		case 11: // data
			segs, err := dataSegments(body)
			if err != nil {
				return nil, err
			}
			segs = mergeSegments(segs, gap)
			out = appendSection(out, 11, encodeSegments(segs))
			continue
		case 12: // datacount: there is no count to keep it in step with
			return nil, errors.New("pack: module has a datacount section")
		}
		out = appendSection(out, id, body)
	}
	return out, nil
}

// segment is one active data segment: bytes placed at off.
type segment struct {
	off  uint32
	data []byte
}

func dataSegments(b []byte) ([]segment, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errors.New("pack: bad data count")
	}
	b = b[k:]
	segs := make([]segment, 0, n)
	for i := uint64(0); i < n; i++ {
		// flags 0 (active, memory 0), i32.const <sleb offset>, end
		if len(b) < 2 || b[0] != 0 || b[1] != 0x41 {
			return nil, fmt.Errorf("pack: data segment %d is not active at an i32.const offset", i)
		}
		off, k := sleb32(b[2:])
		if k <= 0 || len(b) < 2+k+1 || b[2+k] != 0x0b {
			return nil, fmt.Errorf("pack: data segment %d: bad offset", i)
		}
		b = b[2+k+1:]
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return nil, fmt.Errorf("pack: data segment %d: truncated", i)
		}
		if off < 0 || uint64(off)+l > 1<<32 {
			return nil, fmt.Errorf("pack: data segment %d: offset out of range", i)
		}
		segs = append(segs, segment{uint32(off), b[k : k+int(l)]})
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, errors.New("pack: bytes after the last data segment")
	}
	// The linker writes its sections in its own order (the module data
	// comes before the pclntab it follows in memory).
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].off < segs[j].off })
	for i := 1; i < len(segs); i++ {
		if uint64(segs[i].off) < uint64(segs[i-1].off)+uint64(len(segs[i-1].data)) {
			return nil, fmt.Errorf("pack: data segments at %d and %d overlap", segs[i-1].off, segs[i].off)
		}
	}
	return segs, nil
}

// mergeSegments joins neighbours whose gap is shorter than gap bytes.
func mergeSegments(segs []segment, gap int) []segment {
	var out []segment
	for _, s := range segs {
		if len(out) > 0 {
			last := &out[len(out)-1]
			end := last.off + uint32(len(last.data))
			if int(s.off-end) < gap {
				// A fresh slice: last.data may alias the input module.
				joined := make([]byte, 0, int(s.off-last.off)+len(s.data))
				joined = append(joined, last.data...)
				joined = append(joined, make([]byte, s.off-end)...)
				last.data = append(joined, s.data...)
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

func encodeSegments(segs []segment) []byte {
	b := binary.AppendUvarint(nil, uint64(len(segs)))
	for _, s := range segs {
		b = append(b, 0, 0x41)
		b = appendSleb32(b, int32(s.off))
		b = append(b, 0x0b)
		b = binary.AppendUvarint(b, uint64(len(s.data)))
		b = append(b, s.data...)
	}
	return b
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = binary.AppendUvarint(out, uint64(len(body)))
	return append(out, body...)
}

// sleb32 reads a signed LEB128 number of at most 5 bytes.
func sleb32(b []byte) (int32, int) {
	var v int64
	var shift uint
	for i := 0; i < len(b) && i < 5; i++ {
		c := b[i]
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return int32(v), i + 1
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
