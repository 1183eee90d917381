package host_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/wasm/guest"
	"github.com/connrules/connrules/wasm/wasmbuild"
)

// One corpus, three runtimes: testdata/corpus holds requests and the
// decisions they must get, byte for byte, natively, through host/ on
// wazero, and through the js build under Node.
//
//	go test ./host -run Corpus -update   # regenerate cases and golden files

var update = flag.Bool("update", false, "regenerate testdata/corpus from the generator and the native run")

const corpusDir = "testdata/corpus"

type corpus struct {
	cases    []corpusCase
	policies map[string][]byte
	golden   [][]byte
	loads    []loadCase
}

type loadCase struct {
	file   string
	src    []byte
	answer []byte
}

type goldenLine struct {
	Name     string          `json:"name"`
	Decision json.RawMessage `json:"decision"`
}

type loadLine struct {
	File   string          `json:"file"`
	Answer json.RawMessage `json:"answer"`
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corpusPolicies are the policies the cases name, in a fixed order.
var corpusPolicies = []string{"policies.yaml", "policies-switched-on.yaml", "errors.yaml"}

func policySources(t testing.TB) map[string][]byte {
	def := readFile(t, "../policies.yaml")
	return map[string][]byte{
		"policies.yaml":             def,
		"policies-switched-on.yaml": switchedOn(t, def),
		"errors.yaml":               readFile(t, filepath.Join(corpusDir, "errors.yaml")),
	}
}

// switchedOn is the default policy with the rules it ships switched off
// (withdraw_cooldown: 0d, monthly: 0) switched on, so that the corpus
// reaches them too.
func switchedOn(t testing.TB, def []byte) []byte {
	s := string(def)
	for _, r := range [][2]string{
		{"withdraw_cooldown: 0d", "withdraw_cooldown: 7d"},
		{"monthly: 0,", "monthly: 300,"},
	} {
		if !strings.Contains(s, r[0]) {
			t.Fatalf("policies.yaml no longer has %q; update switchedOn in host/conformance_test.go", r[0])
		}
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return []byte(s)
}

func loadFiles(t testing.TB) []loadCase {
	files, err := filepath.Glob(filepath.Join(corpusDir, "load", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no load cases: %v", err)
	}
	var out []loadCase
	for _, f := range files {
		out = append(out, loadCase{file: "load/" + filepath.Base(f), src: readFile(t, f)})
	}
	return out
}

func jsonLines(t testing.TB, path string, fn func(line []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			fn(sc.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

var (
	corpusOnce sync.Once
	theCorpus  *corpus
)

// loadCorpus reads the corpus, regenerating it first under -update.
func loadCorpus(t *testing.T) *corpus {
	t.Helper()
	corpusOnce.Do(func() {
		if *update {
			writeCorpus(t)
		}
		c := &corpus{policies: policySources(t)}
		jsonLines(t, filepath.Join(corpusDir, "cases.jsonl"), func(line []byte) {
			var cc corpusCase
			if err := json.Unmarshal(line, &cc); err != nil {
				t.Fatalf("cases.jsonl: %v", err)
			}
			c.cases = append(c.cases, cc)
		})
		i := 0
		jsonLines(t, filepath.Join(corpusDir, "golden.jsonl"), func(line []byte) {
			var g goldenLine
			if err := json.Unmarshal(line, &g); err != nil {
				t.Fatalf("golden.jsonl: %v", err)
			}
			if i >= len(c.cases) || g.Name != c.cases[i].Name {
				t.Fatalf("golden.jsonl line %d is %q, not the case in cases.jsonl; run with -update", i+1, g.Name)
			}
			c.golden = append(c.golden, g.Decision)
			i++
		})
		if len(c.golden) != len(c.cases) {
			t.Fatalf("%d golden decisions for %d cases; run with -update", len(c.golden), len(c.cases))
		}
		byFile := map[string][]byte{}
		jsonLines(t, filepath.Join(corpusDir, "load.golden.jsonl"), func(line []byte) {
			var l loadLine
			if err := json.Unmarshal(line, &l); err != nil {
				t.Fatalf("load.golden.jsonl: %v", err)
			}
			byFile[l.File] = l.Answer
		})
		for _, lc := range loadFiles(t) {
			lc.answer = byFile[lc.file]
			if lc.answer == nil {
				t.Fatalf("load.golden.jsonl has no answer for %s; run with -update", lc.file)
			}
			c.loads = append(c.loads, lc)
		}
		theCorpus = c
	})
	if theCorpus == nil {
		t.Fatal("corpus failed to load")
	}
	return theCorpus
}

func writeCorpus(t *testing.T) {
	srcs := policySources(t)
	p, err := rules.Load("policies.yaml", srcs["policies.yaml"])
	if err != nil {
		t.Fatal(err)
	}
	cases := generateCases(t, p)
	var cb, gb, lb bytes.Buffer
	c := &corpus{cases: cases, policies: srcs, loads: loadFiles(t)}
	decisions, loads := runNative(t, c)
	for i, cc := range cases {
		line, err := json.Marshal(cc)
		if err != nil {
			t.Fatal(err)
		}
		cb.Write(line)
		cb.WriteByte('\n')
		name, _ := json.Marshal(cc.Name)
		fmt.Fprintf(&gb, `{"name":%s,"decision":%s}`+"\n", name, decisions[i])
	}
	for i, lc := range c.loads {
		file, _ := json.Marshal(lc.file)
		fmt.Fprintf(&lb, `{"file":%s,"answer":%s}`+"\n", file, loads[i])
	}
	for name, b := range map[string][]byte{"cases.jsonl": cb.Bytes(), "golden.jsonl": gb.Bytes(), "load.golden.jsonl": lb.Bytes()} {
		if err := os.WriteFile(filepath.Join(corpusDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d cases and %d load answers to %s", len(cases), len(c.loads), corpusDir)
}

// runNative runs the corpus through the guest code compiled for this
// machine.
func runNative(t *testing.T, c *corpus) (decisions, loads [][]byte) {
	engines := map[string]*guest.Engine{}
	for name, src := range c.policies {
		e := &guest.Engine{}
		if out, ok := e.Load(name, src); !ok {
			t.Fatalf("%s: %s", name, out)
		}
		engines[name] = e
	}
	for _, cc := range c.cases {
		out, ok := engines[cc.Policy].Decide(cc.bytes(), cc.Explain)
		if !ok {
			t.Fatalf("%s: %s", cc.Name, out)
		}
		decisions = append(decisions, bytes.Clone(out))
	}
	for _, lc := range c.loads {
		var e guest.Engine
		out, _ := e.Load(lc.file, lc.src)
		loads = append(loads, bytes.Clone(out))
	}
	return decisions, loads
}

// batches groups the cases that are valid JSON by policy and explain, in
// corpus order: each group is decided again as one batch.
type batch struct {
	policy  string
	explain bool
	body    []byte
	want    []byte
}

func batches(c *corpus) []batch {
	var out []batch
	idx := map[[2]any]int{}
	for i, cc := range c.cases {
		if cc.Raw != nil {
			continue
		}
		k := [2]any{cc.Policy, cc.Explain}
		j, ok := idx[k]
		if !ok {
			j = len(out)
			idx[k] = j
			out = append(out, batch{policy: cc.Policy, explain: cc.Explain})
		}
		b := &out[j]
		sep := byte('[')
		if len(b.body) > 0 {
			sep = ','
		}
		b.body = append(append(b.body, sep), cc.Request...)
		b.want = append(append(b.want, sep), c.golden[i]...)
	}
	for i := range out {
		out[i].body = append(out[i].body, ']')
		out[i].want = append(out[i].want, ']')
	}
	return out
}

func TestCorpusNative(t *testing.T) {
	c := loadCorpus(t)
	decisions, loads := runNative(t, c)
	for i, cc := range c.cases {
		if !bytes.Equal(decisions[i], c.golden[i]) {
			t.Errorf("%s:\ngot  %s\nwant %s", cc.Name, decisions[i], c.golden[i])
		}
	}
	for i, lc := range c.loads {
		if !bytes.Equal(loads[i], lc.answer) {
			t.Errorf("load %s:\ngot  %s\nwant %s", lc.file, loads[i], lc.answer)
		}
	}
	for _, b := range batches(c) {
		var e guest.Engine
		if out, ok := e.Load(b.policy, c.policies[b.policy]); !ok {
			t.Fatal(string(out))
		}
		if out, ok := e.DecideBatch(b.body, b.explain); !ok || !bytes.Equal(out, b.want) {
			t.Errorf("batch %s explain=%v differs from the single decisions:\ngot  %.300s\nwant %.300s", b.policy, b.explain, out, b.want)
		}
	}
}

// TestCorpusMatchesReference checks the guest path (hand-written JSON
// codec) against the plain one: rules.DecodeRequest, Decide or Explain,
// and encoding/json.
func TestCorpusMatchesReference(t *testing.T) {
	c := loadCorpus(t)
	pols := map[string]*rules.Policy{}
	for name, src := range c.policies {
		p, err := rules.Load(name, src)
		if err != nil {
			t.Fatal(err)
		}
		pols[name] = p
	}
	stages := map[string]int{}
	reasons := map[string]bool{}
	for i, cc := range c.cases {
		p := pols[cc.Policy]
		req, err := rules.DecodeRequest(cc.bytes())
		var want []byte
		switch {
		case err == nil && cc.Explain:
			want = p.Explain(req).JSON()
		case err == nil:
			want = p.Decide(req).JSON()
		default:
			// Not decodable: the decision fails closed and carries
			// DecodeRequest's own message.
			var d rules.Decision
			if err := json.Unmarshal(c.golden[i], &d); err != nil {
				t.Fatalf("%s: %v", cc.Name, err)
			}
			if d.Reason != rules.ReasonInvalidRequest || len(d.Diagnostics) != 1 || d.Diagnostics[0].Message != err.Error() {
				t.Errorf("%s: got %s, want invalid_request with %q", cc.Name, c.golden[i], err)
			}
			continue
		}
		if !bytes.Equal(want, c.golden[i]) {
			t.Errorf("%s:\ngolden    %s\nreference %s", cc.Name, c.golden[i], want)
		}
		if strings.HasPrefix(cc.Policy, "policies") {
			stages[req.Stage]++
			var d rules.Decision
			_ = json.Unmarshal(want, &d)
			reasons[d.Rule] = true
		}
	}
	// Coverage: every stage, and every rule of policies.yaml decides at
	// least one case.
	p := pols["policies.yaml"]
	for _, s := range rules.Stages {
		if stages[s] == 0 {
			t.Errorf("no corpus case for stage %s", s)
		}
		for _, id := range p.Rules(s) {
			if !reasons[id] {
				t.Errorf("no corpus case is decided by rule %s", id)
			}
		}
	}
}

func TestCorpusWazero(t *testing.T) {
	c := loadCorpus(t)
	ctx := context.Background()
	engines := map[string]*host.Engine{}
	for name, src := range c.policies {
		e, err := host.New(ctx, host.WithPoolSize(2))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close(ctx)
		if err := e.Load(ctx, name, src); err != nil {
			t.Fatal(err)
		}
		engines[name] = e
	}
	for i, cc := range c.cases {
		e := engines[cc.Policy]
		got, err := e.DecideJSON(ctx, cc.bytes(), cc.Explain)
		if err != nil || !bytes.Equal(got, c.golden[i]) {
			t.Errorf("%s:\ngot  %s (%v)\nwant %s", cc.Name, got, err, c.golden[i])
		}
		// The typed API: encode the request on the host side, decode
		// the decision, and get the same bytes back.
		req, err := rules.DecodeRequest(cc.bytes())
		if err != nil {
			continue
		}
		decide := e.Decide
		if cc.Explain {
			decide = e.Explain
		}
		d, err := decide(ctx, req)
		if err != nil || !bytes.Equal(d.JSON(), c.golden[i]) {
			t.Errorf("%s (typed):\ngot  %s (%v)\nwant %s", cc.Name, d.JSON(), err, c.golden[i])
		}
	}
	for _, b := range batches(c) {
		got, err := engines[b.policy].DecideBatchJSON(ctx, b.body, b.explain)
		if err != nil || !bytes.Equal(got, b.want) {
			t.Errorf("batch %s explain=%v:\ngot  %.300s (%v)\nwant %.300s", b.policy, b.explain, got, err, b.want)
		}
	}
	e, err := host.New(ctx, host.WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	for _, lc := range c.loads {
		err := e.Load(ctx, lc.file, lc.src)
		var list rules.ErrorList
		if !errors.As(err, &list) {
			t.Errorf("load %s: got %v, want positioned errors", lc.file, err)
			continue
		}
		var want struct {
			Errors json.RawMessage `json:"errors"`
		}
		_ = json.Unmarshal(lc.answer, &want)
		got, _ := json.Marshal(list)
		if !bytes.Equal(got, want.Errors) {
			t.Errorf("load %s:\ngot  %s\nwant %s", lc.file, got, want.Errors)
		}
	}
}

// nodeJob is the input of wasm/js/run.js in conform mode.
type nodeJob struct {
	Mode     string       `json:"mode"`
	Policies []nodePolicy `json:"policies"`
	Cases    []nodeCase   `json:"cases"`
	Batches  []nodeBatch  `json:"batches"`
}

type nodePolicy struct {
	File string `json:"file"`
	Src  string `json:"src"`
}

type nodeCase struct {
	Policy  int    `json:"policy"`
	Explain bool   `json:"explain"`
	Request string `json:"request"`
}

type nodeBatch struct {
	Policy   int    `json:"policy"`
	Explain  bool   `json:"explain"`
	Requests string `json:"requests"`
}

// buildJS builds the js module into a temporary directory.
func buildJS(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "connrules-js.wasm")
	if err := wasmbuild.Build(context.Background(), "..", wasmbuild.JS, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func nodeOrSkip(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; CI runs this with Node 20")
	}
	return node
}

func wasmExecJS() string {
	return filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js")
}

func TestCorpusNode(t *testing.T) {
	node := nodeOrSkip(t)
	c := loadCorpus(t)
	mod := buildJS(t)
	job := nodeJob{Mode: "conform"}
	idx := map[string]int{}
	for _, name := range corpusPolicies {
		idx[name] = len(job.Policies)
		job.Policies = append(job.Policies, nodePolicy{File: name, Src: string(c.policies[name])})
	}
	for _, lc := range c.loads {
		job.Policies = append(job.Policies, nodePolicy{File: lc.file, Src: string(lc.src)})
	}
	for _, cc := range c.cases {
		job.Cases = append(job.Cases, nodeCase{Policy: idx[cc.Policy], Explain: cc.Explain, Request: base64.StdEncoding.EncodeToString(cc.bytes())})
	}
	bs := batches(c)
	for _, b := range bs {
		job.Batches = append(job.Batches, nodeBatch{Policy: idx[b.policy], Explain: b.explain, Requests: base64.StdEncoding.EncodeToString(b.body)})
	}
	in, _ := json.Marshal(job)
	var res struct {
		Version   json.RawMessage `json:"version"`
		Loads     []string        `json:"loads"`
		Decisions []string        `json:"decisions"`
		Batches   []string        `json:"batches"`
		Tests     string          `json:"tests"`
		Checks    struct {
			Decide, DecideString, DecideBatch string
			LoadErrors                        []string
			BadBatch, BadRequestType          string
			Version                           struct {
				ABI    int    `json:"abi"`
				OS     string `json:"os"`
				Policy string `json:"policy"`
			}
		} `json:"checks"`
	}
	runNode(t, node, mod, in, &res)
	t.Logf("node module: %s", res.Version)
	if len(res.Decisions) != len(c.cases) || len(res.Batches) != len(bs) || len(res.Loads) != len(job.Policies) {
		t.Fatalf("node answered %d decisions, %d batches, %d loads", len(res.Decisions), len(res.Batches), len(res.Loads))
	}
	for i, cc := range c.cases {
		if got := res.Decisions[i]; got != string(c.golden[i]) {
			t.Errorf("%s:\ngot  %s\nwant %s", cc.Name, got, c.golden[i])
		}
	}
	for i, b := range bs {
		if res.Batches[i] != string(b.want) {
			t.Errorf("batch %s explain=%v:\ngot  %.300s\nwant %.300s", b.policy, b.explain, res.Batches[i], b.want)
		}
	}
	// The policy's own tests, run inside the js build, answer what they
	// answer natively.
	var g guest.Engine
	g.Load(corpusPolicies[0], c.policies[corpusPolicies[0]])
	if want, _ := g.Test(); res.Tests != string(want) {
		t.Errorf("test():\ngot  %.300s\nwant %.300s", res.Tests, want)
	}
	// The object API gives the same decisions as the JSON one (modulo
	// JSON.stringify's escaping, which the corpus requests do not need).
	ck := res.Checks
	first := c.golden[0]
	var explained []byte
	for i, cc := range c.cases {
		if cc.Policy == c.cases[0].Policy && cc.Explain && string(cc.Request) == string(c.cases[0].Request) {
			explained = c.golden[i]
		}
	}
	if ck.Decide != string(first) || (explained != nil && ck.DecideString != string(explained)) || ck.DecideBatch != "["+string(first)+","+string(first)+"]" {
		t.Errorf("object API:\ndecide %s\nexplain %s\nbatch %s\nwant %s", ck.Decide, ck.DecideString, ck.DecideBatch, first)
	}
	if len(ck.LoadErrors) == 0 || !strings.HasPrefix(ck.LoadErrors[0], "bad.yaml:2:") {
		t.Errorf("load(bad) = %q, want positioned errors", ck.LoadErrors)
	}
	if !strings.HasPrefix(ck.BadBatch, "Error bad_batch: connrules: decide_batch: ") || !strings.HasPrefix(ck.BadRequestType, "Error bad_input: connrules: ") {
		t.Errorf("thrown errors: %q, %q", ck.BadBatch, ck.BadRequestType)
	}
	if ck.Version.ABI != guest.ABI || ck.Version.OS != "js" || ck.Version.Policy == "" {
		t.Errorf("version() = %+v", ck.Version)
	}
	for i, lc := range c.loads {
		if got := res.Loads[len(corpusPolicies)+i]; got != string(lc.answer) {
			t.Errorf("load %s:\ngot  %s\nwant %s", lc.file, got, lc.answer)
		}
	}
}

func runNode(t testing.TB, node, mod string, job []byte, res any) {
	t.Helper()
	cmd := exec.Command(node, "../wasm/js/run.js", wasmExecJS(), mod)
	cmd.Stdin = bytes.NewReader(job)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(out, res); err != nil {
		t.Fatalf("node answer: %v\n%.500s", err, strings.TrimSpace(string(out)))
	}
}
