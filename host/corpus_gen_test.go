package host_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/connrules/connrules/rules"
)

// This file makes testdata/corpus/cases.jsonl when the tests run with
// -update. The cases come from the policy's own tests (each decided and
// explained), from variations on the tests' default request that reach
// every rule and stage, from malformed requests, and from a policy whose
// rules fail at run time.

type corpusCase struct {
	Name    string          `json:"name"`
	Policy  string          `json:"policy"`
	Explain bool            `json:"explain,omitempty"`
	Request json.RawMessage `json:"request,omitempty"`
	// Raw is a request that is not valid JSON, as text.
	Raw *string `json:"raw,omitempty"`
}

func (c corpusCase) bytes() []byte {
	if c.Raw != nil {
		return []byte(*c.Raw)
	}
	return c.Request
}

// obj is a request under construction.
type obj = map[string]any

// with returns a deep copy of base with dotted paths set; a nil value
// deletes the key.
func with(base obj, kv ...any) obj {
	out := deepCopy(base).(obj)
	for i := 0; i+1 < len(kv); i += 2 {
		path := strings.Split(kv[i].(string), ".")
		m := out
		for _, k := range path[:len(path)-1] {
			next, ok := m[k].(obj)
			if !ok {
				next = obj{}
				m[k] = next
			}
			m = next
		}
		last := path[len(path)-1]
		if kv[i+1] == deleteKey {
			delete(m, last)
		} else {
			m[last] = kv[i+1]
		}
	}
	return out
}

type deleteMarker struct{}

var deleteKey = deleteMarker{}

func deepCopy(v any) any {
	switch x := v.(type) {
	case obj:
		out := maps.Clone(x)
		for k, e := range out {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

func generateCases(t *testing.T, p *rules.Policy) []corpusCase {
	var cases []corpusCase
	add := func(name, policy string, explain bool, req any) {
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, corpusCase{Name: name, Policy: policy, Explain: explain, Request: b})
	}
	raw := func(name string, explain bool, s string) {
		cases = append(cases, corpusCase{Name: name, Policy: "policies.yaml", Explain: explain, Raw: &s})
	}

	// 1. The policy's own tests, decided and explained.
	names, reqs := p.TestRequests()
	var base obj
	for i, n := range names {
		var r obj
		if err := json.Unmarshal(reqs[i], &r); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			base = r
		}
		add("test/"+n, "policies.yaml", false, r)
		add("test/"+n+" (explain)", "policies.yaml", true, r)
	}

	// 2. Variations that reach every rule, stage and boundary.
	type v struct {
		name    string
		explain bool
		kv      []any
	}
	const pol = "policies.yaml"
	vars := []v{
		{"invite/plain in UTC", false, []any{"now", "2026-03-02T18:00:00Z"}},
		{"invite/plain at +05:30 with nanoseconds", true, []any{"now", "2026-03-02T23:30:00.123456789+05:30"}},
		{"invite/recipient missing", true, []any{"recipient", nil}},
		{"invite/recipient key absent", false, []any{"recipient", deleteKey}},
		{"invite/self by id", false, []any{"recipient.id", "alice"}},
		{"invite/company page sends", true, []any{"sender.kind", "company"}},
		{"invite/sender closed", false, []any{"sender.status", "closed"}},
		{"invite/sender restricted until tomorrow", true, []any{"sender.status", "restricted", "sender.restricted_until", "2026-03-03T09:00:00Z"}},
		{"invite/restriction ends across DST", false, []any{"sender.restricted_until", "2026-03-08T10:30:00Z"}},
		{"invite/restriction ended a second ago", false, []any{"sender.restricted_until", "2026-03-02T17:59:59Z"}},
		{"invite/recipient deactivated", false, []any{"recipient.status", "deactivated"}},
		{"invite/recipient restricted may still receive", false, []any{"recipient.status", "restricted"}},
		{"invite/connected flag alone", false, []any{"pair.connected", true}},
		{"invite/degree 1 alone", true, []any{"pair.degree", 1}},
		{"invite/two pending", false, []any{"pair.pending", 2}},
		{"invite/rejected and blocked: first rule wins", true, []any{"pair.rejected", true, "pair.blocked", true}},
		{"invite/ignored 4 times", false, []any{"pair.ignored", 4, "pair.last_ignored_at", "2019-05-05T05:05:05Z"}},
		{"invite/ignored once, day 89", false, []any{"pair.ignored", 1, "pair.last_ignored_at", "2025-12-03T10:00:01-08:00"}},
		{"invite/ignored once, day 90 exactly", false, []any{"pair.ignored", 1, "pair.last_ignored_at", "2025-12-02T10:00:00-08:00"}},
		{"invite/ignored twice, message date", true, []any{"pair.ignored", 2, "pair.last_ignored_at", "2026-02-28T23:30:00-08:00"}},
		{"invite/withdrawn just now", false, []any{"pair.withdrawn_at", "2026-03-02T17:59:00Z"}},
		{"invite/blocked", false, []any{"pair.blocked", true}},
		{"invite/settings everyone", false, []any{"recipient.settings.invitations", "everyone"}},
		{"invite/settings empty means everyone", false, []any{"recipient.settings.invitations", ""}},
		{"invite/settings email_or_contacts, in contacts", false, []any{"recipient.settings.invitations", "email_or_contacts", "pair.in_contacts", true}},
		{"invite/settings contacts_only refused", true, []any{"recipient.settings.invitations", "contacts_only"}},
		{"invite/settings contacts_only admitted", false, []any{"recipient.settings.invitations", "contacts_only", "pair.in_contacts", true}},
		{"invite/settings mutual refused", false, []any{"recipient.settings.invitations", "mutual", "pair.mutual", 0, "pair.knows_email", true}},
		{"invite/settings mutual admitted", false, []any{"recipient.settings.invitations", "mutual", "pair.mutual", 1}},
		{"invite/settings second_degree refused", false, []any{"recipient.settings.invitations", "second_degree", "pair.degree", 3, "pair.knows_email", true}},
		{"invite/settings second_degree admitted", false, []any{"recipient.settings.invitations", "second_degree"}},
		{"invite/settings third_degree refused", true, []any{"recipient.settings.invitations", "third_degree", "pair.degree", 0, "pair.knows_email", true}},
		{"invite/settings third_degree admitted", false, []any{"recipient.settings.invitations", "third_degree", "pair.degree", 3, "pair.knows_email", true}},
		{"invite/settings school list admits", false, []any{"recipient.settings.schools", []any{"Tech", "State U"}}},
		{"invite/settings school list refuses", false, []any{"recipient.settings.schools", []any{"Tech"}}},
		{"invite/settings empty lists admit", false, []any{"recipient.settings.companies", []any{}, "recipient.settings.schools", []any{}}},
		{"invite/outside the network", true, []any{"pair.degree", 0, "pair.mutual", 0}},
		{"invite/note of 300 characters", false, []any{"note", strings.Repeat("n", 300)}},
		{"invite/note of 300 runes, more bytes", false, []any{"note", strings.Repeat("é", 300)}},
		{"invite/note of 301 runes", true, []any{"note", strings.Repeat("✓", 301)}},
		{"invite/note with HTML and quotes", false, []any{"note", `<script>alert("x")</script> & 'quotes' \ back`}},
		{"invite/note with control characters", false, []any{"note", "line\nbreak\ttab\u2028sep\x01"}},
		{"invite/sender at 499 connections", false, []any{"sender.connections", 499}},
		{"invite/sender over the cap", false, []any{"sender.connections", 501}},
		{"invite/premium sender at 30000", true, []any{"sender.tier", "premium", "sender.connections", 30000}},
		{"invite/premium recipient at 500", false, []any{"recipient.tier", "premium", "recipient.connections", 500}},
		{"invite/recipient at the cap", false, []any{"recipient.connections", 500}},
		{"invite/daily limit near DST", true, []any{"now", "2026-03-07T23:30:00-08:00", "sender.sent.day", 30}},
		{"invite/daily limit at the DST day", false, []any{"now", "2026-03-08T12:00:00-07:00", "sender.sent.day", 31}},
		{"invite/premium daily limit", false, []any{"sender.tier", "premium", "sender.sent.day", 100}},
		{"invite/weekly limit on Sunday night", true, []any{"now", "2026-03-08T23:59:00-07:00", "sender.sent.week", 300}},
		{"invite/weekly limit at 249 over", false, []any{"sender.sent.week", 301, "sender.over_limit", 249}},
		{"invite/weekly limit at 1000 over", false, []any{"sender.sent.week", 400, "sender.over_limit", 1000}},
		{"invite/premium weekly limit", false, []any{"sender.tier", "premium", "sender.sent.week", 500}},
		{"invite/week starts Monday 00:01", false, []any{"now", "2026-03-02T00:00:30-08:00", "sender.sent.week", 300}},
		{"invite/month limit off", false, []any{"sender.sent.month", 100000}},
		{"invite/recipient busy", false, []any{"recipient.received.day", 5000}},
		{"invite/recipient nearly busy", false, []any{"recipient.received.day", 999}},
		{"invite/soft ban", true, []any{"sender.status", "soft_banned"}},
		{"invite/soft ban loses to the daily limit", false, []any{"sender.status", "soft_banned", "sender.sent.day", 30}},
		{"invite/year end", false, []any{"now", "2026-12-31T23:59:59-08:00", "sender.sent.day", 30}},
		{"invite/leap day", false, []any{"now", "2028-02-29T12:00:00-08:00", "sender.sent.week", 300}},
		{"deliver/plain", true, []any{"stage", "deliver"}},
		{"deliver/ignores all", false, []any{"stage", "deliver", "recipient.settings.invitations", "nobody"}},
		{"deliver/nobody beats spam", true, []any{"stage", "deliver", "recipient.settings.invitations", "nobody", "sender.sent.hour", 50}},
		{"deliver/burst of 19 is fine", false, []any{"stage", "deliver", "sender.sent.hour", 19}},
		{"deliver/burst of 20", false, []any{"stage", "deliver", "sender.sent.hour", 20}},
		{"deliver/keyword in capitals", false, []any{"stage", "deliver", "note", "CLICK HERE now"}},
		{"deliver/keyword inside a word", true, []any{"stage", "deliver", "note", "I love cryptography"}},
		{"deliver/cold with a blank note", false, []any{"stage", "deliver", "pair.mutual", 0, "note", "   ", "sender.acceptance_rate", 0.19}},
		{"deliver/cold at the threshold", false, []any{"stage", "deliver", "pair.mutual", 0, "sender.acceptance_rate", 0.2}},
		{"deliver/cold with a note", false, []any{"stage", "deliver", "pair.mutual", 0, "note", "hi", "sender.acceptance_rate", 0}},
		{"deliver/auto accept by company", true, []any{"stage", "deliver", "recipient.settings.auto_accept.companies", []any{"Initech", "Acme"}}},
		{"deliver/auto accept needs a company", false, []any{"stage", "deliver", "sender.company", "", "recipient.settings.auto_accept.companies", []any{""}}},
		{"deliver/auto accept by school", false, []any{"stage", "deliver", "recipient.settings.auto_accept.schools", []any{"State U"}}},
		{"deliver/hold for confirmation", false, []any{"stage", "deliver", "recipient.settings.require_confirmation", true}},
		{"deliver/auto accept beats hold", false, []any{"stage", "deliver", "recipient.settings.require_confirmation", true, "recipient.settings.auto_accept.schools", []any{"State U"}}},
		{"deliver/recipient missing", true, []any{"stage", "deliver", "recipient", nil}},
		{"accept/plain", true, []any{"stage", "accept"}},
		{"accept/recipient at the cap", false, []any{"stage", "accept", "recipient.connections", 700}},
		{"accept/both at the cap", true, []any{"stage", "accept", "recipient.connections", 500, "sender.connections", 500}},
		{"accept/premium recipient under the cap", false, []any{"stage", "accept", "recipient.tier", "premium", "recipient.connections", 500}},
		{"accept/sender at the cap", false, []any{"stage", "accept", "sender.connections", 500}},
	}
	for _, x := range vars {
		add(x.name, pol, x.explain, with(base, x.kv...))
	}

	// 3. Malformed requests: each fails closed with invalid_request.
	invalid := []v{
		{"invalid/unknown stage", false, []any{"stage", "connect"}},
		{"invalid/stage missing", false, []any{"stage", deleteKey}},
		{"invalid/now missing", true, []any{"now", deleteKey}},
		{"invalid/now not RFC 3339", false, []any{"now", "2026-03-02 10:00"}},
		{"invalid/now a number", false, []any{"now", 1772474400}},
		{"invalid/sender missing", false, []any{"sender", deleteKey}},
		{"invalid/sender null", false, []any{"sender", nil}},
		{"invalid/sender kind", true, []any{"sender.kind", "robot"}},
		{"invalid/sender status", false, []any{"sender.status", "banned"}},
		{"invalid/recipient status", false, []any{"recipient.status", "gone"}},
		{"invalid/invitations option", false, []any{"recipient.settings.invitations", "friends"}},
		{"invalid/acceptance rate above 1", false, []any{"sender.acceptance_rate", 1.5}},
		{"invalid/negative connections", false, []any{"sender.connections", -1}},
		{"invalid/negative daily count", true, []any{"sender.sent.day", -1}},
		{"invalid/negative weekly count", false, []any{"sender.sent.week", -500}},
		{"invalid/negative received count", false, []any{"recipient.received.week", -1}},
		{"invalid/negative pending", false, []any{"pair.pending", -1}},
		{"invalid/negative ignored", false, []any{"pair.ignored", -2}},
		{"invalid/negative mutual", false, []any{"pair.mutual", -1}},
		{"invalid/negative over_limit", false, []any{"sender.over_limit", -1}},
		{"invalid/now in year 9999", false, []any{"now", "9999-12-31T23:00:00Z"}},
		{"invalid/now before 1970", false, []any{"now", "1969-12-31T23:00:00Z"}},
		{"invalid/degree 4", false, []any{"pair.degree", 4}},
		{"invalid/unknown sender tier", true, []any{"sender.tier", "gold"}},
		{"invalid/unknown recipient tier", false, []any{"recipient.tier", "platinum"}},
		{"invalid/deliver with a bad status holds", false, []any{"stage", "deliver", "sender.status", "banned"}},
		{"invalid/deliver with a wrong type holds", false, []any{"stage", "deliver", "pair.mutual", "3"}},
		{"invalid/accept with an unknown field", false, []any{"stage", "accept", "pair.friends", true}},
		{"invalid/unknown top-level field", false, []any{"priority", "high"}},
		{"invalid/misspelt fact", true, []any{"sender.sent.dya", 3}},
		{"invalid/connections a string", false, []any{"sender.connections", "120"}},
		{"invalid/connections a fraction", false, []any{"sender.connections", 120.5}},
		{"invalid/blocked a string", false, []any{"pair.blocked", "yes"}},
		{"invalid/companies a string", false, []any{"recipient.settings.companies", "Acme"}},
	}
	for _, x := range invalid {
		add(x.name, pol, x.explain, with(base, x.kv...))
	}
	good, _ := json.Marshal(base)
	raw("invalid/empty", false, "")
	raw("invalid/whitespace", false, " \n\t")
	raw("invalid/null", false, "null")
	raw("invalid/an array", false, "[]")
	raw("invalid/a string", true, `"invite"`)
	raw("invalid/truncated", false, string(good[:len(good)/2]))
	raw("invalid/trailing garbage", false, string(good)+" x")
	raw("invalid/two objects", false, string(good)+string(good))
	raw("invalid/single quotes", false, strings.ReplaceAll(string(good), `"`, `'`))
	raw("invalid/trailing comma", false, strings.TrimSuffix(string(good), "}")+",}")
	raw("invalid/bad escape", false, `{"stage":"invite","note":"\x"}`)
	raw("invalid/invalid UTF-8 in a note is replaced", false, strings.Replace(string(good), `"note":""`, "\"note\":\"caf\xe9\"", 1))
	raw("invalid/unicode escapes decode", true, strings.Replace(string(good), `"note":""`, `"note":"\u00e9\ud83d\ude00 \u003cb\u003e"`, 1))
	raw("invalid/mis-cased key", false, strings.Replace(string(good), `"stage"`, `"Stage"`, 1))
	raw("invalid/duplicate keys", false, strings.Replace(string(good), `"stage":"invite"`, `"stage":"accept","stage":"invite"`, 1))
	raw("invalid/upper-case key beside the real one", true, strings.Replace(string(good), `"pair":{`, `"pair":{"BLOCKED":true,`, 1))
	raw("invalid/null for a bool", false, strings.Replace(string(good), `"pair":{`, `"pair":{"blocked":null,`, 1))
	raw("invalid/null for a count", false, strings.Replace(string(good), `"pair":{`, `"pair":{"pending":null,`, 1))
	raw("invalid/trailing brace", false, string(good)+"}")
	raw("invalid/trailing brackets", false, string(good)+"]]]")
	raw("invalid/deliver with a duplicate key holds", false, strings.Replace(strings.Replace(string(good), `"stage":"invite"`, `"stage":"deliver"`, 1), `"pair":{`, `"pair":{"blocked":true,"blocked":false,`, 1))

	// 4. The rules the default policy ships switched off.
	const on = "policies-switched-on.yaml"
	add("switched-on/withdrawn an hour ago", on, true, with(base, "pair.withdrawn_at", "2026-03-02T09:00:00-08:00"))
	add("switched-on/withdrawn 7 days ago", on, false, with(base, "pair.withdrawn_at", "2026-02-23T10:00:00-08:00"))
	add("switched-on/monthly limit", on, true, with(base, "sender.sent.month", 300))
	add("switched-on/monthly limit at month end", on, false, with(base, "now", "2026-03-31T23:00:00-07:00", "sender.sent.month", 301))
	add("switched-on/under the monthly limit", on, false, with(base, "sender.sent.month", 299))
	add("switched-on/daily limit still first", on, false, with(base, "sender.sent.month", 300, "sender.sent.day", 30))

	// 5. Rules that fail at run time: pair.pending picks the failure.
	const errPol = "errors.yaml"
	errBase := with(base, "now", "2026-03-29T01:30:00+01:00", "note", "soon")
	for i, n := range []string{"none", "index out of range", "modulo by zero", "over the memory budget", "bad message", "bad retry_after", "bad effect", "fine, Berlin DST"} {
		r := with(errBase, "pair.pending", i, "sender.connections", 200000, "pair.mutual", 0)
		add("errors/"+n, errPol, false, r)
		add("errors/"+n+" (explain)", errPol, true, r)
	}
	add("errors/deliver index", errPol, true, with(errBase, "stage", "deliver", "pair.mutual", 7))
	add("errors/accept modulo", errPol, false, with(errBase, "stage", "accept", "pair.mutual", 0))
	add("errors/accept fine", errPol, false, with(errBase, "stage", "accept", "pair.mutual", 7))

	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Fatalf("duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
	}
	if len(cases) < 200 {
		t.Fatalf("corpus has %d cases; want at least 200", len(cases))
	}
	return cases
}
