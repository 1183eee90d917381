// Command build builds the WebAssembly modules: host/connrules.wasm
// (wasip1, committed) and bin/connrules-js.wasm (js). make wasm runs it
// from the module root.
//
//	go run ./wasm/build          # both
//	go run ./wasm/build wasip1   # one
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/connrules/connrules/wasm/wasmbuild"
)

func main() {
	targets := []wasmbuild.Target{wasmbuild.WASI, wasmbuild.JS}
	if len(os.Args) > 1 {
		targets = nil
		for _, name := range os.Args[1:] {
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
	for _, t := range targets {
		if err := wasmbuild.Build(context.Background(), ".", t, t.Out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		st, _ := os.Stat(t.Out)
		fmt.Printf("%s: %s (%d bytes)\n", t.Name, t.Out, st.Size())
	}
}
