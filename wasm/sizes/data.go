package main

import (
	"compress/gzip"
	"fmt"
	"io"

	"github.com/connrules/connrules/wasm/internal/wasmdata"
)

// reportData writes the data section's breakdown by the linker's
// sections, which wasmdata finds through Go's moduledata.
func reportData(w io.Writer, body []byte) error {
	im, err := wasmdata.ReadImage(body)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "data by linker section (%d segments; raw = bytes in the module, gz = that part gzipped -9 alone):\n", im.Segments)
	fmt.Fprintf(w, "  %9d %8s  segment headers (offset and length of each segment)\n", len(body)-im.Payload, "")
	l, err := im.Layout()
	if err != nil {
		fmt.Fprintln(w, "  (not broken down:", err.Error()+")")
		return nil
	}
	for _, r := range l.Regions(im) {
		b := im.Bytes(r.Span)
		fmt.Fprintf(w, "  %9d %8d  %s\n", len(b), gzSize(b), r.Name)
	}
	return nil
}

// gzSize is the size of b gzipped at level 9.
func gzSize(b []byte) int {
	var n countWriter
	zw, _ := gzip.NewWriterLevel(&n, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return int(n)
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
