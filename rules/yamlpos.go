package rules

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// srcMap maps offsets inside a YAML scalar's value back to file positions.
// Block scalars, folded lines and quotes make the value differ from the
// source text, so we walk both in step, matching non-space characters.
type srcMap struct {
	src  string
	file string
	// lines is src in runes by line, made on first use: only a position
	// inside a scalar (an error's, mostly) needs it.
	once  sync.Once
	lines [][]rune
}

func newSrcMap(file string, src []byte) *srcMap {
	return &srcMap{file: file, src: string(src)}
}

func (m *srcMap) runeLines() [][]rune {
	m.once.Do(func() {
		for _, l := range strings.Split(m.src, "\n") {
			m.lines = append(m.lines, []rune(l))
		}
	})
	return m.lines
}

// textLines is the source by line, each valid UTF-8 (an invalid byte
// reads as U+FFFD, as in a conversion through runes).
func (m *srcMap) textLines() []string {
	out := strings.Split(m.src, "\n")
	if !utf8.ValidString(m.src) {
		for i, l := range out {
			out[i] = string([]rune(l))
		}
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
	lines := m.runeLines()
	if n.Kind != yaml.ScalarNode || n.Line < 1 || n.Line > len(lines) {
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
	for ; line < len(lines); line, col = line+1, 0 {
		l := lines[line]
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
