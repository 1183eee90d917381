package host

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cacheFiles lists the files under dir with their sizes and times.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			out = append(out, fmt.Sprint(p, " ", info.Size(), " ", info.ModTime()))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// decideOnce is what a new process does: New, Load, one decision.
func decideOnce(t *testing.T, opts ...Option) {
	t.Helper()
	ctx := context.Background()
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(ctx, append(opts, WithPoolSize(1))...)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if err := e.Load(ctx, "policies.yaml", src); err != nil {
		t.Fatal(err)
	}
	if d, err := e.Decide(ctx, benchRequest()); err != nil || d.Outcome != "allow" {
		t.Fatalf("%+v %v", d, err)
	}
}

// TestDefaultCompilationCache: New fills the per-user cache directory,
// and a second process starts from it without compiling again (it adds
// and rewrites nothing there).
func TestDefaultCompilationCache(t *testing.T) {
	if os.Getenv("CONNRULES_CACHE_CHILD") == "1" {
		decideOnce(t)
		return
	}
	if testing.Short() {
		t.Skip("compiles the module twice")
	}
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	dir := DefaultCacheDir()
	if !strings.HasPrefix(dir, filepath.Join(home, "connrules", "wazero-")) {
		t.Fatalf("DefaultCacheDir() = %q, want it under %s", dir, home)
	}
	decideOnce(t)
	first := cacheFiles(t, dir)
	if len(first) == 0 {
		t.Fatalf("New left the cache directory %s empty", dir)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDefaultCompilationCache$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CONNRULES_CACHE_CHILD=1", "XDG_CACHE_HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("second process: %v\n%s", err, out)
	}
	if second := cacheFiles(t, dir); !slices.Equal(first, second) {
		t.Errorf("the second process changed the cache:\nbefore %q\nafter  %q", first, second)
	}
}

// TestCompilationCacheOptions: WithoutCompilationCache writes nothing,
// and a default directory that cannot be created means no cache, not an
// error.
func TestCompilationCacheOptions(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the module")
	}
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	var c config
	WithoutCompilationCache()(&c)
	c.resolveCache()
	if c.cacheDir != "" {
		t.Errorf("WithoutCompilationCache: cache dir %q", c.cacheDir)
	}
	c = config{}
	WithCompilationCache("/somewhere")(&c)
	c.resolveCache()
	if c.cacheDir != "/somewhere" {
		t.Errorf("WithCompilationCache: cache dir %q", c.cacheDir)
	}
	// A file where the directory should be: New must still work.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", blocker)
	c = config{}
	c.resolveCache()
	if c.cacheDir != "" {
		t.Errorf("uncreatable default: cache dir %q, want none", c.cacheDir)
	}
	decideOnce(t) // without a cache: shares the process's uncached module
	t.Setenv("XDG_CACHE_HOME", home)
	decideOnce(t, WithoutCompilationCache())
	if files := cacheFiles(t, home); len(files) != 0 {
		t.Errorf("WithoutCompilationCache wrote %q", files)
	}
}
