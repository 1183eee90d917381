// Command connrules-serve serves the browser demo in web/ on localhost.
// The page does all its work in the browser, so a static file server is
// all it needs.
//
//	go run ./cmd/connrules-serve -addr 127.0.0.1:8080 web
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/connrules/connrules/cmd/internal/webserve"
)

const defaultAddr = "127.0.0.1:8080"

func main() {
	addr := flag.String("addr", defaultAddr, "address to listen on; port 0 picks a free one")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: connrules-serve [-addr host:port] [dir]")
		flag.PrintDefaults()
	}
	flag.Parse()
	dir := "web"
	if flag.NArg() > 0 {
		dir = flag.Arg(0)
	}
	if err := run(*addr, dir); err != nil {
		fmt.Fprintln(os.Stderr, "connrules-serve:", err)
		os.Exit(1)
	}
}

func run(addr, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		return fmt.Errorf("%s has no index.html: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "connrules.wasm")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "connrules-serve: warning: %s/connrules.wasm is missing; run make demo\n", dir)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil && addr == defaultAddr {
		// The usual port is taken: any free one will do.
		fmt.Fprintf(os.Stderr, "connrules-serve: %v; using a free port\n", err)
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return err
	}
	fmt.Printf("connrules demo: http://%s/\n", ln.Addr())
	srv := &http.Server{Handler: webserve.Handler(dir), ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}
