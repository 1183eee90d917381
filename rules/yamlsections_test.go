package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// sectionCases are texts that split in unusual places, or must not split.
var sectionCases = []string{
	"",
	"# only a comment\n",
	"a: 1\n",
	"a: 1\nb: 2\n",
	"a:\nb:\nc: 3",
	"a:\n\n\nb: 2\n",
	"# head\n\na: 1 # trailing\n# between\nb:\n  c: 1\n",
	"a: &x [1, 2]\nb: *x\n",
	"a: &x 1\nb: &x 2\nc: *x\n",
	"a:\n- 1\n- 2\nb:\n-\n- x\n",
	"a: |\n  text\n  more\nb: >\n  folded\n",
	"a: \"one\ntwo: 2\"\nb: 3\n",
	"a: 'one\nb: 2\n",
	"a: {x: 1,\ny: 2}\n",
	"a: [1,\n2]\nb: 1\n",
	"---\na: 1\n",
	"a: 1\n---\nb: 2\n",
	"a: 1\n...\n",
	"%YAML 1.2\n---\na: 1\n",
	"\ufeffa: 1\nb: 2\n",
	"a: 1\r\nb:\r\n  c: 2\r\n",
	"a: 1\n\tb: 2\n",
	"a: 1\nb: 2\na: 3\n",
	"a: x\n  continued\nb: y\n",
	"a:\n  b: 1\n c: 2\n",
	"\"q\": 1\na: 2\n",
	"a1: 1\n_b: 2\nc-d: 3\n",
	"a:1\nb: 2\n",
	"a: 1\nb: *nope\n",
	"a: [\nb: 1\n",
	"a: 1\n- 2\n",
	"? a\n: 1\n",
	"a: !!str 1\nb: !custom x\n",
}

func sectionFiles(t testing.TB) map[string]string {
	t.Helper()
	files := []string{"../policies.yaml"}
	for _, glob := range []string{"../examples/policies/*.yaml", "../examples/scenarios/*.yaml", "testdata/*/*.yaml", "testdata/*.yaml"} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(b)
	}
	for i, c := range sectionCases {
		out[fmt.Sprintf("case %d", i)] = c
	}
	return out
}

// TestSectionsParseAsWhole: a text parsed by sections, alone and after
// another text whose sections it reuses, gives yaml.Unmarshal's tree or
// its error.
func TestSectionsParseAsWhole(t *testing.T) {
	texts := sectionFiles(t)
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := string(src)
	for name, text := range texts {
		checkSections(t, name, "", text)
		checkSections(t, name+" after the default policy", base, text)
		// The same sections, moved down and then up by an edit above them.
		checkSections(t, name+" moved", text, "x: 1\n\n"+text)
		checkSections(t, name+" moved back", "x: 1\n\n"+text, text)
	}
	// An edit in one section reuses the others.
	edited := strings.Replace(base, "You can't invite yourself.", "You cannot\n  invite yourself.", 1)
	checkSections(t, "edited", base, edited)
	g := &cacheGen{old: &loadCache{}, cur: newLoadCache()}
	var doc yaml.Node
	if err := g.parseYAML(src, &doc); err != nil {
		t.Fatal(err)
	}
	g = &cacheGen{old: g.cur, cur: newLoadCache()}
	if err := g.parseYAML([]byte(edited), &doc); err != nil {
		t.Fatal(err)
	}
	reused := 0
	for k, s := range g.cur.sections {
		if g.old.sections[k] == s {
			reused++
		}
	}
	if want := len(g.cur.sections) - 1; reused != want || want < 5 {
		t.Errorf("%d of %d sections reused after an edit of one, want %d", reused, len(g.cur.sections), want)
	}
}

// FuzzSectionsParseAsWhole: any second text, parsed after any first,
// gives yaml.Unmarshal's tree or error.
func FuzzSectionsParseAsWhole(f *testing.F) {
	for _, text := range sectionFiles(f) {
		f.Add("", text)
	}
	for i, c := range sectionCases {
		f.Add(c, sectionCases[(i+1)%len(sectionCases)])
	}
	f.Fuzz(func(t *testing.T, before, text string) {
		if len(before)+len(text) > 1<<16 {
			return
		}
		checkSections(t, "fuzz", before, text)
	})
}

// checkSections parses before, then text by sections, and compares text's
// tree with yaml.Unmarshal's.
func checkSections(t testing.TB, name, before, text string) {
	t.Helper()
	g := &cacheGen{cur: newLoadCache()}
	if before != "" {
		var d yaml.Node
		_ = g.parseYAML([]byte(before), &d)
		g = &cacheGen{old: g.cur, cur: newLoadCache()}
	}
	var got, want yaml.Node
	gotErr := g.parseYAML([]byte(text), &got)
	wantErr := yaml.Unmarshal([]byte(text), &want)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: error %v, whole %v", name, gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if diff := sameTree(&got, &want, "$"); diff != "" {
		t.Fatalf("%s: %s\n%q", name, diff, text)
	}
	// Every alias points into the tree returned, not into the cache.
	in := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		in[n] = true
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&got)
	for n := range in {
		if n.Alias != nil && !in[n.Alias] {
			t.Fatalf("%s: an alias points outside the returned tree\n%q", name, text)
		}
	}
}

// TestSectionsAreCopies: a tree handed out can be changed at will; the
// next load from the same sections is still the whole parse's, and a
// failed load keeps the sections for the load that fixes it.
func TestSectionsAreCopies(t *testing.T) {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src) + "extra: &a [1, *a]\n"
	g := &cacheGen{cur: newLoadCache()}
	var doc yaml.Node
	if err := g.parseYAML([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	var scribble func(n *yaml.Node)
	seen := map[*yaml.Node]bool{}
	scribble = func(n *yaml.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		n.Value, n.Line, n.Tag = "scribbled", 0, "!x"
		for _, c := range n.Content {
			scribble(c)
		}
		scribble(n.Alias)
		n.Content = nil
	}
	scribble(&doc)
	checkSections(t, "after a scribble", "", text) // sanity: the texts parse alike
	g = &cacheGen{old: g.cur, cur: newLoadCache()}
	var got, want yaml.Node
	if err := g.parseYAML([]byte(text), &got); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(text), &want); err != nil {
		t.Fatal(err)
	}
	if d := sameTree(&got, &want, "$"); d != "" {
		t.Fatalf("reloaded from the cache after a scribble: %s", d)
	}

	var ld Loader
	if _, err := ld.Load("policies.yaml", src); err != nil {
		t.Fatal(err)
	}
	kept := len(ld.c.sections)
	if _, err := ld.Load("policies.yaml", append([]byte("broken: [\n"), src...)); err == nil {
		t.Fatal("a broken policy loaded")
	}
	if len(ld.c.sections) < kept {
		t.Errorf("%d sections kept after a failed load, want %d", len(ld.c.sections), kept)
	}
}

// sameTree compares two trees as the loader reads them: comments aside.
func sameTree(a, b *yaml.Node, path string) string {
	if (a == nil) != (b == nil) {
		return path + ": one is nil"
	}
	if a == nil {
		return ""
	}
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor || a.Line != b.Line || a.Column != b.Column {
		return fmt.Sprintf("%s: %+v, whole %+v", path, *a, *b)
	}
	if (a.Alias == nil) != (b.Alias == nil) {
		return path + ": alias differs"
	}
	if a.Alias != nil && (a.Alias.Line != b.Alias.Line || a.Alias.Column != b.Alias.Column || a.Alias.Value != b.Alias.Value) {
		return path + ": alias target differs"
	}
	if len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s: %d children, whole %d", path, len(a.Content), len(b.Content))
	}
	for i := range a.Content {
		if d := sameTree(a.Content[i], b.Content[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
			return d
		}
	}
	return ""
}

// TestSectionsBounded: a text of many top-level keys is parsed whole, not
// one yaml.Unmarshal call per key.
func TestSectionsBounded(t *testing.T) {
	var b strings.Builder
	for i := range maxSections + 1 {
		fmt.Fprintf(&b, "k%d: %d\n", i, i)
	}
	g := &cacheGen{cur: newLoadCache()}
	var doc yaml.Node
	if err := g.parseYAML([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	if len(g.cur.sections) != 0 {
		t.Errorf("%d sections kept for %d top-level keys, want the whole parse", len(g.cur.sections), maxSections+1)
	}
	checkSections(t, "many keys", "", b.String())
}
