package service

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
)

func newTestServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Policy == nil && cfg.PolicyFile == "" {
		cfg.Policy = DefaultPolicy()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestOpenAPIIsFresh: the committed openapi.json is what the route table
// generates. Run with -update after changing a route or a type.
func TestOpenAPIIsFresh(t *testing.T) {
	s := newTestServer(t, Config{})
	if *updateDoc {
		if err := os.WriteFile("openapi.json", s.openapi, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, s.openapi) {
		t.Fatal("openapi.json is stale: run go test ./cmd/internal/service -run TestOpenAPIIsFresh -update")
	}
	if err := loadAPI(); err != nil {
		t.Fatal(err)
	}
	// Every documented response schema compiles.
	for p, ops := range apiDoc["paths"].(map[string]any) {
		for method := range ops.(map[string]any) {
			for code, r := range ops.(map[string]any)[method].(map[string]any)["responses"].(map[string]any) {
				for media := range r.(map[string]any)["content"].(map[string]any) {
					loc := "https://connrules.test/openapi.json#/paths/" + pointerEscape(p) + "/" + method +
						"/responses/" + code + "/content/" + pointerEscape(media) + "/schema"
					if _, err := apiComp.Compile(loc); err != nil {
						t.Errorf("%s %s %s: %v", method, p, code, err)
					}
				}
			}
		}
	}
}

// TestDefaultPolicyIsFresh: the embedded default is the repository's
// policies.yaml.
func TestDefaultPolicyIsFresh(t *testing.T) {
	want, err := os.ReadFile("../../../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, DefaultPolicy()) {
		t.Fatal("default_policies.yaml differs from policies.yaml: cp policies.yaml cmd/internal/service/default_policies.yaml")
	}
}
