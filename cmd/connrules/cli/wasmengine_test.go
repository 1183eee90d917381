package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestWasmEngineMatchesNative runs decide and test through --engine wasm
// and expects exactly the native output.
func TestWasmEngineMatchesNative(t *testing.T) {
	t.Setenv("CONNRULES_WASM_CACHE", t.TempDir())
	for _, args := range [][]string{
		{"decide", "--policy", "../../../policies.yaml", "--explain", "../../../examples/requests/blocked.json"},
		{"decide", "--policy", "../../../policies.yaml", "--public", "../../../examples/requests/daily_limit.json"},
		{"decide", "--policy", "../../../policies.yaml", "-"},
		{"test", "-v", "../../../policies.yaml"},
	} {
		stdin := `[{"stage":"deliver","now":"2026-03-02T10:00:00-08:00","note":"click here","sender":{"id":"a","kind":"person","tier":"free","status":"active"},"recipient":{"id":"b","kind":"person","tier":"free","status":"active"},"pair":{"degree":2}},
		           {"stage":"accept","now":"2026-03-02T10:00:00-08:00","sender":{"id":"a","kind":"person","tier":"free","status":"active"},"recipient":{"id":"b","kind":"person","tier":"free","status":"active","connections":500}}]`
		run := func(engine string) (string, string, int) {
			var out, errb bytes.Buffer
			code := Run(append(append([]string{}, args...), "--engine", engine), strings.NewReader(stdin), &out, &errb)
			return out.String(), errb.String(), code
		}
		nout, nerr, ncode := run("native")
		wout, werr, wcode := run("wasm")
		if ncode != 0 || wcode != 0 || nout != wout || nerr != werr {
			t.Errorf("%v:\nnative exit %d:\n%s%s\nwasm exit %d:\n%s%s", args, ncode, nout, nerr, wcode, wout, werr)
		}
	}
}

func TestWasmEngineReportsPolicyErrors(t *testing.T) {
	t.Setenv("CONNRULES_WASM_CACHE", t.TempDir())
	var out, errb bytes.Buffer
	if code := Run([]string{"test", "--engine", "wasm", "testdata/broken.yaml"}, strings.NewReader(""), &out, &errb); code != exitFail {
		t.Errorf("exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(errb.String(), "testdata/broken.yaml:11:22") {
		t.Errorf("stderr lacks the position:\n%s", errb.String())
	}
}
