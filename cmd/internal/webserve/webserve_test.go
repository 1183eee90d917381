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
	"time"

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

// A brotli copy made by the build goes to browsers that accept br, as long
// as it is not older than the file; others get gzip.
func TestBrotliCopy(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "m.wasm")
	os.WriteFile(plain, []byte("plain"), 0o644)
	os.WriteFile(plain+".br", []byte("brotli bytes"), 0o644)
	h := webserve.Handler(dir)
	cases := []struct {
		accept, enc, body string
	}{
		{"gzip, deflate, br, zstd", "br", "brotli bytes"},
		{"br;q=0, gzip", "gzip", "plain"},
		{"gzip", "gzip", "plain"},
		{"br", "br", "brotli bytes"},
		{"", "", "plain"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, "/m.wasm", nil)
		req.Header.Set("Accept-Encoding", c.accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if enc := rec.Header().Get("Content-Encoding"); enc != c.enc {
			t.Errorf("%q: Content-Encoding %q, want %q", c.accept, enc, c.enc)
			continue
		}
		if c.enc == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		if string(body) != c.body {
			t.Errorf("%q: body %q, want %q", c.accept, body, c.body)
		}
		if c.enc != "" && rec.Header().Get("X-Uncompressed-Length") != "5" {
			t.Errorf("%q: X-Uncompressed-Length %q", c.accept, rec.Header().Get("X-Uncompressed-Length"))
		}
	}

	// A module rebuilt after its brotli copy: the stale copy is not sent.
	later := time.Now().Add(time.Hour)
	os.WriteFile(plain, []byte("rebuilt"), 0o644)
	os.Chtimes(plain, later, later)
	r := get(t, h, "/m.wasm", true) // accepts gzip, br
	if enc := r.Header.Get("Content-Encoding"); enc != "gzip" {
		t.Errorf("stale .br: Content-Encoding %q, want gzip", enc)
	}
}
