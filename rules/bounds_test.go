package rules_test

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

// boundPolicy is a minimal policy whose one invite rule is when, with a
// list of 100 numbers in params.
func boundPolicy(when string) string {
	nums := make([]string, 100)
	for i := range nums {
		nums[i] = fmt.Sprint(i)
	}
	return `version: 1
messages: {generic: "Unable to connect."}
params: {l: [` + strings.Join(nums, ", ") + `]}
stages:
  invite:
    default: {outcome: allow}
    rules:
      - id: hostile
        when: '` + when + `'
        outcome: deny
        retry_after: now + days(1)
  deliver:
    default: {outcome: inbox}
  accept:
    default: {outcome: allow}
`
}

// TestLoopBoundAtLoad: loops over lists that exist before the run (params,
// facts) cost nothing against the memory budget, so the loader bounds
// them: an expression whose loops could iterate more than MaxIterations
// times does not load, and says where. Before the bound, each of these
// loaded and decided for seconds to minutes.
func TestLoopBoundAtLoad(t *testing.T) {
	refused := map[string]string{
		"nested params":      `any(params.l, any(params.l, any(params.l, any(params.l, # < 0))))`,
		"filter in all":      `all(params.l, len(filter(params.l, len(filter(params.l, # > 1)) > 0)) > 0)`,
		"nested facts lists": `any(sender.settings.companies, any(recipient.settings.companies, any(sender.settings.schools, # == "x")))`,
		"in inside loops":    `any(params.l, any(params.l, any(params.l, # in params.l)))`,
		"huge literal range": `sum(1..3037000500) > 0`,
		"sum fold overflow":  `sum(1..1000000, # * 9000000000000000) > 0`,
		"split of a fact":    `any(split(note, ""), any(split(note, ""), # == "x"))`,
	}
	for name, when := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := rules.Load("hostile.yaml", []byte(boundPolicy(when)))
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if !strings.Contains(msg, "hostile.yaml:9:") || !strings.Contains(msg, `rule "hostile"`) {
				t.Errorf("error without a position or rule: %s", msg)
			}
			if !strings.Contains(msg, "times, over the limit of 1000000") && !strings.Contains(msg, "overflows a 64-bit integer") {
				t.Errorf("error does not state the bound: %s", msg)
			}
		})
	}
	fine := []string{
		`any(params.l, any(params.l, # == 3))`,
		`any(sender.settings.companies, len(#) in params.l)`,
		`sum(1..1000) > 10`,
		`contains_any(note, sender.settings.companies)`,
	}
	for _, when := range fine {
		if _, err := rules.Load("fine.yaml", []byte(boundPolicy(when))); err != nil {
			t.Errorf("%s: %v", when, err)
		}
	}
}

// TestRepeatDoesNotAllocate: expr's repeat charges the memory budget only
// after building its string; a note of 10 KB repeated a million times
// would be 10 GB. It fails closed having allocated almost nothing.
func TestRepeatDoesNotAllocate(t *testing.T) {
	p, err := rules.Load("repeat.yaml", []byte(boundPolicy(`len(repeat(note, 1000000)) > 0`)))
	if err != nil {
		t.Fatal(err)
	}
	req := baseRequest("")
	req.Note = strings.Repeat("x", 2000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	d := p.Decide(req)
	runtime.ReadMemStats(&after)
	if d.Reason != rules.ReasonEvaluationError || !strings.Contains(d.Diagnostics[0].Message, "repeat would build") {
		t.Fatalf("got %+v", d)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("the decision allocated %d bytes", n)
	}
}

// TestFactsInvalid: facts that would read as room under a limit, or that
// JSON cannot carry, are invalid_request, never an allow.
func TestFactsInvalid(t *testing.T) {
	p := loadDefault(t)
	cases := map[string]func(r *rules.Request){
		"sender.sent.day":            func(r *rules.Request) { r.Sender.Sent.Day = -1 },
		"sender.sent.week":           func(r *rules.Request) { r.Sender.Sent.Week = -100 },
		"sender.sent.hour":           func(r *rules.Request) { r.Sender.Sent.Hour = -1 },
		"sender.sent.month":          func(r *rules.Request) { r.Sender.Sent.Month = -1 },
		"recipient.received.week":    func(r *rules.Request) { r.Recipient.Received.Week = -5 },
		"sender.over_limit":          func(r *rules.Request) { r.Sender.OverLimit = -1 },
		"pair.pending":               func(r *rules.Request) { r.Pair.Pending = -1 },
		"pair.ignored":               func(r *rules.Request) { r.Pair.Ignored = -3 },
		"pair.mutual":                func(r *rules.Request) { r.Pair.Mutual = -1 },
		"sender.acceptance_rate":     func(r *rules.Request) { r.Sender.AcceptanceRate = math.NaN() },
		"recipient.acceptance_rate":  func(r *rules.Request) { r.Recipient.AcceptanceRate = math.Inf(1) },
		"now":                        func(r *rules.Request) { r.Now = time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC) },
		"pair.withdrawn_at":          func(r *rules.Request) { r.Pair.WithdrawnAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"note":                       func(r *rules.Request) { r.Note = strings.Repeat("x", rules.MaxFactsText+1) },
		"recipient.settings.schools": func(r *rules.Request) { r.Recipient.Settings.Schools = make([]string, rules.MaxFactsList+1) },
		"sender.settings.companies[0]": func(r *rules.Request) {
			r.Sender.Settings.Companies = []string{strings.Repeat("c", rules.MaxFactsText+1)}
		},
	}
	for field, mutate := range cases {
		req := baseRequest("")
		req.Sender.Sent = rules.Counts{Day: 100, Week: 500}
		req.Recipient.Received = rules.Counts{Week: 1000}
		req.Pair.Pending = 1
		mutate(req)
		d := p.Decide(req)
		if d.Reason != rules.ReasonInvalidRequest || d.Outcome != "deny" || len(d.Diagnostics) != 1 ||
			!strings.Contains(d.Diagnostics[0].Message, "invalid request: "+field+":") {
			t.Errorf("%s: got %+v", field, d)
		}
		if b := d.JSON(); len(b) == 0 || !json.Valid(b) {
			t.Errorf("%s: JSON %q", field, b)
		}
	}
}

// TestDecisionNeverEmpty: a retry_after past year 9999 fails the rule
// closed, and a hand-made decision JSON cannot carry still writes a
// fail-closed decision, never an empty string.
func TestDecisionNeverEmpty(t *testing.T) {
	p, err := rules.Load("far.yaml", []byte(strings.Replace(boundPolicy(`true`), "now + days(1)", "add_months(now, 100000)", 1)))
	if err != nil {
		t.Fatal(err)
	}
	req := baseRequest("")
	req.Now = rules.MaxNow.Add(-time.Hour)
	d := p.Decide(req)
	if d.Outcome != "deny" || d.Reason != rules.ReasonEvaluationError || !strings.Contains(d.Diagnostics[0].Message, "retry_after: year") {
		t.Fatalf("got %+v", d)
	}
	far := rules.Decision{Outcome: "allow", Reason: "sent", RetryAfter: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		Effects: []rules.Effect{{Kind: "restrict", Subject: "sender", Until: time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC)}}}
	for _, b := range [][]byte{far.JSON(), far.AppendJSON(nil), rules.Unavailable("deliver", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), "").JSON()} {
		var back rules.Decision
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		if back.Outcome == "allow" || back.Outcome == "" || back.Reason != rules.ReasonEvaluationError || len(back.Effects) != 0 {
			t.Errorf("not failed closed: %s", b)
		}
	}
	if got := string(far.AppendJSON(nil)); got != string(far.JSON()) {
		t.Errorf("AppendJSON %s\nJSON       %s", got, far.JSON())
	}
}

// TestInvalidNilError: Invalid without an error is still a decision.
func TestInvalidNilError(t *testing.T) {
	p := loadDefault(t)
	d := p.Invalid("deliver", nil)
	if d.Outcome != "hold" || d.Reason != rules.ReasonInvalidRequest || d.Diagnostics[0].Message != "invalid request" {
		t.Fatalf("got %+v", d)
	}
}

// FuzzBoundedDecide: any condition either fails to load or decides, and
// explains, a request with every list and text at its longest. A condition
// that loads but loops for long hangs the fuzz worker, which go test
// reports. Seeded with the hostile conditions of TestLoopBoundAtLoad.
func FuzzBoundedDecide(f *testing.F) {
	for _, when := range []string{
		`any(params.l, any(params.l, any(params.l, any(params.l, # < 0))))`,
		`any(sender.settings.companies, any(recipient.settings.companies, # == "x"))`,
		`len(filter(params.l, # > 1)) > 0`,
		`sum(1..1000, # * 3) > 0`,
		`len(repeat(note, 1000)) > 0`,
		`any(split(note, ""), # in sender.settings.schools)`,
		`contains_any(note, recipient.settings.companies)`,
		`all(1..(pair.mutual + 5), any(params.l, # > 2))`,
		`reduce(params.l, #acc + #, 0) > 1`,
	} {
		f.Add(when)
	}
	req := baseRequest("")
	long := make([]string, rules.MaxFactsList)
	for i := range long {
		long[i] = strings.Repeat(string(rune('a'+i%26)), 10)
	}
	for _, m := range []*rules.Member{req.Sender, req.Recipient} {
		m.Settings.Companies, m.Settings.Schools = long, long
		m.Settings.AutoAccept.Companies, m.Settings.AutoAccept.Schools = long, long
	}
	req.Note = strings.Repeat("spam ", rules.MaxFactsText/5)
	if err := req.Validate(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, when string) {
		if strings.ContainsAny(when, "'\n\r") {
			return // stays inside the YAML quotes
		}
		// Go's fuzzer has no per-input timeout: a hang is a crash here.
		watchdog := time.AfterFunc(20*time.Second, func() { panic("load and decide took over 20 s: " + when) })
		defer watchdog.Stop()
		p, err := rules.Load("fuzz.yaml", []byte(boundPolicy(when)))
		if err != nil {
			return
		}
		for _, d := range []rules.Decision{p.Decide(req), p.Explain(req)} {
			if d.Outcome == "" || len(d.JSON()) == 0 {
				t.Fatalf("%s: %+v", when, d)
			}
		}
	})
}

// TestIterations: the default policy loops little (far under MaxIterations); the worst policy the
// bound admits is near the limit.
func TestIterations(t *testing.T) {
	if n := loadDefault(t).Iterations(); n > 50_000 { // the settings lists (companies, schools, titles) at their longest
		t.Errorf("policies.yaml: %d iterations", n)
	}
	p, err := rules.Load("worst.yaml", []byte(boundPolicy(`any(params.l[:50], any(sender.settings.companies, # == "x"))`)))
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Iterations(); n < 100_000 {
		t.Errorf("worst.yaml: %d iterations", n)
	}
}

// TestParamsListBound: a param list, table or text longer than
// MaxParamsList does not load. The loop bound counts a list it cannot see
// at load (a param behind a ternary or a let) at that length: with a
// longer one, a condition counted at the limit of iterations ran 4.5
// times more.
func TestParamsListBound(t *testing.T) {
	policy := func(big string) string {
		lines := strings.Split(boundPolicy(`any(sender.id != "" ? params.big : [], # < 0)`), "\n")
		for i, line := range lines {
			if strings.HasPrefix(line, "params:") {
				lines[i] = "params:\n  big: " + big
			}
		}
		return strings.Join(lines, "\n")
	}
	list := func(n int) string {
		return "[" + strings.TrimSuffix(strings.Repeat("1, ", n), ", ") + "]"
	}
	// A block mapping: yamlBudget refuses a flow one of this many keys as
	// nested too deeply before params are read.
	table := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "\n    k%d: 1", i)
		}
		return b.String()
	}
	for name, c := range map[string]struct {
		big  string
		want string // "" loads
	}{
		"list at the limit":   {list(rules.MaxParamsList), ""},
		"list over the limit": {list(rules.MaxParamsList + 1), "hostile.yaml:4:8: param params.big has 10001 entries, over the limit of 10000"},
		"mapping over":        {table(rules.MaxParamsList + 1), "param params.big has 10001 entries"},
		"text over":           {`"` + strings.Repeat("x", rules.MaxParamsList+1) + `"`, "param params.big is 10001 bytes long"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := rules.Load("hostile.yaml", []byte(policy(c.big)))
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}
