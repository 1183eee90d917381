package wasmdata

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// buildProg builds testdata/prog for js/wasm as the page's module is
// built, stripped of its name section.
func buildProg(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "prog.wasm")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./testdata/prog")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	mod, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

func dataImage(t *testing.T, mod []byte) (*Image, []Section, int) {
	t.Helper()
	secs, err := Sections(mod)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range secs {
		if s.ID == 11 {
			im, err := ReadImage(s.Body)
			if err != nil {
				t.Fatal(err)
			}
			return im, secs, i
		}
	}
	t.Fatal("no data section")
	return nil, nil, 0
}

// runNode runs a js/wasm module under Node with Go's wasm_exec_node.js.
func runNode(t *testing.T, mod []byte) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is missing (make setup installs it)")
	}
	p := filepath.Join(t.TempDir(), "m.wasm")
	if err := os.WriteFile(p, mod, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec_node.js"), p).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	return string(out)
}

// The layout read from a real module names the function names and finds
// every region in order; stripping the line tables keeps a module that
// runs (GCs, a recovered panic, its stack trace) and loses only file:line.
func TestLayoutAndStripLines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a wasm module")
	}
	mod := buildProg(t)
	im, secs, di := dataImage(t, mod)
	l, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	if names := im.Mem[l.Funcnametab.Lo:l.Funcnametab.Hi]; !bytes.Contains(names, []byte("main.boom\x00")) {
		t.Errorf("function names lack main.boom")
	}
	rs := l.Regions(im)
	for i := 1; i < len(rs); i++ {
		if rs[i].Lo < rs[i-1].Hi && rs[i].Name != "typelinks" {
			t.Errorf("%s at %d starts before %s ends at %d", rs[i].Name, rs[i].Lo, rs[i-1].Name, rs[i-1].Hi)
		}
	}

	want := runNode(t, mod)
	if !strings.Contains(want, "caller main.go:") || !strings.Contains(want, "in main.boom: true") {
		t.Fatalf("unexpected output of the module as built:\n%s", want)
	}

	zeroed, err := im.StripLines(l)
	if err != nil {
		t.Fatal(err)
	}
	if zeroed < 10000 {
		t.Errorf("zeroed %d bytes of line tables, want more than 10000", zeroed)
	}
	for i := 0; i < l.Nfunc; i++ {
		fa := l.Pclntable.Lo + uint64(im.U32(l.Pclntable.Lo+uint64(8*i)+4))
		if im.U32(fa+fnPcfile) != 0 || im.U32(fa+fnPcln) != 0 || im.U32(fa+fnCuOffset) != 0 || im.U32(fa+fnStartLine) != 0 {
			t.Fatalf("function %d keeps a line table", i)
		}
	}
	secs[di].Body = im.Encode(256)
	stripped := Join(mod, secs)
	if len(stripped) >= len(mod)+len(mod)/4 {
		t.Errorf("stripped module is %d bytes, the original %d", len(stripped), len(mod))
	}
	got := runNode(t, stripped)
	// Everything but the line the program prints for runtime.Caller.
	cut := func(s string) string { return s[:strings.Index(s, "caller ")] }
	if cut(got) != cut(want) || !strings.Contains(got, "caller ?:0") {
		t.Errorf("stripped module printed\n%s\nthe original\n%s", got, want)
	}

	// The rewritten image reads back to the same memory.
	again, _, _ := dataImage(t, stripped)
	if !bytes.Equal(bytes.TrimRight(again.Mem, "\x00"), bytes.TrimRight(im.Mem, "\x00")) {
		t.Error("the encoded image reads back different")
	}
}

func TestEncodeGaps(t *testing.T) {
	im := &Image{Mem: []byte{0, 0, 1, 2, 0, 0, 3, 0, 0, 0, 0, 4, 0, 0}}
	cases := []struct{ gap, segs int }{{1, 3}, {2, 3}, {3, 2}, {4, 2}, {5, 1}, {100, 1}}
	for _, c := range cases {
		body := im.Encode(c.gap)
		back, err := ReadImage(body)
		if err != nil {
			t.Fatal(err)
		}
		if back.Segments != c.segs {
			t.Errorf("gap %d: %d segments, want %d", c.gap, back.Segments, c.segs)
		}
		if !bytes.Equal(back.Mem, im.Mem[:12]) {
			t.Errorf("gap %d: memory %v", c.gap, back.Mem)
		}
	}
}

func TestReadImageRejects(t *testing.T) {
	seg := func(off byte, data ...byte) []byte {
		return append([]byte{0, 0x41, off, 0x0b, byte(len(data))}, data...)
	}
	cases := map[string][]byte{
		"empty":     {},
		"passive":   {1, 1, 1, 7},
		"overlap":   append(append([]byte{2}, seg(0, 1, 2, 3)...), seg(2, 9)...),
		"truncated": append([]byte{1}, seg(0, 1, 2, 3)[:6]...),
		"trailing":  append(append([]byte{1}, seg(0, 1)...), 0),
		"negative":  {1, 0, 0x41, 0x7f, 0x0b, 1, 1},
	}
	for name, body := range cases {
		if _, err := ReadImage(body); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
}

func TestTableSize(t *testing.T) {
	// Two pairs, then the end: value deltas 2 and 4 (zig-zag), pc deltas 1 and 3.
	pct := []byte{0xff, 2, 1, 4, 3, 0}
	if n, err := tableSize(pct, Span{0, uint64(len(pct))}, 1); n != 5 || err != nil {
		t.Errorf("tableSize = %d, %v; want 5", n, err)
	}
	if _, err := tableSize(pct[:4], Span{0, 4}, 1); err == nil {
		t.Error("a table running off pctab has a size")
	}
}
