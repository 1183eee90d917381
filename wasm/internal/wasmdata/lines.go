package wasmdata

import (
	"encoding/binary"
	"fmt"
)

// The fields of runtime._func (runtime/runtime2.go) that StripLines
// reads and writes, as byte offsets into a function record.
const (
	fnPcsp      = 16
	fnPcfile    = 20
	fnPcln      = 24
	fnNpcdata   = 28
	fnCuOffset  = 32
	fnStartLine = 36
	fnNfuncdata = 43
	fnSize      = 44 // the pcdata offsets follow
)

// StripLines removes the pclntab's file and line tables: every function
// record's pcfile and pcln offsets become 0, which the runtime reads as
// "no table" (runtime.pcvalue), and the bytes of the tables that no
// stack-size (pcsp) or pcdata offset also uses are zeroed, so they leave
// the module. The records' compilation unit (read only to find a file)
// and start line (runtime.Frame.StartLine) become 0 too. Stack traces
// then show function names without file:line ("?:0"); unwinding, the
// GC's stack maps and inlining information are the pcsp and pcdata
// tables and the funcdata, which stay. It returns the table bytes zeroed.
func (im *Image) StripLines(l *Layout) (int, error) {
	pct := l.Pctab
	size := func(off uint32) (int, error) { return tableSize(im.Mem, pct, off) }
	keep := map[uint32]bool{}
	drop := map[uint32]bool{}
	var recs []uint64
	for i := 0; i < l.Nfunc; i++ {
		at := l.Pclntable.Lo + uint64(8*i) + 4 // functab{entryoff, funcoff}
		fa := l.Pclntable.Lo + uint64(im.U32(at))
		if fa+fnSize > l.Pclntable.Hi {
			return 0, fmt.Errorf("pclntab: function record %d out of the table", i)
		}
		npc := uint64(im.U32(fa + fnNpcdata))
		if npc > 64 || im.Mem[fa+fnNfuncdata] > 64 || fa+fnSize+4*npc > l.Pclntable.Hi {
			return 0, fmt.Errorf("pclntab: function record %d does not have the layout this code knows", i)
		}
		offs := []uint32{im.U32(fa + fnPcsp)}
		for j := uint64(0); j < npc; j++ {
			offs = append(offs, im.U32(fa+fnSize+4*j))
		}
		for _, o := range offs {
			keep[o] = true
		}
		drop[im.U32(fa+fnPcfile)] = true
		drop[im.U32(fa+fnPcln)] = true
		recs = append(recs, fa)
	}
	// Sizes first: a table that does not decode within pctab means the
	// layout is not the one this code knows, and nothing is changed.
	sizes := map[uint32]int{}
	for o := range drop {
		if o == 0 || keep[o] {
			continue
		}
		n, err := size(o)
		if err != nil {
			return 0, err
		}
		sizes[o] = n
	}
	kept := make([]bool, pct.Hi-pct.Lo)
	for o := range keep {
		n, err := size(o)
		if err != nil {
			return 0, err
		}
		for j := uint64(0); j < uint64(n); j++ {
			kept[uint64(o)+j] = true
		}
	}
	for o, n := range sizes {
		for j := uint64(0); j < uint64(n); j++ {
			if kept[uint64(o)+j] {
				return 0, fmt.Errorf("pclntab: line table at %d shares bytes with a kept table", o)
			}
		}
	}
	for _, fa := range recs {
		binary.LittleEndian.PutUint32(im.Mem[fa+fnPcfile:], 0)
		binary.LittleEndian.PutUint32(im.Mem[fa+fnPcln:], 0)
		binary.LittleEndian.PutUint32(im.Mem[fa+fnCuOffset:], 0)
		binary.LittleEndian.PutUint32(im.Mem[fa+fnStartLine:], 0)
	}
	zeroed := 0
	for o, n := range sizes {
		clear(im.Mem[pct.Lo+uint64(o) : pct.Lo+uint64(o)+uint64(n)])
		zeroed += n
	}
	return zeroed, nil
}

// tableSize is the length of the pc-value table at off in pctab: pairs of
// a zig-zag value delta and a pc delta, ended by a zero value delta after
// the first pair (runtime.step).
func tableSize(mem []byte, pct Span, off uint32) (int, error) {
	if off == 0 {
		return 0, nil
	}
	lo := pct.Lo + uint64(off)
	if lo >= pct.Hi || pct.Hi > uint64(len(mem)) {
		return 0, fmt.Errorf("pclntab: pc-value table at %d is outside pctab", off)
	}
	p := mem[lo:pct.Hi]
	i := 0
	for first := true; ; first = false {
		v, n := binary.Uvarint(p[i:])
		if n <= 0 {
			return 0, fmt.Errorf("pclntab: pc-value table at %d runs off pctab", off)
		}
		i += n
		if v == 0 && !first {
			return i, nil
		}
		_, n = binary.Uvarint(p[i:])
		if n <= 0 {
			return 0, fmt.Errorf("pclntab: pc-value table at %d runs off pctab", off)
		}
		i += n
	}
}
