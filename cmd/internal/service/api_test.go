package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// facts is the policy's test_defaults as a decide request; opts change it.
func facts(opts ...func(m)) m {
	member := func(id string) m {
		return m{"id": id, "kind": "person", "tier": "free", "status": "active", "connections": 1, "company": "", "school": "",
			"sent": m{"hour": 0, "day": 0, "week": 0, "month": 0}, "received": m{"hour": 0, "day": 0, "week": 0, "month": 0},
			"over_limit": 0, "acceptance_rate": 0.5, "settings": m{"invitations": "everyone"}}
	}
	f := m{"stage": "invite", "now": testStart, "note": "", "sender": member("alice"), "recipient": member("bob"),
		"pair": m{"degree": 2, "mutual": 3}}
	for _, o := range opts {
		o(f)
	}
	return f
}

// stripVolatile drops what differs between any two answers: the request
// id (header and problem body) and the date.
var ridRE = regexp.MustCompile(`"request_id":"[0-9a-f]+"`)

func comparable(r resp) string {
	var keys []string
	for k := range r.header {
		if k != "X-Request-Id" && k != "Date" {
			keys = append(keys, k+": "+strings.Join(r.header[k], ","))
		}
	}
	sort.Strings(keys)
	return fmt.Sprintf("%d\n%s\n%s", r.status, strings.Join(keys, "\n"), ridRE.ReplaceAll(r.body, []byte(`"request_id":""`)))
}

// TestE2EPrivacy: for each private denial, what an app key gets (status,
// headers but the request id and date, body) is byte-identical to the
// generic denial's, through /v1/decide and through the lifecycle.
func TestE2EPrivacy(t *testing.T) {
	s := start(t)
	// The generic denial: facts the engine cannot decide (an unknown
	// tier) fail closed with the generic message.
	base := s.do("POST", "/v1/decide", testAppKey, facts(func(f m) { f["sender"].(m)["tier"] = "platinum" }))
	if want := `{"outcome":"deny","message":"` + generic + `"}` + "\n"; string(base.body) != want {
		t.Fatalf("generic denial: %s", base.body)
	}
	cases := map[string]func(m){
		"blocked":                    func(f m) { f["pair"].(m)["blocked"] = true },
		"recipient_settings":         func(f m) { f["recipient"].(m)["settings"].(m)["invitations"] = "contacts_only" },
		"recipient_connection_limit": func(f m) { f["recipient"].(m)["connections"] = 3 },
	}
	for reason, opt := range cases {
		op := s.do("POST", "/v1/decide", testOperatorKey, facts(opt))
		if !strings.Contains(string(op.body), `"reason":"`+reason+`"`) {
			t.Fatalf("%s: the operator sees %s", reason, op.body)
		}
		if got := s.do("POST", "/v1/decide", testAppKey, facts(opt)); comparable(got) != comparable(base) {
			t.Errorf("%s: app answer differs from the generic denial:\n%s\nvs\n%s", reason, comparable(got), comparable(base))
		}
		batch := s.do("POST", "/v1/decide/batch", testAppKey, []m{facts(opt)})
		if want := "[" + strings.TrimSpace(string(base.body)) + "]\n"; string(batch.body) != want {
			t.Errorf("%s in a batch: %s", reason, batch.body)
		}
	}

	// Through the lifecycle: a block, the recipient's settings, the
	// recipient's connection cap; against each other and the generic body.
	s.putMember("alice", nil)
	s.putMember("blocker", nil)
	s.putMember("picky", m{"settings": m{"invitations": "contacts_only"}})
	s.putMember("full", nil)
	for i := 1; i <= 3; i++ {
		f := fmt.Sprintf("f%d", i)
		s.putMember(f, nil)
		v := s.invite(f, "full", "")
		id := v["invitation"].(m)["id"].(string)
		if r := s.do("POST", "/v1/members/full/invitations/"+id+"/accept", testAppKey, nil); r.status != 200 {
			t.Fatal(string(r.body))
		}
	}
	s.do("PUT", "/v1/members/blocker/blocks/alice", testAppKey, nil)
	var answers []resp
	for _, to := range []string{"blocker", "picky", "full"} {
		answers = append(answers, s.do("POST", "/v1/members/alice/invitations", testAppKey, m{"email": to + "@example.test"}))
	}
	want := `{"decision":{"outcome":"deny","message":"` + generic + `"}}` + "\n"
	for i, a := range answers {
		if string(a.body) != want || comparable(a) != comparable(answers[0]) {
			t.Errorf("lifecycle private denial %d: %s", i, comparable(a))
		}
	}
	// Nothing else tells alice: her member record, meter and lists are
	// those of a member nobody blocked.
	if r := s.do("GET", "/v1/members/alice/invitations/sent", testAppKey, nil); string(r.body) != "{\"invitations\":[],\"next\":0}\n" {
		t.Errorf("alice's sent list: %s", r.body)
	}

	// A soft-banned sender's invitation reads exactly like a sent one
	// (but for its id and time), and the recipient never sees it.
	s.putMember("sb", m{"status": "soft_banned"})
	s.putMember("ok", nil)
	s.putMember("target", nil)
	shadow := s.do("POST", "/v1/members/sb/invitations", testAppKey, m{"email": "target@example.test"})
	sent := s.do("POST", "/v1/members/ok/invitations", testAppKey, m{"email": "target@example.test"})
	idRE := regexp.MustCompile(`"id":"[^"]*"`)
	if a, b := idRE.ReplaceAllString(comparable(shadow), ""), idRE.ReplaceAllString(comparable(sent), ""); a != b {
		t.Errorf("shadowed vs sent:\n%s\nvs\n%s", a, b)
	}
	if got := s.list("target", "received"); len(got) != 1 || got[0].(m)["from"] != "ok" {
		t.Errorf("target's received list: %v", got)
	}
	if got := s.list("sb", "sent"); len(got) != 1 || got[0].(m)["status"] != "pending" {
		t.Errorf("sb's sent list: %v", got)
	}
}

func TestE2EAuthScopes(t *testing.T) {
	s := start(t)
	none := s.do("GET", "/v1/policy", "", nil)
	wrong := s.do("GET", "/v1/policy", "not-a-key", nil)
	appOnOp := s.do("GET", "/v1/policy", testAppKey, nil)
	if none.status != 401 || wrong.status != 401 || appOnOp.status != 403 {
		t.Fatalf("statuses: none %d, wrong %d, app on operator %d", none.status, wrong.status, appOnOp.status)
	}
	// A wrong key and no key read the same: nothing says which keys exist.
	if comparable(none) != comparable(wrong) {
		t.Errorf("no key vs wrong key:\n%s\nvs\n%s", comparable(none), comparable(wrong))
	}
	for _, path := range []string{"/v1/events", "/metrics"} {
		if r := s.do("GET", path, testAppKey, nil); r.status != 403 {
			t.Errorf("app key on %s: %d", path, r.status)
		}
	}
	if r := s.do("POST", "/v1/explain", testAppKey, facts()); r.status != 403 {
		t.Errorf("app key on explain: %d", r.status)
	}
	// The operator sees reasons and traces; the app only outcome and message.
	op := s.do("POST", "/v1/explain", testOperatorKey, facts())
	if op.status != 200 || !strings.Contains(string(op.body), `"trace":[`) {
		t.Fatalf("explain: %d %s", op.status, op.body)
	}
	app := s.do("POST", "/v1/decide", testAppKey, facts())
	if string(app.body) != `{"outcome":"allow","message":"Invitation sent."}`+"\n" {
		t.Fatalf("app decide: %s", app.body)
	}
	// Public endpoints need no key.
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json"} {
		if r := s.do("GET", p, "", nil); r.status != 200 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	st := s.do("GET", "/v1/policy", testOperatorKey, nil)
	if !strings.Contains(string(st.body), `"name":"linkedin-default"`) || !strings.Contains(string(st.body), `"hash":"sha256:`) {
		t.Fatalf("policy status: %s", st.body)
	}
	met := s.do("GET", "/metrics", testOperatorKey, nil)
	for _, series := range []string{`connrules_decisions_total{outcome="allow",reason="sent",stage="invite"} 2`, "connrules_http_request_duration_seconds_bucket", "connrules_http_in_flight_requests 1", "connrules_policy_reloads_total"} {
		if !strings.Contains(string(met.body), series) {
			t.Errorf("metrics lack %s", series)
		}
	}
	// An app key never sees a soft ban in the member record.
	s.putMember("sb", m{"status": "soft_banned"})
	if r := s.do("GET", "/v1/members/sb", testAppKey, nil); !strings.Contains(string(r.body), `"status":"active"`) {
		t.Errorf("app view of a soft-banned member: %s", r.body)
	}
}

func TestE2EBadInput(t *testing.T) {
	s := start(t)
	s.putMember("alice", nil)
	big := bytes.Repeat([]byte(" "), 2<<20)
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	wrap := func(f m) string { b, _ := json.Marshal(f); return string(b) }
	cases := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"unknown field", "POST", "/v1/decide", wrap(facts(func(f m) { f["bogus"] = 1 })), 400, "bogus"},
		{"nested unknown field", "POST", "/v1/decide", wrap(facts(func(f m) { f["sender"].(m)["sent"].(m)["year"] = 1 })), 400, "sender.sent.year"},
		{"trailing data", "POST", "/v1/decide", wrap(facts()) + " {}", 400, ""},
		{"wrong type", "POST", "/v1/decide", wrap(facts(func(f m) { f["pair"].(m)["degree"] = "two" })), 400, "pair.degree"},
		{"bad enum", "POST", "/v1/decide", wrap(facts(func(f m) { f["sender"].(m)["status"] = "happy" })), 400, "sender.status"},
		{"missing now", "POST", "/v1/decide", wrap(facts(func(f m) { delete(f, "now") })), 400, "now"},
		{"batch element", "POST", "/v1/decide/batch", "[" + wrap(facts()) + "," + wrap(facts(func(f m) { f["stage"] = "x" })) + "]", 400, "[1].stage"},
		{"garbage", "POST", "/v1/decide", "not json", 400, ""},
		{"empty", "POST", "/v1/decide", "", 400, ""},
		{"too deep", "POST", "/v1/decide/batch", deep, 400, ""},
		{"too large", "POST", "/v1/decide", wrap(facts()) + string(big), 413, ""},
		{"member unknown field", "PUT", "/v1/members/bob", `{"tier":"free","settings":{"invitations":"everyone","colour":1}}`, 400, "settings.colour"},
		{"member bad tier", "PUT", "/v1/members/bob", `{"tier":"gold"}`, 400, "tier"},
		{"member bad settings", "PUT", "/v1/members/bob", `{"settings":{"invitations":"friends"}}`, 400, "settings.invitations"},
		{"invite neither", "POST", "/v1/members/alice/invitations", `{"note":"hi"}`, 400, "to"},
		{"invite both", "POST", "/v1/members/alice/invitations", `{"to":"bob","email":"b@x.y"}`, 400, "to"},
		{"bad limit", "GET", "/v1/members/alice/invitations/sent?limit=0", "", 400, "limit"},
		{"bad after", "GET", "/v1/events?after=-1", "", 400, "after"},
		{"id with a space", "GET", "/v1/members/a%20b", "", 400, "member"},
		{"unknown sender", "POST", "/v1/members/nobody/invitations", `{"to":"alice"}`, 404, ""},
		{"unknown invitation", "POST", "/v1/members/alice/invitations/inv-999/accept", "", 404, ""},
		{"no such endpoint", "GET", "/v1/nothing", "", 404, ""},
		{"wrong method", "GET", "/v1/decide", "", 405, ""},
	}
	for _, c := range cases {
		var body any
		if c.body != "" {
			body = c.body
		}
		r := s.do(c.method, c.path, testOperatorKey, body)
		if r.status != c.status || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d problem+json", c.name, r.status, r.body, c.status)
			continue
		}
		var p Problem
		r.json(t, &p)
		if p.Field != c.field || p.Status != c.status || p.RequestID != r.header.Get("X-Request-Id") {
			t.Errorf("%s: problem %+v, want field %q", c.name, p, c.field)
		}
	}
}

// TestE2EHotReloadUnderLoad: decisions keep flowing while the policy file
// is edited, broken and fixed; every answer is a 200, the new policy is
// in force after each good edit, and a bad edit is reported and ignored.
func TestE2EHotReloadUnderLoad(t *testing.T) {
	s := start(t)
	var stop atomic.Bool
	var total, bad atomic.Int64
	var wg sync.WaitGroup
	body, _ := json.Marshal(facts())
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r, err := doReq(s.url, "POST", "/v1/decide", testOperatorKey, body)
				total.Add(1)
				if err != nil || r.status != 200 || !bytes.Contains(r.body, []byte(`"outcome":"allow"`)) {
					bad.Add(1)
				}
			}
		}()
	}
	status := func() PolicyStatus {
		var st PolicyStatus
		s.do("GET", "/v1/policy", testOperatorKey, nil).json(t, &st)
		return st
	}
	waitFor := func(what string, ok func(PolicyStatus) bool) PolicyStatus {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if st := status(); ok(st) {
				return st
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s: %+v", what, status())
		return PolicyStatus{}
	}
	src := testPolicy(t)
	for i := 1; i <= 3; i++ {
		next := bytes.Replace(src, []byte("name: linkedin-default"), []byte(fmt.Sprintf("name: reloaded-%d", i)), 1)
		if err := os.WriteFile(s.policy, next, 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor("the new policy", func(st PolicyStatus) bool { return st.Hash == policyHash(next) && st.LastError == "" })
	}
	good := status()
	if err := os.WriteFile(s.policy, []byte("name: broken\nstages: {invite: {rules: [{id: x, when: 'nope ==', outcome: deny}]}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := waitFor("the error", func(st PolicyStatus) bool { return st.LastError != "" })
	if st.Hash != good.Hash || st.Name != "reloaded-3" || st.LastErrorAt.IsZero() {
		t.Fatalf("after a bad edit: %+v", st)
	}
	if err := os.WriteFile(s.policy, src, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("the fix", func(st PolicyStatus) bool { return st.Hash == policyHash(src) && st.LastError == "" })
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 || total.Load() < 10 {
		t.Fatalf("%d of %d decisions under reload were not a 200 allow", bad.Load(), total.Load())
	}
	if st := status(); st.Reloads != 4 {
		t.Errorf("reloads: %d, want 4", st.Reloads)
	}
}

// TestE2EWasmEngine: the same answers on wazero.
func TestE2EWasmEngine(t *testing.T) {
	s := start(t, "--engine", "wasm")
	for _, opt := range []func(m){func(m) {}, func(f m) { f["pair"].(m)["blocked"] = true }} {
		op := s.do("POST", "/v1/decide", testOperatorKey, facts(opt))
		var d m
		op.json(t, &d)
		if op.status != 200 || d["outcome"] == nil {
			t.Fatalf("wasm decide: %d %s", op.status, op.body)
		}
	}
	s.putMember("alice", nil)
	s.putMember("bob", nil)
	if v := s.invite("alice", "bob", ""); outcome(v) != "allow" {
		t.Fatalf("wasm invite: %v", v)
	}
	if st := s.do("GET", "/v1/policy", testOperatorKey, nil); !strings.Contains(string(st.body), `"engine":"wasm"`) {
		t.Fatalf("status: %s", st.body)
	}
	// A reload reaches the module (the operator's view is its decision)
	// and the native policy (the app's view is its Public).
	next := bytes.Replace(testPolicy(t), []byte(generic), []byte("Not now."), 1)
	next = bytes.Replace(next, []byte("Blocked (either side)."), []byte("Blocked, reloaded."), 1)
	if err := os.WriteFile(s.policy, next, 0o644); err != nil {
		t.Fatal(err)
	}
	blocked := facts(func(f m) { f["pair"].(m)["blocked"] = true })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r := s.do("POST", "/v1/decide", testAppKey, blocked)
		if string(r.body) == `{"outcome":"deny","message":"Not now."}`+"\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the wasm engine did not reload: %s", r.body)
		}
	}
	op := s.do("POST", "/v1/decide", testOperatorKey, blocked)
	if !strings.Contains(string(op.body), `"message":"Blocked, reloaded."`) {
		t.Fatalf("operator view after reload on wasm: %s", op.body)
	}
}

var _ = http.StatusOK
