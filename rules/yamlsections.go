package rules

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// An edit in the editor changes one top-level section of a policy
// (params, let, stages, tests, ...), yet parsing the whole YAML was about
// 40% of a Loader's reload. parseSections parses each top-level section on
// its own and reuses, by text, the sections an earlier load parsed; the
// tree it returns is the one yaml.Unmarshal returns for the whole text,
// comments aside (the loader reads none), as TestSectionsParseAsWhole
// and FuzzSectionsParseAsWhole check. Text it cannot split safely, and
// any section that fails to parse, goes to yaml.Unmarshal whole, so
// errors are the whole parse's errors.

// yamlSection is a parsed top-level section: its mapping's key and
// value, with lines counted from the section's first line, and the
// document and mapping nodes when the section starts the file.
type yamlSection struct {
	doc, mapping *yaml.Node
	key, value   *yaml.Node
}

// parseYAML parses src into doc as yaml.Unmarshal does, by sections when
// g keeps them.
func (g *cacheGen) parseYAML(src []byte, doc *yaml.Node) error {
	if g == nil || !g.parseSections(src, doc) { // doc is untouched then
		return yaml.Unmarshal(src, doc)
	}
	return nil
}

// maxSections is the most top-level keys parsed section by section: a
// policy has about ten, and a text with thousands would pay a parse call
// for each (a hostile one could take several times the whole parse).
const maxSections = 64

// parseSections fills doc from src's sections, reusing those of the last
// load; false: src must be parsed whole.
func (g *cacheGen) parseSections(src []byte, doc *yaml.Node) bool {
	starts, ok := sectionStarts(src)
	if !ok || len(starts) == 0 || len(starts) > maxSections {
		return false
	}
	g.cur.sections = make(map[string]*yamlSection, len(starts))
	// Every section is found or parsed before any is copied: one that
	// fails sends the whole text to yaml.Unmarshal.
	secs := make([]*yamlSection, len(starts))
	lines := make([]int, len(starts)) // each section's first line
	line, from := 1, 0
	for i, at := range starts {
		if i == 0 {
			at = 0 // the comments and blank lines before the first key go with it
		}
		end := len(src)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		if secs[i] = g.section(src[at:end], i == 0); secs[i] == nil {
			return false
		}
		line += bytes.Count(src[from:at], []byte{'\n'})
		lines[i], from = line, at
	}
	*doc = *secs[0].doc
	mapping := new(yaml.Node)
	*mapping = *secs[0].mapping
	mapping.Content = make([]*yaml.Node, 0, 2*len(secs))
	doc.Content = []*yaml.Node{mapping}
	for i, s := range secs {
		c := nodeCopier{offset: lines[i] - 1}
		mapping.Content = append(mapping.Content, c.copy(s.key), c.copy(s.value))
	}
	return true
}

// section parses one section's text, or finds it among the last load's.
func (g *cacheGen) section(text []byte, first bool) *yamlSection {
	key := string(text)
	if first {
		key = "\x00" + key // the first carries the document's nodes
	}
	if g.old != nil {
		if s := g.old.sections[key]; s != nil {
			g.cur.sections[key] = s
			return s
		}
	}
	var d yaml.Node
	if yaml.Unmarshal(text, &d) != nil || d.Kind != yaml.DocumentNode || len(d.Content) != 1 {
		return nil
	}
	m := d.Content[0]
	if m.Kind != yaml.MappingNode || len(m.Content) != 2 {
		return nil
	}
	s := &yamlSection{key: m.Content[0], value: m.Content[1]}
	if first {
		s.doc, s.mapping = &d, m
	}
	g.cur.sections[key] = s
	return s
}

// sectionStarts returns the offsets of the lines that start a top-level
// key (a plain identifier then ':' at column 1). false: a line at column 1
// that is none of a key, a comment, a blank line or a sequence item (a
// document marker, a directive, flow or quoted text, a key that is not an
// identifier): the text is parsed whole.
func sectionStarts(src []byte) ([]int, bool) {
	if !onlyLF(src) {
		return nil, false
	}
	var starts []int
	for at := 0; at < len(src); {
		end := bytes.IndexByte(src[at:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += at
		}
		line := src[at:end]
		switch {
		case len(starts) == 0 && !topKey(line):
			// Before the first key only comments and blank lines.
			if t := bytes.TrimLeft(line, " "); len(t) > 0 && t[0] != '#' && t[0] != '\r' {
				return nil, false
			}
		case len(line) == 0 || line[0] == ' ' || line[0] == '#' || line[0] == '\r':
		case line[0] == '-' && (len(line) == 1 || line[1] == ' ' || line[1] == '\r'):
		case topKey(line):
			starts = append(starts, at)
		default:
			return nil, false
		}
		at = end + 1
	}
	return starts, true
}

// topKey says whether line starts with an identifier, then ':' and a
// space, a comment or the end of the line.
func topKey(line []byte) bool {
	i := 0
	for i < len(line) && (line[i] == '_' || line[i] >= 'a' && line[i] <= 'z' || line[i] >= 'A' && line[i] <= 'Z' || i > 0 && line[i] >= '0' && line[i] <= '9') {
		i++
	}
	if i == 0 || i >= len(line) || line[i] != ':' {
		return false
	}
	return i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\r'
}

// nodeCopier copies a section's tree with its lines moved by offset; an
// alias points at the copy of its anchor.
type nodeCopier struct {
	offset int
	seen   map[*yaml.Node]*yaml.Node
}

func (c *nodeCopier) copy(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	// Only an anchored node is an alias's target, so only those are
	// remembered.
	if m, ok := c.seen[n]; ok {
		return m
	}
	m := new(yaml.Node)
	*m = *n
	if n.Anchor != "" {
		if c.seen == nil {
			c.seen = map[*yaml.Node]*yaml.Node{}
		}
		c.seen[n] = m
	}
	m.Line += c.offset
	if n.Content != nil {
		m.Content = make([]*yaml.Node, len(n.Content))
		for i, k := range n.Content {
			m.Content[i] = c.copy(k)
		}
	}
	m.Alias = c.copy(n.Alias)
	return m
}

// onlyLF says whether every line break of src is \n or \r\n, the ones
// the sections' lines are counted by: YAML also breaks lines at a lone
// \r, and yaml.v3 at NEL, LS and PS.
func onlyLF(src []byte) bool {
	return bytes.Count(src, []byte{'\r'}) == bytes.Count(src, []byte("\r\n")) &&
		!bytes.Contains(src, []byte("\u0085")) && !bytes.Contains(src, []byte("\u2028")) && !bytes.Contains(src, []byte("\u2029"))
}
