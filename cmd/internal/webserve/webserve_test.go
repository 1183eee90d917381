package webserve_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/connrules/connrules/cmd/internal/webserve"
)

func get(t *testing.T, h http.Handler, path string, gz bool) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip, br")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	wasm := bytes.Repeat([]byte("\x00asm connrules "), 1000)
	for name, body := range map[string][]byte{"index.html": []byte("<!doctype html><title>x</title>"), "m.wasm": wasm} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := webserve.Handler(dir)

	r := get(t, h, "/", false)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("/: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	r = get(t, h, "/m.wasm", true)
	if r.Header.Get("Content-Type") != "application/wasm" || r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("wasm headers: %v", r.Header)
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, wasm) {
		t.Errorf("gzip body differs from the file")
	}
	r = get(t, h, "/m.wasm", false)
	if got, _ := io.ReadAll(r.Body); r.Header.Get("Content-Encoding") != "" || !bytes.Equal(got, wasm) {
		t.Errorf("plain body: encoding %q, %d bytes", r.Header.Get("Content-Encoding"), len(got))
	}
	for _, bad := range []string{"/../webserve.go", "/nope.js", "/%2e%2e/x"} {
		if r := get(t, h, bad, false); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, r.StatusCode)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

// A precompressed sibling made by the build is served as it is.
func TestPrecompressed(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "m.wasm"), []byte("plain"), 0o644)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("from the .gz file"))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "m.wasm.gz"), buf.Bytes(), 0o644)
	r := get(t, webserve.Handler(dir), "/m.wasm", true)
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); string(got) != "from the .gz file" {
		t.Errorf("got %q", got)
	}
}
