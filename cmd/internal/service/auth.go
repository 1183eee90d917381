package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scopes of API keys.
const (
	// ScopeApp is the platform's backend: it acts for the member it names
	// and sees only what that member may see.
	ScopeApp = "app"
	// ScopeOperator also sees reasons, rules, traces, the event log, the
	// policy status and the metrics.
	ScopeOperator = "operator"
)

// Key is one configured API key. Only the SHA-256 of the secret is kept.
type Key struct {
	Name  string `yaml:"name"`
	Scope string `yaml:"scope"`
	// Hash is "sha256:" and the hex digest of the key.
	Hash string `yaml:"hash"`
}

// FileConfig is the --config file (serve.yaml).
type FileConfig struct {
	Keys []Key `yaml:"keys"`
	// DecisionLog is a file to append one JSON line per decision to; "-"
	// is stderr; empty is none.
	DecisionLog string `yaml:"decision_log"`
	// LogNotes and LogEmails turn off the masking of invitation notes and
	// email addresses in the decision log.
	LogNotes  bool `yaml:"log_notes"`
	LogEmails bool `yaml:"log_emails"`
	// MaxBodyBytes bounds a request body; 0 is 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// LoadFileConfig reads and checks a serve.yaml.
func LoadFileConfig(path string) (FileConfig, error) {
	var fc FileConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return fc, err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil {
		return fc, fmt.Errorf("%s: %w", path, err)
	}
	for i, k := range fc.Keys {
		if k.Scope != ScopeApp && k.Scope != ScopeOperator {
			return fc, fmt.Errorf("%s: keys[%d] (%s): scope %q is not app or operator", path, i, k.Name, k.Scope)
		}
		if _, ok := parseHash(k.Hash); !ok {
			return fc, fmt.Errorf("%s: keys[%d] (%s): hash must be sha256: and 64 hex digits", path, i, k.Name)
		}
	}
	return fc, nil
}

// HashKey is the form a key is stored in: "sha256:<hex>".
func HashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// NewKey returns a random key with its scope as a prefix, e.g. "crk_app_...".
func NewKey(scope string) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "crk_" + scope + "_" + hex.EncodeToString(b)
}

func parseHash(h string) ([32]byte, bool) {
	var out [32]byte
	hexs, ok := strings.CutPrefix(h, "sha256:")
	if !ok || len(hexs) != 64 {
		return out, false
	}
	b, err := hex.DecodeString(hexs)
	if err != nil {
		return out, false
	}
	copy(out[:], b)
	return out, true
}

type keyEntry struct {
	name, scope string
	sum         [32]byte
}

// keyring checks bearer keys. Every configured key is compared, in
// constant time, so the answer's timing does not depend on which keys
// exist or how much of one matched.
type keyring []keyEntry

func newKeyring(keys []Key) keyring {
	var kr keyring
	for _, k := range keys {
		sum, _ := parseHash(k.Hash)
		kr = append(kr, keyEntry{name: k.Name, scope: k.Scope, sum: sum})
	}
	return kr
}

// identity is who a request is from.
type identity struct {
	name  string
	scope string
}

func (id identity) operator() bool { return id.scope == ScopeOperator }

// authenticate returns the identity of the request's bearer key.
func (kr keyring) authenticate(r *http.Request) (identity, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return identity{}, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	var found identity
	match := 0
	for _, k := range kr {
		eq := subtle.ConstantTimeCompare(sum[:], k.sum[:])
		if eq == 1 {
			found = identity{name: k.name, scope: k.scope}
		}
		match |= eq
	}
	return found, match == 1
}

type idKey struct{}

func withIdentity(ctx context.Context, id identity) context.Context {
	return context.WithValue(ctx, idKey{}, id)
}

func identityOf(ctx context.Context) identity {
	id, _ := ctx.Value(idKey{}).(identity)
	return id
}
