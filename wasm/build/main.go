// Command build builds the WebAssembly modules: host/connrules.wasm
// (wasip1, committed) and bin/connrules-js.wasm (js). make wasm and make
// web run it from the module root.
//
//	go run ./wasm/build                                  # both
//	go run ./wasm/build wasip1                           # one
//	go run ./wasm/build -o web/connrules.wasm js         # elsewhere
//	go run ./wasm/build -tags author -br -o web/connrules-author.wasm js
//
// The data of both is rewritten after linking (wasip1: wasmbuild.PackData,
// js: wasmbuild.StripLines); the flags are wasmbuild's for every target. -br also writes OUT.br,
// brotli at quality 11, which connrules-serve sends to browsers that
// accept it (make web; the gzip copy is made by gzip -9).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/andybalholm/brotli"

	"github.com/connrules/connrules/wasm/wasmbuild"
)

func main() {
	out := flag.String("o", "", "output file (one target only)")
	tags := flag.String("tags", "", "extra build tags")
	br := flag.Bool("br", false, "also write OUT.br, brotli -q 11")
	flag.Parse()
	targets := []wasmbuild.Target{wasmbuild.WASI, wasmbuild.JS}
	if flag.NArg() > 0 {
		targets = nil
		for _, name := range flag.Args() {
			switch name {
			case wasmbuild.WASI.Name:
				targets = append(targets, wasmbuild.WASI)
			case wasmbuild.JS.Name:
				targets = append(targets, wasmbuild.JS)
			default:
				fmt.Fprintf(os.Stderr, "build: unknown target %q (want wasip1 or js)\n", name)
				os.Exit(2)
			}
		}
	}
	if *out != "" && len(targets) != 1 {
		fmt.Fprintln(os.Stderr, "build: -o takes one target")
		os.Exit(2)
	}
	for _, t := range targets {
		t.Tags = *tags
		if *out != "" {
			t.Out = *out
		}
		if err := wasmbuild.Build(context.Background(), ".", t, t.Out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		st, _ := os.Stat(t.Out)
		fmt.Printf("%s: %s (%d bytes)\n", t.Name, t.Out, st.Size())
		if *br {
			n, err := writeBrotli(t.Out)
			if err != nil {
				fmt.Fprintln(os.Stderr, "build:", err)
				os.Exit(1)
			}
			fmt.Printf("%s: %s.br (%d bytes)\n", t.Name, t.Out, n)
		}
	}
}

// writeBrotli writes name.br, the file compressed at brotli's best
// quality: the output depends only on the input, so builds stay
// reproducible.
func writeBrotli(name string) (int, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	var out bytes.Buffer
	w := brotli.NewWriterLevel(&out, brotli.BestCompression)
	if _, err := w.Write(b); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return out.Len(), os.WriteFile(name+".br", out.Bytes(), 0o644)
}
