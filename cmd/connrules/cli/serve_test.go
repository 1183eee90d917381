package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("keys:\n  - {name: x, scope: admin, hash: \"sha256:00\"}\n"), 0o644)
	broken, err := filepath.Abs("testdata/broken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// serve opens its default store, sqlite:connrules.db, in the working
	// directory: keep it out of the source tree.
	t.Chdir(dir)
	cases := []struct {
		name   string
		args   []string
		exit   int
		stdout string
		stderr string
	}{
		{"new key", []string{"serve", "--new-key", "app"}, exitOK, "scope: app\n    hash: sha256:", ""},
		{"new key bad scope", []string{"serve", "--new-key", "root"}, exitUsage, "", "--new-key wants app or operator"},
		{"bad engine", []string{"serve", "--addr", "127.0.0.1:0", "--engine", "jit"}, exitFail, "", `unknown engine "jit"`},
		{"bad store", []string{"serve", "--addr", "127.0.0.1:0", "--store", "redis://x"}, exitFail, "", "want memory:"},
		{"bad config", []string{"serve", "--addr", "127.0.0.1:0", "--config", bad}, exitFail, "", `scope "admin" is not app or operator`},
		{"no keys off loopback", []string{"serve", "--addr", "0.0.0.0:0"}, exitUsage, "", "no API keys configured"},
		{"bad policy", []string{"serve", "--addr", "127.0.0.1:0", "--policy", broken}, exitFail, "", "testdata/broken.yaml:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(c.args, strings.NewReader(""), &out, &errb)
			if code != c.exit || !strings.Contains(out.String(), c.stdout) || !strings.Contains(errb.String(), c.stderr) {
				t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
			}
		})
	}
}
