package rules

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	testKeys   = []string{"name", "request", "expect"}
	expectKeys = []string{"outcome", "reason", "rule", "message", "retry_after", "private", "public_message", "effects"}
)

type policyTest struct {
	name string
	pos  Position
	req  *Request
	raw  []byte // the merged request as JSON
	want map[string]any
}

// TestResult is the outcome of one of a policy's own tests.
type TestResult struct {
	Name string   `json:"name"`
	Pos  Position `json:"pos"`
	Pass bool     `json:"pass"`
	// Failures says, one line each, what differed from the expectation.
	Failures []string `json:"failures,omitempty"`
	Got      Decision `json:"got"`
}

// Tests returns the number of tests the policy carries.
func (p *Policy) Tests() int { return len(p.tests) }

// RunTests runs the tests written in the policy's tests: block. Each test
// is a request, merged over test_defaults, and the expected decision.
func (p *Policy) RunTests() []TestResult {
	return p.RunTestsWith(p.Decide)
}

// RunTestsWith runs the policy's tests with another decider, such as the
// same policy inside the WebAssembly module, and checks its answers.
func (p *Policy) RunTestsWith(decide func(*Request) Decision) []TestResult {
	out := make([]TestResult, len(p.tests))
	for i, t := range p.tests {
		d := decide(t.req)
		res := TestResult{Name: t.name, Pos: t.pos, Got: d}
		for _, k := range expectKeys {
			w, ok := t.want[k]
			if !ok {
				continue
			}
			if f := p.check(k, w, d); f != "" {
				res.Failures = append(res.Failures, f)
			}
		}
		res.Pass = len(res.Failures) == 0
		out[i] = res
	}
	return out
}

// TestRequests returns each test's name and merged request as JSON, for
// building corpora.
func (p *Policy) TestRequests() (names []string, requests [][]byte) {
	for _, t := range p.tests {
		names = append(names, t.name)
		requests = append(requests, t.raw)
	}
	return names, requests
}

func (p *Policy) check(key string, want any, d Decision) string {
	var got any
	switch key {
	case "outcome":
		got = d.Outcome
	case "reason":
		got = d.Reason
	case "rule":
		got = d.Rule
	case "message":
		got = d.Message
	case "public_message":
		got = p.Public(d).Message
	case "private":
		if d.Private != want.(bool) {
			return fmt.Sprintf("private: got %v, want %v", d.Private, want)
		}
		return ""
	case "retry_after":
		w := want.(time.Time)
		if !d.RetryAfter.Equal(w) {
			return fmt.Sprintf("retry_after: got %s, want %s", fmtTime(d.RetryAfter), fmtTime(w))
		}
		return ""
	case "effects":
		g, _ := json.Marshal(d.Effects)
		var w []Effect
		raw, _ := json.Marshal(want)
		_ = json.Unmarshal(raw, &w)
		same := len(w) == len(d.Effects)
		for i := 0; same && i < len(w); i++ {
			a, b := w[i], d.Effects[i]
			same = a.Kind == b.Kind && a.Subject == b.Subject && a.Until.Equal(b.Until)
		}
		if !same {
			return fmt.Sprintf("effects: got %s, want %s", g, raw)
		}
		return ""
	}
	if got != want {
		return fmt.Sprintf("%s: got %q, want %q", key, got, want)
	}
	return ""
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	return t.Format(time.RFC3339)
}

func (l *loader) testsBlock(defaults, tests *yaml.Node) {
	var base any = map[string]any{}
	if defaults != nil {
		base = l.plain(defaults)
	}
	if tests == nil {
		return
	}
	if tests.Kind != yaml.SequenceNode {
		l.errAt(tests, "", "tests must be a list")
		return
	}
	names := map[string]bool{}
	for _, tn := range tests.Content {
		m := l.mapping(tn, "a test", "", testKeys)
		if m == nil {
			continue
		}
		t := policyTest{pos: l.src.pos(tn), want: map[string]any{}}
		t.name, _ = l.str(m["name"], "test name", "")
		if t.name == "" {
			l.errAt(tn, "", "test needs a name")
		} else if names[t.name] {
			l.errAt(m["name"], "", fmt.Sprintf("duplicate test name %q", t.name))
		}
		names[t.name] = true
		req := base
		if rn := m["request"]; rn != nil {
			req = merge(base, l.plain(rn))
		}
		raw, err := json.Marshal(req)
		if err == nil {
			t.raw = raw
			t.req, err = DecodeRequestFast(raw)
		}
		if err != nil {
			at := tn
			if m["request"] != nil {
				at = m["request"]
			}
			l.errAt(at, "", fmt.Sprintf("test %q: %s", t.name, strings.Replace(err.Error(), "json: ", "", 1)))
			continue
		}
		en := m["expect"]
		if en == nil {
			l.errAt(tn, "", fmt.Sprintf("test %q needs expect", t.name))
			continue
		}
		em := l.mapping(en, "expect", "", expectKeys)
		for k, v := range em {
			switch k {
			case "private":
				var b bool
				if v.Decode(&b) != nil {
					l.errAt(v, "", "expect.private must be true or false")
				}
				t.want[k] = b
			case "retry_after":
				ts, err := time.Parse(time.RFC3339, v.Value)
				if err != nil {
					l.errAt(v, "", "expect.retry_after must be an RFC 3339 time")
				}
				t.want[k] = ts
			case "effects":
				t.want[k] = l.plain(v)
			case "outcome":
				if !slices.Contains(StageOutcomes[t.req.Stage], v.Value) {
					l.errAt(v, "", fmt.Sprintf("unknown outcome %q for stage %s", v.Value, t.req.Stage))
				}
				t.want[k] = v.Value
			case "rule":
				if v.Value != "" && l.p.ruleByID[v.Value] == nil {
					l.errAt(v, "", fmt.Sprintf("expect.rule: no rule %q", v.Value))
				}
				t.want[k] = v.Value
			default:
				t.want[k] = v.Value
			}
		}
		l.p.tests = append(l.p.tests, t)
	}
}

// plain converts YAML to plain JSON-able values, keeping timestamps and
// other scalars in the text the author wrote.
func (l *loader) plain(n *yaml.Node) any {
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = l.plain(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = l.plain(c)
		}
		return s
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!int", "!!float", "!!bool":
		var v any
		_ = n.Decode(&v)
		return v
	}
	return n.Value
}

// merge lays over on top of base: mappings merge key by key, anything else
// replaces.
func merge(base, over any) any {
	bm, ok1 := base.(map[string]any)
	om, ok2 := over.(map[string]any)
	if !ok1 || !ok2 {
		return over
	}
	out := make(map[string]any, len(bm)+len(om))
	for k, v := range bm {
		out[k] = v
	}
	for k, v := range om {
		out[k] = merge(bm[k], v)
	}
	return out
}

// FormatResults writes test results like go test does and reports
// whether all passed.
func FormatResults(b *strings.Builder, file string, results []TestResult, verbose bool) bool {
	failed := 0
	for _, r := range results {
		if r.Pass {
			if verbose {
				fmt.Fprintf(b, "--- PASS: %s\n", r.Name)
			}
			continue
		}
		failed++
		fmt.Fprintf(b, "--- FAIL: %s (%s)\n", r.Name, r.Pos)
		for _, f := range r.Failures {
			fmt.Fprintf(b, "    %s\n", f)
		}
		for _, dg := range r.Got.Diagnostics {
			fmt.Fprintf(b, "    diagnostic: rule %q: %s\n", dg.Rule, dg.Message)
		}
	}
	if failed > 0 {
		fmt.Fprintf(b, "FAIL\t%s\t%d of %d tests failed\n", file, failed, len(results))
		return false
	}
	fmt.Fprintf(b, "ok  \t%s\t%d tests\n", file, len(results))
	return true
}
