package service

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// fuzzTargets are the endpoints that read a JSON body.
var fuzzTargets = []struct{ method, path string }{
	{"POST", "/v1/decide"},
	{"POST", "/v1/decide/batch"},
	{"POST", "/v1/explain"},
	{"PUT", "/v1/members/fuzz"},
	{"POST", "/v1/members/alice/invitations"},
	{"POST", "/v1/members/alice/contacts"},
	{"POST", "/v1/clock"},
}

// FuzzJSONEndpoints sends arbitrary bodies to every JSON endpoint with
// both scopes: never a 5xx (so never a panic, which would be a 503), and
// a decide endpoint answers 200 only for facts the engine's own decoder
// accepts: garbage is never allowed.
//
//	go test ./cmd/internal/service -run '^$' -fuzz FuzzJSONEndpoints -fuzztime 10m
func FuzzJSONEndpoints(f *testing.F) {
	valid, _ := json.Marshal(facts())
	for _, seed := range []string{string(valid), "[" + string(valid) + "]", `{"to":"bob","note":"hi"}`, `{"email":"bob@example.test"}`,
		`{"tier":"premium","settings":{"invitations":"mutual"}}`, `{"emails":["a@b.c"]}`, `{"advance":"1h"}`, "", "null", "[]", "{}",
		`{"stage":"invite","now":"2026-01-01T00:00:00Z","sender":null}`, `[[[[[[]]]]]]`, `{"now":1e999}`, "\xff\xfe"} {
		for i := range fuzzTargets {
			f.Add(uint8(i), false, []byte(seed))
		}
	}
	clock := lifecycle.NewManualClock(time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC))
	s := newTestServer(f, Config{Policy: testPolicy(f), Clock: clock,
		Keys: []Key{{Name: "op", Scope: ScopeOperator, Hash: HashKey(testOperatorKey)}, {Name: "app", Scope: ScopeApp, Hash: HashKey(testAppKey)}}})
	h := s.Handler()
	for _, id := range []string{"alice", "bob"} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("PUT", "/v1/members/"+id, strings.NewReader(`{"email":"`+id+`@example.test"}`))
		req.Header.Set("Authorization", "Bearer "+testOperatorKey)
		h.ServeHTTP(w, req)
	}
	f.Fuzz(func(t *testing.T, target uint8, asApp bool, body []byte) {
		tg := fuzzTargets[int(target)%len(fuzzTargets)]
		key := testOperatorKey
		if asApp {
			key = testAppKey
		}
		w := httptest.NewRecorder()
		req := httptest.NewRequest(tg.method, tg.path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", tg.method, tg.path, w.Code, w.Body.Bytes())
		}
		if w.Header().Get("X-Request-Id") == "" {
			t.Fatal("no request id")
		}
		if w.Code == http.StatusCreated {
			return // a member created from a valid body
		}
		if w.Code != http.StatusOK {
			if ct := w.Header().Get("Content-Type"); w.Code != 403 && ct != "application/problem+json" {
				t.Fatalf("%d with %s", w.Code, ct)
			}
			return
		}
		switch tg.path {
		case "/v1/decide", "/v1/explain":
			if _, err := rules.DecodeRequest(body); err != nil {
				t.Fatalf("200 for facts the engine rejects (%v): %s", err, w.Body.Bytes())
			}
		case "/v1/decide/batch":
			var raws []json.RawMessage
			if err := json.Unmarshal(body, &raws); err != nil {
				t.Fatalf("200 for a batch that is not an array: %s", w.Body.Bytes())
			}
			for _, r := range raws {
				if _, err := rules.DecodeRequest(r); err != nil {
					t.Fatalf("200 for a batch with bad facts (%v)", err)
				}
			}
		}
	})
}
