package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The report of a real module names its sections, the linker's data
// sections and, for a build with names, its packages.
func TestReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	out := filepath.Join(t.TempDir(), "prog.wasm")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-o", out, "../internal/wasmdata/testdata/prog")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	mod, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := report(&sb, mod, 5); err != nil {
		t.Fatal(err)
	}
	got := sb.String()
	for _, want := range []string{
		"section code", "section data", "section custom name",
		"segment headers", "read-only data: time/tzdata zip", "pclntab: function names",
		"pclntab: pc-value tables", "noptrdata", "code by package", "  runtime\n", "more packages",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}

func TestPkgOf(t *testing.T) {
	for sym, want := range map[string]string{
		"github.com_expr_lang_expr_vm.(*VM).Run":    "github.com_expr_lang_expr_vm",
		"gopkg.in_yaml_2ev3.(*parser).parse":        "gopkg.in_yaml_2ev3",
		"runtime.mallocgc":                          "runtime",
		"github.com_connrules_connrules_rules.Load": "github.com_connrules_connrules_rules",
		"type:.eq.[2]interface {}":                  "type:",
	} {
		if got := pkgOf(sym); got != want {
			t.Errorf("pkgOf(%q) = %q, want %q", sym, got, want)
		}
	}
}
