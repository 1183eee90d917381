package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connrules/connrules/internal/pgtest"
)

// TestSimulateStoresAgree runs every shipped scenario on MemStore, SQLite
// and PostgreSQL: the output and the event log must be byte-identical.
func TestSimulateStoresAgree(t *testing.T) {
	files, err := filepath.Glob("../../../examples/scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	pg := os.Getenv(pgtest.EnvURL) != "" || os.Getenv("CI") == "true"
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			dir := t.TempDir()
			run := func(store string) (string, []byte) {
				events := filepath.Join(dir, "events.jsonl")
				os.Remove(events)
				code, out, errb := runCLI("simulate", "--store", store, "--events", events, f)
				if code != exitOK {
					t.Fatalf("--store %s: exit %d\n%s%s", store, code, out, errb)
				}
				log, err := os.ReadFile(events)
				if err != nil {
					t.Fatal(err)
				}
				return out, log
			}
			wantOut, wantLog := run("memory:")
			stores := []string{"sqlite:" + filepath.Join(dir, "state.db")}
			if pg {
				stores = append(stores, pgtest.URL(t))
			}
			for _, st := range stores {
				out, log := run(st)
				if out != wantOut {
					t.Errorf("--store %s: output differs from memory:'s:\n%s\nwant\n%s", st, out, wantOut)
				}
				if !bytes.Equal(log, wantLog) {
					t.Errorf("--store %s: event log differs from memory:'s:\n%s", st, firstDiff(log, wantLog))
				}
			}
		})
	}
}

func firstDiff(got, want []byte) string {
	gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range min(len(gl), len(wl)) {
		if !bytes.Equal(gl[i], wl[i]) {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, gl[i], wl[i])
		}
	}
	return "lengths differ"
}

func TestSimulateStoreErrors(t *testing.T) {
	dir := t.TempDir()
	scen := "../../../examples/scenarios/already_pending.yaml"
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--store", "redis://x", scen}, exitFail, `store "redis://x": want memory:, sqlite:PATH or postgres://...`},
		{[]string{"--store", "sqlite:/nonexistent/dir/x.db", scen}, exitFail, "sqlite: cannot open /nonexistent/dir/x.db"},
		{[]string{"--store", "sqlite:" + filepath.Join(dir, "a.db"), scen, scen}, exitUsage, "give one scenario file"},
	} {
		code, _, errb := runCLI(append([]string{"simulate"}, c.args...)...)
		if code != c.code || !strings.Contains(errb, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errb, c.code, c.want)
		}
	}
	// A used database is refused: a scenario starts from an empty network.
	db := "sqlite:" + filepath.Join(dir, "used.db")
	if code, out, errb := runCLI("simulate", "--store", db, scen); code != exitOK {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errb)
	}
	if code, _, errb := runCLI("simulate", "--store", db, scen); code != exitFail || !strings.Contains(errb, "a scenario runs on an empty store") {
		t.Fatalf("second run: exit %d, stderr %q", code, errb)
	}
}
