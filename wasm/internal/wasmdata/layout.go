package wasmdata

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// pclnMagic is abi.Go120PCLnTabMagic, the pclntab header of Go 1.20 on.
const pclnMagic = 0xfffffff1

// moduledata's fields, in 8-byte words (runtime/symtab.go); a slice is
// three words: pointer, length, capacity.
const (
	mdFuncnametab = 1
	mdCutab       = 4
	mdFiletab     = 7
	mdPctab       = 10
	mdPclntable   = 13
	mdNoptrdata   = 24
	mdData        = 26
	mdTypes       = 37
	mdGofunc      = 40
	mdEpclntab    = 41
	mdTypelinks   = 45
	mdItablinks   = 48
	mdWords       = 51
)

// Span is [Lo, Hi) in memory.
type Span struct{ Lo, Hi uint64 }

// Region is a named span.
type Region struct {
	Name string
	Span
}

// Layout is where the linker put its sections, read from moduledata.
type Layout struct {
	ModuleData, PcHeader uint64
	Nfunc                int
	ReadOnly             Span // types, names, strings, GC masks, other read-only data
	Funcnametab, Cutab   Span
	Filetab, Pctab       Span
	Pclntable, Funcdata  Span
	Typelinks, Itablinks Span
	Noptrdata, Data      Span
}

// Layout finds moduledata and checks that its spans are in the order
// and sizes this package knows.
func (im *Image) Layout() (*Layout, error) {
	var pch uint64
	found := false
	for a := im.Lo &^ 7; a+8 <= uint64(len(im.Mem)); a += 8 {
		m := im.Mem[a:]
		if binary.LittleEndian.Uint32(m) == pclnMagic && m[4] == 0 && m[5] == 0 && m[7] == 8 {
			pch, found = a, true
			break
		}
	}
	if !found {
		return nil, errors.New("no Go 1.20+ pclntab header in the data")
	}
	var md uint64
	for a := pch + 8; a+8*mdWords <= uint64(len(im.Mem)); a += 8 {
		if im.U64(a) == pch {
			md = a
			break
		}
	}
	if md == 0 {
		return nil, errors.New("no moduledata pointing at the pclntab header")
	}
	f := func(i int) uint64 { return im.U64(md + 8*uint64(i)) }
	sl := func(i int, elem uint64) Span { return Span{f(i), f(i) + elem*f(i+1)} }
	l := &Layout{
		ModuleData:  md,
		PcHeader:    pch,
		Nfunc:       int(im.U64(pch + 8)),
		ReadOnly:    Span{f(mdTypes), pch},
		Funcnametab: sl(mdFuncnametab, 1),
		Cutab:       sl(mdCutab, 4),
		Filetab:     sl(mdFiletab, 1),
		Pctab:       sl(mdPctab, 1),
		Pclntable:   sl(mdPclntable, 1),
		Funcdata:    Span{f(mdGofunc), f(mdEpclntab)},
		Typelinks:   sl(mdTypelinks, 4),
		Itablinks:   sl(mdItablinks, 8),
		Noptrdata:   Span{f(mdNoptrdata), f(mdNoptrdata + 1)},
		Data:        Span{f(mdData), f(mdData + 1)},
	}
	rs := l.Regions(im)
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Lo < rs[j].Lo })
	for i, r := range rs {
		if r.Hi < r.Lo || r.Hi > 1<<32 || i > 0 && r.Lo < rs[i-1].Hi {
			return nil, fmt.Errorf("moduledata at %d does not have the layout this code knows (%s: %d..%d)", md, r.Name, r.Lo, r.Hi)
		}
	}
	if l.Nfunc <= 0 || uint64(8*(l.Nfunc+1)) > l.Pclntable.Hi-l.Pclntable.Lo {
		return nil, fmt.Errorf("pclntab: %d functions do not fit its function table", l.Nfunc)
	}
	return l, nil
}

// Regions names the layout's spans in memory order, the read-only data
// split around time/tzdata's zip when there is one.
func (l *Layout) Regions(im *Image) []Region {
	var rs []Region
	ro := l.ReadOnly
	if z := zipIn(im.Mem[ro.Lo:min(ro.Hi, uint64(len(im.Mem)))]); z.Hi > 0 {
		rs = append(rs,
			Region{"read-only data: types, names, strings", Span{ro.Lo, ro.Lo + z.Lo}},
			Region{"read-only data: time/tzdata zip", Span{ro.Lo + z.Lo, ro.Lo + z.Hi}},
			Region{"read-only data: GC masks, other", Span{ro.Lo + z.Hi, ro.Hi}})
	} else {
		rs = append(rs, Region{"read-only data", ro})
	}
	return append(rs,
		Region{"pclntab: header", Span{l.PcHeader, l.Funcnametab.Lo}},
		Region{"pclntab: function names", l.Funcnametab},
		Region{"pclntab: compilation units", l.Cutab},
		Region{"pclntab: file names", l.Filetab},
		Region{"pclntab: pc-value tables", l.Pctab},
		Region{"pclntab: function records", l.Pclntable},
		Region{"pclntab: funcdata (stack maps...)", l.Funcdata},
		Region{"typelinks", l.Typelinks},
		Region{"itablinks", l.Itablinks},
		Region{"moduledata", Span{l.ModuleData, l.ModuleData + 8*mdWords}},
		Region{"noptrdata", l.Noptrdata},
		Region{"data", l.Data},
	)
}

// zipIn finds the zip archive time/tzdata embeds as a string: from its
// first local header to the end of its end-of-central-directory record.
func zipIn(b []byte) Span {
	start := bytes.Index(b, []byte("PK\x03\x04"))
	end := bytes.LastIndex(b, []byte("PK\x05\x06"))
	if start < 0 || end < start || end+22 > len(b) {
		return Span{}
	}
	comment := int(binary.LittleEndian.Uint16(b[end+20:]))
	return Span{uint64(start), uint64(min(end+22+comment, len(b)))}
}

// Bytes returns the bytes of s that segments write, in order.
func (im *Image) Bytes(s Span) []byte {
	var out []byte
	for a := s.Lo; a < min(s.Hi, uint64(len(im.Mem))); a++ {
		if im.In[a] {
			out = append(out, im.Mem[a])
		}
	}
	return out
}
