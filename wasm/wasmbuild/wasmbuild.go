// Package wasmbuild builds the two WebAssembly modules with the one set
// of flags that make wasm and the freshness test share, so that the
// committed host/connrules.wasm can be rebuilt byte for byte.
package wasmbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Target is one module.
type Target struct {
	Name string
	GOOS string
	Pkg  string
	// Out is where make wasm writes it, relative to the module root.
	Out  string
	Args []string
	// Tags are extra build tags (the page's authoring module: "author").
	Tags string
	// Pack merges the data segments after linking (PackData): both
	// modules, since wazero pays for every segment in each process that
	// starts the wasip1 one. StripLines also drops the pclntab's line
	// tables (StripLines): only the js module, which travels gzipped or
	// brotli'd; for wasip1 it saves 1% of the bytes and no measurable
	// start time, and its panics keep file:line.
	Pack, StripLines bool
}

var (
	// WASI is the reactor that host/ embeds; it is committed.
	WASI = Target{Name: "wasip1", GOOS: "wasip1", Pkg: "./wasm/wasip1", Out: "host/connrules.wasm", Args: []string{"-buildmode=c-shared"}, Pack: true}
	// JS is the browser and Node build; it is not committed.
	JS = Target{Name: "js", GOOS: "js", Pkg: "./wasm/js", Out: "bin/connrules-js.wasm", Pack: true, StripLines: true}
)

// Flags are the build flags of both modules: no file paths, no symbol
// tables, no VCS stamp, so a build depends only on the sources and the
// toolchain.
var Flags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// Command returns the go build command line for t, writing out.
func Command(t Target, out string) []string {
	args := []string{"go", "build"}
	args = append(args, t.Args...)
	if t.Tags != "" {
		args = append(args, "-tags", t.Tags)
	}
	args = append(args, Flags...)
	return append(args, "-o", out, t.Pkg)
}

// Build builds t into out, running in the module root dir.
func Build(ctx context.Context, dir string, t Target, out string) error {
	if !filepath.IsAbs(out) {
		out = filepath.Join(dir, out)
	}
	argv := Command(t, out)
	cmd := exec.CommandContext(ctx, goTool(), argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "GOOS="+t.GOOS, "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=", "GOWASM=", "GOEXPERIMENT=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, b)
	}
	if !t.Pack && !t.StripLines {
		return nil
	}
	mod, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	if t.StripLines {
		mod, err = StripLines(mod, PackGap)
	} else {
		mod, err = PackData(mod, PackGap)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", out, err)
	}
	return os.WriteFile(out, mod, 0o644)
}

// cleanEnv drops the variables that change what go build produces.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOOS", "GOARCH", "CGO_ENABLED", "GOFLAGS", "GOWASM", "GOEXPERIMENT", "GOAMD64":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// goTool is the go command of the toolchain running this code, so that a
// test rebuilds the module with the toolchain it runs under.
func goTool() string {
	for _, root := range []string{os.Getenv("GOROOT"), runtime.GOROOT()} {
		if root == "" {
			continue
		}
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
