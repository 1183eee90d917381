// Package webserve serves the static demo page in web/: plain files, the
// right type for .wasm, brotli or gzip when the browser accepts it, and
// no caching, so a rebuilt module is always picked up. It has no logic of
// the demo's: everything runs in the browser.
package webserve

import (
	"bytes"
	"compress/gzip"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// compressible lists the extensions served gzipped when the client accepts it.
var compressible = map[string]bool{
	".wasm": true, ".js": true, ".css": true, ".html": true,
	".json": true, ".yaml": true, ".svg": true, ".txt": true,
}

func init() {
	// Older mime tables lack these; browsers need application/wasm for
	// WebAssembly.instantiateStreaming.
	_ = mime.AddExtensionType(".wasm", "application/wasm")
	_ = mime.AddExtensionType(".yaml", "text/yaml; charset=utf-8")
	_ = mime.AddExtensionType(".mjs", "text/javascript; charset=utf-8")
}

// Handler serves the files under dir. Directory listings are off; "/"
// serves index.html.
func Handler(dir string) http.Handler {
	return &handler{root: dir, cache: map[string]gzEntry{}}
}

type handler struct {
	root  string
	mu    sync.Mutex
	cache map[string]gzEntry // gzip bodies by path, brotli by "br:"+path; valid while modtime and size match
}

type gzEntry struct {
	mod  time.Time
	size int64
	gz   []byte
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	name := filepath.Join(h.root, filepath.FromSlash(p))
	f, err := os.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		if err == nil {
			// A directory: serve its index.html.
			http.Redirect(w, r, strings.TrimSuffix(r.URL.Path, "/")+"/", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	ext := strings.ToLower(filepath.Ext(name))
	if ct := mime.TypeByExtension(ext); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Vary", "Accept-Encoding")
	if !compressible[ext] || !accepts(r, "gzip") && !accepts(r, "br") {
		http.ServeContent(w, r, name, st.ModTime(), f)
		return
	}
	// Brotli only as a copy the build made (make web): there is no
	// encoder in the standard library.
	if accepts(r, "br") {
		if br, ok := h.precompressed("br:"+p, name+".br", st); ok {
			w.Header().Set("Content-Encoding", "br")
			w.Header().Set("X-Uncompressed-Length", strconv.FormatInt(st.Size(), 10))
			http.ServeContent(w, r, name, st.ModTime(), bytes.NewReader(br))
			return
		}
	}
	if !accepts(r, "gzip") {
		http.ServeContent(w, r, name, st.ModTime(), f)
		return
	}
	gz, err := h.gzipped(p, name, f, st)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	// The uncompressed size, for pages that show download progress.
	w.Header().Set("X-Uncompressed-Length", strconv.FormatInt(st.Size(), 10))
	http.ServeContent(w, r, name, st.ModTime(), bytes.NewReader(gz))
}

// gzipped returns the file's gzip body: name+".gz" when the build made
// one that is at least as new as the file, otherwise the file compressed
// here, once per version.
func (h *handler) gzipped(p, name string, f *os.File, st os.FileInfo) ([]byte, error) {
	if gz, ok := h.precompressed(p, name+".gz", st); ok {
		return gz, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if _, err := io.Copy(zw, f); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	h.cache[p] = gzEntry{mod: st.ModTime(), size: st.Size(), gz: buf.Bytes()}
	return buf.Bytes(), nil
}

// precompressed returns the body of the compressed copy zname of the file
// described by st, cached under key, when the copy is at least as new as
// the file (a stale copy would serve an old module).
func (h *handler) precompressed(key, zname string, st os.FileInfo) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.cache[key]; ok && e.mod.Equal(st.ModTime()) && e.size == st.Size() {
		return e.gz, true
	}
	zst, err := os.Stat(zname)
	if err != nil || zst.ModTime().Before(st.ModTime()) {
		return nil, false
	}
	body, err := os.ReadFile(zname)
	if err != nil {
		return nil, false
	}
	h.cache[key] = gzEntry{mod: st.ModTime(), size: st.Size(), gz: body}
	return body, true
}

// accepts reports whether the request's Accept-Encoding allows enc.
func accepts(r *http.Request, enc string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		e, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(e) == enc && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
