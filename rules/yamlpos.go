package rules

import (
	"unicode"

	"gopkg.in/yaml.v3"
)

// srcMap maps offsets inside a YAML scalar's value back to file positions.
// Block scalars, folded lines and quotes make the value differ from the
// source text, so we walk both in step, matching non-space characters.
type srcMap struct {
	lines [][]rune
	file  string
}

func newSrcMap(file string, src []byte) *srcMap {
	m := &srcMap{file: file}
	start := 0
	for i := 0; i <= len(src); i++ {
		if i == len(src) || src[i] == '\n' {
			m.lines = append(m.lines, []rune(string(src[start:i])))
			start = i + 1
		}
	}
	return m
}

func (m *srcMap) textLines() []string {
	out := make([]string, len(m.lines))
	for i, l := range m.lines {
		out[i] = string(l)
	}
	return out
}

// pos is the position of a node's first character.
func (m *srcMap) pos(n *yaml.Node) Position {
	return Position{Filename: m.file, Line: n.Line, Column: n.Column}
}

// at maps a rune offset within the value of scalar n to a file position.
func (m *srcMap) at(n *yaml.Node, offset int) Position {
	p := m.pos(n)
	if n.Kind != yaml.ScalarNode || n.Line < 1 || n.Line > len(m.lines) {
		return p
	}
	val := []rune(n.Value)
	// The k-th non-space rune of the value, where k counts from 0.
	k := 0
	for i := 0; i < offset && i < len(val); i++ {
		if !unicode.IsSpace(val[i]) {
			k++
		}
	}
	line, col := n.Line-1, n.Column-1
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		line, col = line+1, 0 // content starts on the line after the indicator
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		col++
	}
	for ; line < len(m.lines); line, col = line+1, 0 {
		l := m.lines[line]
		for ; col < len(l); col++ {
			if unicode.IsSpace(l[col]) {
				continue
			}
			if k == 0 {
				return Position{Filename: m.file, Line: line + 1, Column: col + 1}
			}
			if n.Style == yaml.DoubleQuotedStyle && l[col] == '\\' {
				col++ // an escape is one character of the value
			}
			k--
		}
	}
	return p
}
