package wasmbuild

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/connrules/connrules/wasm/internal/wasmdata"
)

type segment struct {
	off  uint32
	data []byte
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

// module is a wasm header, a custom section and a data section of segs.
func module(segs []segment) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = appendSection(m, 0, append([]byte{4}, "name"...))
	return appendSection(m, 11, encodeSegments(segs))
}

// image is the memory the module's data segments initialise.
func image(t *testing.T, mod []byte) ([]byte, int) {
	t.Helper()
	b := mod[8:]
	for len(b) > 0 {
		size, n := binary.Uvarint(b[1:])
		body := b[1+n : 1+n+int(size)]
		if b[0] == 11 {
			im, err := wasmdata.ReadImage(body)
			if err != nil {
				t.Fatal(err)
			}
			mem := make([]byte, 64)
			copy(mem, im.Mem)
			return mem, im.Segments
		}
		b = b[1+n+int(size):]
	}
	t.Fatal("no data section")
	return nil, 0
}

func TestPackDataMergesShortGaps(t *testing.T) {
	in := module([]segment{
		{40, []byte{9, 9}},       // out of order, as Go's linker writes its module data
		{1, []byte{1, 2}},        // gap of 2 to the next: merged
		{5, []byte{3}},           // gap of 14: kept
		{20, []byte{4, 5, 6, 7}}, // gap of 16 to 40: kept
	})
	cases := []struct {
		gap, segs int
	}{
		{1, 4}, {3, 3}, {15, 2}, {17, 1}, {PackGap, 1},
	}
	want, _ := image(t, in)
	for _, c := range cases {
		out, err := PackData(in, c.gap)
		if err != nil {
			t.Fatal(err)
		}
		got, n := image(t, out)
		if !bytes.Equal(got, want) {
			t.Errorf("gap %d: memory %v, want %v", c.gap, got, want)
		}
		if n != c.segs {
			t.Errorf("gap %d: %d segments, want %d", c.gap, n, c.segs)
		}
		if !bytes.Equal(out[:8+7], in[:8+7]) {
			t.Errorf("gap %d: the sections before data changed", c.gap)
		}
	}
}

func TestPackDataRejects(t *testing.T) {
	overlap := module([]segment{{0, []byte{1, 2, 3}}, {2, []byte{4}}})
	passive := append([]byte("\x00asm\x01\x00\x00\x00"), 11, 4, 1, 1, 1, 7)
	datacount := appendSection([]byte("\x00asm\x01\x00\x00\x00"), 12, []byte{0})
	truncated := module([]segment{{0, []byte{1, 2, 3}}})
	truncated = truncated[:len(truncated)-1]
	nodata := appendSection([]byte("\x00asm\x01\x00\x00\x00"), 0, []byte{0})
	for name, mod := range map[string][]byte{
		"not wasm": []byte("hello, world"), "overlap": overlap, "passive": passive,
		"datacount": datacount, "truncated": truncated, "no data": nodata,
	} {
		if _, err := PackData(mod, PackGap); err == nil {
			t.Errorf("%s: packed without an error", name)
		}
	}
}
