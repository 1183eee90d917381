package rules

import (
	"fmt"
	"io"
	"os"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser/lexer"
	"github.com/expr-lang/expr/parser/operator"
	"gopkg.in/yaml.v3"
)

// Load limits. Each is checked before the work it bounds, so a hostile
// policy fails fast, with a positioned error, in the same way natively,
// under wazero (64 MiB per instance) and in a browser. RATIONALE.md, "Why
// these load limits?", says why each has its value.
const (
	// MaxPolicyBytes is the largest policy text Load accepts.
	MaxPolicyBytes = 1 << 20
	// MaxYAMLNodes bounds the YAML values of a policy, an alias counting
	// as every value it stands for.
	MaxYAMLNodes = 100_000
	// MaxYAMLDepth bounds how deeply YAML collections nest, through aliases.
	MaxYAMLDepth = 100
	// MaxExprDepth bounds how deeply one expression nests: brackets,
	// unary operators, ternaries and right-associative operators.
	MaxExprDepth = 100
	// MaxTreeDepth bounds how deep one expression's tree is, lets
	// inlined: expr's checker and compiler recurse on it.
	MaxTreeDepth = 100
	// MaxRulesPerStage bounds the rules of one stage.
	MaxRulesPerStage = 1000
	// MaxPolicyNodes bounds the expression nodes compiled for a whole
	// policy, lets inlined, each stage's first-match program included.
	MaxPolicyNodes = 20_000
)

// CheckSize returns the error Load gives for a policy of size bytes, or
// nil when the size is within [MaxPolicyBytes]. Callers that read a
// policy from a file or a network use it to refuse an oversized one
// before reading or copying it.
func CheckSize(filename string, size int64) error {
	if size <= MaxPolicyBytes {
		return nil
	}
	return ErrorList{{Pos: Position{filename, 1, 1}, Msg: fmt.Sprintf("policy is %d bytes; the limit is %d", size, MaxPolicyBytes)}}
}

// ReadFile reads a policy file for [Load], refusing one over
// [MaxPolicyBytes] with Load's error before reading it: a file's size is
// known from its metadata, and anything else (a pipe) is read only up to
// the limit.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if err := CheckSize(path, st.Size()); err != nil {
			return nil, err
		}
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxPolicyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxPolicyBytes {
		return nil, ErrorList{{Pos: Position{path, 1, 1}, Msg: fmt.Sprintf("policy is more than %d bytes, the limit", MaxPolicyBytes)}}
	}
	return src, nil
}

// yamlScanDepth bounds how deeply the raw text may nest before yaml.v3,
// which recurses once per level, parses it. yaml.v3 allows 10,000 levels,
// which overflowed the js build's stack. The count is loose (a column of
// indentation counts as a level), so it is ten times MaxYAMLDepth, which
// the parsed tree is then held to exactly.
const yamlScanDepth = 10 * MaxYAMLDepth

// yamlBudget returns the position where the raw text passes a limit, and
// which, before yaml.v3 builds a tree of about 170 bytes a node: a 1 MiB
// flow list would take 90 MB natively and more than a wasm instance has.
func yamlBudget(src []byte) (line, col int, over string) {
	sc := yamlTokens(src, MaxYAMLNodes/2, yamlScanDepth)
	return sc.line, sc.col, sc.over
}

// yamlScan is what yamlTokens learns of a text.
type yamlScan struct {
	tokens, depth int // tokens counted; the deepest nesting bound seen
	line, col     int // where a limit was passed
	over          string
}

// yamlTokens counts the tokens that can start a YAML node, up to limit,
// and bounds the nesting, up to depthLimit, by indentation plus the block
// indicators (- ? :) on the line plus open flow brackets. Both over-count
// and never under-count (FuzzYAMLTokens checks it): every word counts,
// in comments and quotes too, since telling a quote or comment apart
// needs a parser; and a document of n tokens has at most 2n+1 nodes, a
// key's implicit null and a block mapping, which have no token of their
// own, being paid for by the key's. over is "" or which limit was passed.
func yamlTokens(src []byte, limit, depthLimit int) (sc yamlScan) {
	line, col := 1, 0
	start := true // at the start of a token
	lineStart, indent, indicators, flow := true, 0, 0, 0
	// The open flow brackets, innermost last: a ':' directly inside
	// braces separates a key from its value, nesting nothing, where inside
	// brackets ([a: 1]) it opens a mapping. Counting every ':' refused a
	// flat flow mapping of 1,000 keys as nested too deeply.
	var open []byte
	// lineFlow is the deepest flow nesting on the line so far: a ':' after
	// a flow collection at block level makes that collection a key, one
	// level down ("{a: b}: c").
	lineFlow := 0
	blank := func(i int) bool {
		return i >= len(src) || src[i] == ' ' || src[i] == '\n' || src[i] == '\t' || src[i] == '\r'
	}
	for i, c := range src {
		if c&0xC0 != 0x80 { // columns count characters, not bytes
			col++
		}
		if c == '\n' {
			line, col, start = line+1, 0, true
			lineStart, indent, indicators, lineFlow = true, 0, 0, flow
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' {
			if lineStart {
				indent++
			}
			start = true
			continue
		}
		lineStart = false
		switch {
		case c == ':' && blank(i+1):
			switch {
			case flow == 0:
				indicators += 1 + lineFlow
				lineFlow = 0
			case open[len(open)-1] != '{':
				indicators++
			}
		case start && c == '-' && blank(i+1):
			// A sequence and its entry: under a key the sequence may sit
			// at the key's own indentation ("a:\n- b"), adding a level
			// the indentation does not show.
			indicators += 2
		case start && c == '?' && blank(i+1):
			indicators++
		case c == '[' || c == '{':
			flow++
			open = append(open, c)
			lineFlow = max(lineFlow, flow)
		case (c == ']' || c == '}') && flow > 0:
			flow--
			open = open[:len(open)-1]
		}
		if sc.depth = max(sc.depth, indent+indicators+flow); sc.depth > depthLimit {
			sc.line, sc.col, sc.over = line, col, "depth"
			return sc
		}
		switch {
		case c == ']' || c == '}' || c == ',':
			// A comma makes no node: the implicit null after a flow
			// mapping's key is the key's second node.
			start = true
			continue
		case !start && c != '[' && c != '{':
			continue
		}
		start = c == '[' || c == '{'
		if sc.tokens++; sc.tokens > limit {
			sc.line, sc.col, sc.over = line, col, "values"
			return sc
		}
	}
	return sc
}

// yamlShape walks the parsed tree as the loader will see it, aliases
// expanded, and reports the first node past MaxYAMLDepth, the alias that
// takes the expanded count past MaxYAMLNodes, or an alias inside its own
// anchor. Sizes and heights are memoised per anchored node (only those
// are aliased; every node in maps cost a seventh of a reload), so the walk
// is linear in the text however the aliases multiply.
type yamlShape struct {
	l      *loader
	size   map[*yaml.Node]int // expanded size of a finished node
	height map[*yaml.Node]int // expanded nesting below a finished node
	open   map[*yaml.Node]bool
}

func (l *loader) checkYAML(root *yaml.Node) bool {
	s := &yamlShape{l: l, size: map[*yaml.Node]int{}, height: map[*yaml.Node]int{}, open: map[*yaml.Node]bool{}}
	size, _ := s.walk(root, 0)
	return size >= 0
}

// walk returns n's expanded size and height, or a size of -1 after
// reporting an error. Anchors precede their aliases, so an alias's target
// is either finished or an ancestor of the alias.
func (s *yamlShape) walk(n *yaml.Node, depth int) (size, height int) {
	if depth > MaxYAMLDepth {
		s.l.errAt(n, "", fmt.Sprintf("YAML values nested more than %d deep", MaxYAMLDepth))
		return -1, 0
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		t := n.Alias
		if s.open[t] {
			s.l.errAt(n, "", fmt.Sprintf("alias *%s refers to itself: it is inside its own anchor", n.Value))
			return -1, 0
		}
		size, ok := s.size[t]
		if !ok {
			return s.walk(t, depth)
		}
		height = s.height[t]
		switch {
		case depth+height > MaxYAMLDepth:
			s.l.errAt(n, "", fmt.Sprintf("alias *%s nests YAML values more than %d deep", n.Value, MaxYAMLDepth))
			return -1, 0
		case size > MaxYAMLNodes:
			s.l.errAt(n, "", fmt.Sprintf("alias *%s expands to more than %d YAML values", n.Value, MaxYAMLNodes))
			return -1, 0
		}
		return size, height
	}
	if n.Anchor != "" {
		s.open[n] = true
		defer delete(s.open, n)
	}
	size = 1
	for _, c := range n.Content {
		cs, ch := s.walk(c, depth+1)
		if cs < 0 {
			return -1, 0
		}
		size, height = size+cs, max(height, ch+1)
		if size > MaxYAMLNodes {
			s.l.errAt(c, "", fmt.Sprintf("the policy expands to more than %d YAML values", MaxYAMLNodes))
			return -1, 0
		}
	}
	if n.Anchor != "" {
		s.size[n], s.height[n] = size, height
	}
	return size, height
}

// exprDepth bounds from above how deeply expr's recursive-descent parser
// will recurse on src, from its tokens alone, and returns the offset where
// the bound first passes MaxExprDepth. expr's parser has no depth limit,
// and in Go a stack overflow is fatal, not a panic: a condition of a
// million "!" killed the process. The model follows parseExpression: an
// opening bracket, a prefix operator, a ternary, a let and an if each
// open a level; a binary operator opens one that a lower-precedence
// operator closes; a comma, colon or semicolon closes the operators of
// its bracket.
func exprDepth(src string) (off int, over bool) { return exprDepthN(src, MaxExprDepth) }

// exprDepthN is exprDepth with another limit.
func exprDepthN(src string, limit int) (off int, over bool) {
	type level struct {
		ops     []int // precedences of the open operator levels
		persist int   // ternaries, lets and ifs, open until the bracket closes
	}
	levels := []level{{}}
	total := 1
	prefix := true
	lx := lexer.New()
	lx.Reset(file.NewSource(src))
	for {
		t, err := lx.Next()
		if err != nil || t.Kind == lexer.EOF {
			return 0, false // expr reports lexer errors itself
		}
		cur := &levels[len(levels)-1]
		popTo := func(prec int) {
			for len(cur.ops) > 0 && cur.ops[len(cur.ops)-1] > prec {
				cur.ops = cur.ops[:len(cur.ops)-1]
				total--
			}
		}
		switch {
		case t.Kind == lexer.Bracket && (t.Value == "(" || t.Value == "[" || t.Value == "{"):
			levels = append(levels, level{})
			total++
			prefix = true
		case t.Kind == lexer.Bracket:
			if len(levels) > 1 {
				total -= 1 + len(cur.ops) + cur.persist
				levels = levels[:len(levels)-1]
			}
			prefix = false
		case t.Kind == lexer.Operator:
			v := t.Value
			un, isUnary := operator.Unary[v]
			bin, isBinary := operator.Binary[v]
			switch {
			case prefix && isUnary:
				cur.ops = append(cur.ops, un.Precedence)
				total++
			case v == "," || v == ";" || v == ":":
				popTo(-1)
			case v == "?" || v == "let" || v == "if":
				popTo(-1)
				cur.persist++
				total++
			case isBinary:
				popTo(bin.Precedence)
				if bin.Associativity == operator.Right {
					cur.ops = append(cur.ops, bin.Precedence)
				} else {
					cur.ops = append(cur.ops, bin.Precedence+1)
				}
				total++
			}
			prefix = v != "." && v != "?." && v != "#"
		default:
			prefix = false
		}
		if total > limit {
			return t.From, true
		}
	}
}
