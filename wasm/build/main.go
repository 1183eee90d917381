// Command build builds the WebAssembly modules: host/connrules.wasm
// (wasip1, committed) and bin/connrules-js.wasm (js). make wasm and make
// web run it from the module root.
//
//	go run ./wasm/build                                  # both
//	go run ./wasm/build wasip1                           # one
//	go run ./wasm/build -o web/connrules.wasm js         # elsewhere
//	go run ./wasm/build -tags author -o web/connrules-author.wasm js
//
// The js module's data segments are merged after linking (see
// wasmbuild.PackData); the flags are wasmbuild's for every target.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/connrules/connrules/wasm/wasmbuild"
)

func main() {
	out := flag.String("o", "", "output file (one target only)")
	tags := flag.String("tags", "", "extra build tags")
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
	}
}
