package peers

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/connrules/connrules/rules"
)

const corpusDir = "../../host/testdata/corpus/"

// corpusCase is a line of cases.jsonl with its golden decision.
type corpusCase struct {
	Name    string          `json:"name"`
	Policy  string          `json:"policy"`
	Explain bool            `json:"explain"`
	Request json.RawMessage `json:"request"`
	golden  rules.Decision
}

func jsonLines(t *testing.T, path string, fn func([]byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			fn(sc.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// inviteCases are the corpus's decodable invite requests on the default
// policy and its switched-on variant, each once (a case and its explained
// twin are one request), with its golden decision.
func inviteCases(t *testing.T) []corpusCase {
	var all []corpusCase
	jsonLines(t, corpusDir+"cases.jsonl", func(b []byte) {
		var c corpusCase
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
	})
	i := 0
	jsonLines(t, corpusDir+"golden.jsonl", func(b []byte) {
		var g struct {
			Name     string         `json:"name"`
			Decision rules.Decision `json:"decision"`
		}
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatal(err)
		}
		if i >= len(all) || all[i].Name != g.Name {
			t.Fatalf("golden.jsonl line %d does not match cases.jsonl", i+1)
		}
		all[i].golden = g.Decision
		i++
	})
	var out []corpusCase
	seen := map[string]bool{}
	for _, c := range all {
		key := c.Policy + "\x00" + string(c.Request)
		if seen[key] || (c.Policy != "policies.yaml" && c.Policy != "policies-switched-on.yaml") {
			continue
		}
		seen[key] = true
		req, err := rules.DecodeRequest(c.Request)
		if err != nil || req.Stage != rules.StageInvite {
			continue
		}
		out = append(out, c)
	}
	return out
}

// TestEquivalence: on every invite request of the three-runtime corpus,
// every engine gives the golden outcome, reason, rule, message, private
// flag, retry_after and restrict effect.
func TestEquivalence(t *testing.T) {
	cases := inviteCases(t)
	byPolicy := map[string][]engine{}
	reasons := map[string]int{}
	for _, c := range cases {
		engs, ok := byPolicy[c.Policy]
		if !ok {
			engs = engines(t, c.Policy)
			byPolicy[c.Policy] = engs
		}
		want := fromDecision(t, c.golden)
		reasons[want.Rule]++
		for _, e := range engs {
			req, err := rules.DecodeRequest(c.Request) // fresh: no engine sees another's request
			if err != nil {
				t.Fatal(err)
			}
			if got := e.decide(req); !got.Same(want) {
				t.Errorf("%s, %s:\ngot  %+v\nwant %+v", c.Name, e.name, got, want)
			}
		}
	}
	if len(cases) < 50 {
		t.Fatalf("only %d invite cases in the corpus", len(cases))
	}
	// Every invite rule of the default policy decides some case.
	for _, id := range defaultRules(t) {
		if reasons[id] == 0 {
			t.Errorf("no corpus case is decided by %s", id)
		}
	}
	t.Logf("%d invite cases, %d engines agree", len(cases), len(byPolicy["policies.yaml"]))
}

// defaultRules are the invite rule ids of the default policy, in order.
func defaultRules(t *testing.T) []string {
	p, err := rules.Load("policies.yaml", policySource(t, "policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p.Rules(rules.StageInvite)
}
