package rules

import (
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// The generated tests, added to the policy's own, load and pass, and there
// is one per rule the search reaches.
func TestGenerateTestsPass(t *testing.T) {
	for _, f := range append([]string{"../policies.yaml", "testdata/coverage/partial.yaml"}, globT(t, "../examples/policies/*.yaml")...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		gen, err := GenerateTests(f, src)
		if err != nil {
			t.Fatal(err)
		}
		var doc, tests yaml.Node
		if err := yaml.Unmarshal(src, &doc); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(gen, &tests); err != nil {
			t.Fatalf("%s: generated YAML: %v\n%s", f, err, gen)
		}
		root := doc.Content[0]
		seq := mapValue(root, "tests")
		if seq == nil {
			seq = &yaml.Node{Kind: yaml.SequenceNode}
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "tests"}, seq)
		}
		seq.Content = tests.Content[0].Content // replace: only the generated ones run
		merged, err := yaml.Marshal(&doc)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Load(f, merged)
		if err != nil {
			t.Fatalf("%s: with the generated tests: %v\n%s", f, err, gen)
		}
		if p.Tests() == 0 {
			t.Fatalf("%s: no tests generated", f)
		}
		for _, r := range p.RunTests() {
			if !r.Pass {
				t.Errorf("%s: %s: %v", f, r.Name, r.Failures)
			}
		}
	}
}
