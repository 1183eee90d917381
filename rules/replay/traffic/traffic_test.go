package traffic

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/connrules/connrules/rules"
)

func loadFixtures(t testing.TB) (*rules.Policy, Network) {
	t.Helper()
	src, err := os.ReadFile("../../../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := rules.Load("policies.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../../../web/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	var nw Network
	if err := json.Unmarshal(raw, &nw); err != nil {
		t.Fatal(err)
	}
	return p, nw
}

func TestGenerateIsDeterministic(t *testing.T) {
	p, nw := loadFixtures(t)
	var a, b bytes.Buffer
	cfg := Config{Policy: p, Network: nw, Seed: 7, Members: 40, Weeks: 1}
	sa, err := Generate(context.Background(), cfg, &a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), cfg, &b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two runs with the same seed differ")
	}
	if sa.Events != bytes.Count(a.Bytes(), []byte("\n")) {
		t.Fatalf("stats say %d events, the log has %d lines", sa.Events, bytes.Count(a.Bytes(), []byte("\n")))
	}
	t.Logf("%+v, %d bytes", sa, a.Len())
}
