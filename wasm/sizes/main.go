// Command sizes breaks a Go WebAssembly module down by section, its code
// by Go package and its data by the linker's sections, to see what the
// browser build carries:
//
//	GOOS=js GOARCH=wasm go build -trimpath -o /tmp/c.wasm ./wasm/js
//	go run ./wasm/sizes [-n 30] /tmp/c.wasm
//
// The code breakdown needs a build without -ldflags='-s -w', so that the
// module keeps its name section (the function names); `go tool nm` does
// not read wasm files. Names are the linker's: "/" and "-" become "_".
// The data breakdown (data.go) reads Go's moduledata and works on any
// build, the shipped web/connrules.wasm too: type descriptors, names and
// strings; time/tzdata's zip; the pclntab's function names, pc-value
// tables, function records and funcdata; noptrdata and data. Each row
// gives raw bytes and the bytes of that part gzipped -9 on its own: what
// a cut saves on the wire is nearer the second (wasm-opt cut 0.9 MB of
// raw code and no gzip bytes).
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	n := flag.Int("n", 30, "packages to list")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sizes [-n N] module.wasm")
		os.Exit(2)
	}
	b, err := os.ReadFile(flag.Arg(0))
	if err == nil {
		w := bufio.NewWriter(os.Stdout)
		err = report(w, b, *n)
		w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sizes:", err)
		os.Exit(1)
	}
}

type section struct {
	id   byte
	name string // a custom section's name
	body []byte
}

// uleb reads an unsigned LEB128 number.
func uleb(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, errors.New("bad LEB128")
	}
	return v, b[n:], nil
}

func sections(b []byte) ([]section, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, errors.New("not a wasm module")
	}
	b = b[8:]
	var out []section
	for len(b) > 0 {
		id := b[0]
		size, rest, err := uleb(b[1:])
		if err != nil || uint64(len(rest)) < size {
			return nil, errors.New("truncated section")
		}
		s := section{id: id, body: rest[:size]}
		if id == 0 {
			l, r, err := uleb(s.body)
			if err != nil || uint64(len(r)) < l {
				return nil, errors.New("bad custom section")
			}
			s.name = string(r[:l])
		}
		out = append(out, s)
		b = rest[size:]
	}
	return out, nil
}

var sectionNames = []string{"custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"}

// imports counts the imported functions, which come first in the index space.
func imports(body []byte) (int, error) {
	n, b, err := uleb(body)
	if err != nil {
		return 0, err
	}
	funcs := 0
	for i := uint64(0); i < n; i++ {
		for j := 0; j < 2; j++ { // module and field names
			l, r, err := uleb(b)
			if err != nil {
				return 0, err
			}
			b = r[l:]
		}
		kind := b[0]
		b = b[1:]
		switch kind {
		case 0: // function: type index
			funcs++
			_, b, _ = uleb(b)
		case 1: // table: elemtype, limits
			b = b[1:]
			b = limits(b)
		case 2: // memory
			b = limits(b)
		case 3: // global: valtype, mut
			b = b[2:]
		}
	}
	return funcs, nil
}

func limits(b []byte) []byte {
	flag := b[0]
	_, b, _ = uleb(b[1:])
	if flag&1 != 0 {
		_, b, _ = uleb(b)
	}
	return b
}

// pkgOf is the Go package of a symbol in the name section, where the
// linker writes "/" and "-" as "_": "github.com_expr_lang_expr_vm.(*VM).Run"
// is package github.com_expr_lang_expr_vm. A module path's domain keeps
// its dot, so the cut is at the first dot after the domain.
func pkgOf(sym string) string {
	from := 0
	for _, d := range []string{"github.com_", "gopkg.in_", "golang.org_"} {
		if strings.HasPrefix(sym, d) {
			from = len(d)
		}
	}
	if j := strings.Index(sym[from:], "."); j >= 0 {
		return sym[:from+j]
	}
	return sym
}

func report(w io.Writer, b []byte, top int) error {
	secs, err := sections(b)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "module: %d bytes\n", len(b))
	var code, names []byte
	nimp := 0
	for _, s := range secs {
		label := "?"
		if int(s.id) < len(sectionNames) {
			label = sectionNames[s.id]
		}
		if s.id == 0 {
			label += " " + s.name
		}
		fmt.Fprintf(w, "  section %-18s %9d bytes  %8d gz\n", label, len(s.body), gzSize(s.body))
		switch {
		case s.id == 2:
			if nimp, err = imports(s.body); err != nil {
				return err
			}
		case s.id == 10:
			code = s.body
		case s.id == 0 && s.name == "name":
			names = s.body[1+len(s.name):]
		}
	}
	for _, s := range secs {
		if s.id == 11 {
			if err := reportData(w, s.body); err != nil {
				return err
			}
		}
	}
	if names == nil {
		fmt.Fprintln(w, "no name section: build without -ldflags='-s -w' for the breakdown by package")
		return nil
	}
	fn := map[int]string{}
	for len(names) > 0 {
		id := names[0]
		size, r, err := uleb(names[1:])
		if err != nil {
			return err
		}
		sub := r[:size]
		names = r[size:]
		if id != 1 {
			continue
		}
		cnt, sub, _ := uleb(sub)
		for i := uint64(0); i < cnt; i++ {
			var idx, l uint64
			idx, sub, _ = uleb(sub)
			l, sub, _ = uleb(sub)
			fn[int(idx)] = string(sub[:l])
			sub = sub[l:]
		}
	}
	cnt, code, err := uleb(code)
	if err != nil {
		return err
	}
	bypkg := map[string][]byte{}
	total := 0
	for i := 0; i < int(cnt); i++ {
		size, r, err := uleb(code)
		if err != nil {
			return err
		}
		p := pkgOf(fn[nimp+i])
		bypkg[p] = append(bypkg[p], r[:size]...)
		total += int(size)
		code = r[size:]
	}
	type row struct {
		pkg      string
		size, gz int
	}
	var rows []row
	for p, b := range bypkg {
		rows = append(rows, row{p, len(b), 0})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].size > rows[j].size })
	fmt.Fprintf(w, "code by package (%d functions, %d bytes; gz = the package's bodies gzipped -9 alone):\n", cnt, total)
	rest, restGz := 0, 0
	for i, r := range rows {
		gz := gzSize(bypkg[r.pkg])
		if i >= top {
			rest += r.size
			restGz += gz
			continue
		}
		fmt.Fprintf(w, "  %9d %5.1f%% %8d gz  %s\n", r.size, 100*float64(r.size)/float64(total), gz, r.pkg)
	}
	if rest > 0 {
		fmt.Fprintf(w, "  %9d %5.1f%% %8d gz  %d more packages\n", rest, 100*float64(rest)/float64(total), restGz, len(rows)-top)
	}
	return nil
}
