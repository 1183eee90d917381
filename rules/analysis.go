package rules

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/expr-lang/expr/vm"

	"gopkg.in/yaml.v3"
)

// analysis is a loaded policy together with its loader and YAML tree, for
// the tools that compile more than the policy itself does: coverage's
// branches, lint's warnings, witness search.
type analysis struct {
	l        *loader
	p        *Policy
	doc      *yaml.Node
	when     map[string]*yaml.Node // rule id → its when node
	ruleNode map[string]*yaml.Node
	// builtinBase: the witness search starts from a built-in request, the
	// policy having no usable test_defaults.
	builtinBase bool
}

// analyze loads src like [Load] and keeps the loader. It repeats Load's
// few lines rather than change Load's signature.
func analyze(filename string, src []byte) (a *analysis, err error) {
	if _, err := Load(filename, src); err != nil {
		return nil, err
	}
	l := &loader{src: newSrcMap(filename, src), p: &Policy{file: filename, stages: map[string]*stage{}, ruleByID: map[string]*rule{}}}
	l.lines = l.src.textLines()
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) == 0 {
		return nil, errors.New("policy changed while being analysed")
	}
	l.policy(doc.Content[0])
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	a = &analysis{l: l, p: l.p, doc: doc.Content[0], when: map[string]*yaml.Node{}, ruleNode: map[string]*yaml.Node{}}
	if sn := mapValue(a.doc, "stages"); sn != nil {
		for _, name := range Stages {
			for _, rn := range seqItems(mapValue(mapValue(sn, name), "rules")) {
				if id := mapValue(rn, "id"); id != nil {
					a.ruleNode[id.Value] = rn
					if w := mapValue(rn, "when"); w != nil {
						a.when[id.Value] = w
					}
				}
			}
		}
	}
	return a, nil
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolveAlias(n.Content[i+1])
		}
	}
	return nil
}

func seqItems(n *yaml.Node) []*yaml.Node {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// branch is one top-level disjunct of a rule's condition.
type branch struct {
	text string
	pos  Position
	prog *vm.Program
}

// branches splits a rule's when at its top-level || (or "or"), outside
// parentheses, brackets and strings, and compiles each part. A condition
// with a top-level ternary, or with one part, has one branch.
func (a *analysis) branches(r *rule) []branch {
	n := a.when[r.id]
	if n == nil || r.when == nil {
		return nil
	}
	parts := splitOr(n.Value)
	if len(parts) < 2 {
		return []branch{{text: oneLineText(n.Value), pos: a.l.src.at(n, 0), prog: r.when}}
	}
	var out []branch
	for _, pt := range parts {
		errs := len(a.l.errs)
		prog, ok := a.l.compileText(pt.text, func(off int) Position { return a.l.src.at(n, pt.off+off) }, r.id, "when", reflect.Bool)
		a.l.errs = a.l.errs[:errs]
		if !ok {
			return []branch{{text: oneLineText(n.Value), pos: a.l.src.at(n, 0), prog: r.when}}
		}
		out = append(out, branch{text: oneLineText(pt.text), pos: a.l.src.at(n, pt.off+leadingSpace(pt.text)), prog: prog})
	}
	return out
}

type part struct {
	text string
	off  int // in runes
}

// splitOr cuts an expression at its depth-0 || and or operators.
func splitOr(s string) []part {
	rs := []rune(s)
	var out []part
	depth, start := 0, 0
	var quote rune
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case depth == 0 && c == '?' && (i+1 >= len(rs) || rs[i+1] != '?' && rs[i+1] != '.'):
			return nil // a ternary: one branch
		case depth == 0 && c == '|' && i+1 < len(rs) && rs[i+1] == '|':
			out = append(out, part{string(rs[start:i]), start})
			start = i + 2
			i++
		case depth == 0 && c == 'o' && i+1 < len(rs) && rs[i+1] == 'r' && (i == 0 || isSpace(rs[i-1])) && (i+2 >= len(rs) || isSpace(rs[i+2])):
			out = append(out, part{string(rs[start:i]), start})
			start = i + 2
			i++
		}
	}
	if len(out) == 0 {
		return nil
	}
	return append(out, part{string(rs[start:]), start})
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func leadingSpace(s string) int {
	n := 0
	for _, r := range s {
		if !isSpace(r) {
			break
		}
		n++
	}
	return n
}

// oneLineText collapses an expression's whitespace for a report line.
func oneLineText(s string) string {
	var b []rune
	space := false
	for _, r := range s {
		if isSpace(r) {
			space = len(b) > 0
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, r)
	}
	return string(b)
}

// guard turns a panic in an analysis into an error: the tools built on
// analyze take untrusted policies and must not crash their callers.
func guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("internal error analysing the policy: %v", r)
	}
}
