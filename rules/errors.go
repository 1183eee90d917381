package rules

import (
	"fmt"
	"sort"
	"strings"
)

// Position is a place in a policy file. Line and Column count from 1;
// Column counts characters, not bytes.
type Position struct {
	Filename string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// String formats the position as file:line:col.
func (p Position) String() string {
	return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column)
}

// Error is one problem found while loading a policy. Its Error text is
// "file:line:col: rule "id": message" followed by the source line and a
// caret under the spot.
type Error struct {
	Pos Position `json:"pos"`
	// Rule is the id of the rule at fault, empty outside rules.
	Rule string `json:"rule,omitempty"`
	Msg  string `json:"message"`
	// Snippet is the source line and a caret line, without a trailing newline.
	Snippet string `json:"snippet,omitempty"`
}

// Error formats the problem with its position, rule and caret snippet.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	b.WriteString(e.Msg)
	if e.Snippet != "" {
		b.WriteString("\n")
		b.WriteString(e.Snippet)
	}
	return b.String()
}

// ErrorList is every problem found in a policy, in source order. Loading
// reports all of them at once, not only the first.
type ErrorList []*Error

// Error joins every problem, one after another, in source order.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// snippetWidth is the most characters of a source line a snippet shows.
const snippetWidth = 160

// snippet renders the source line of pos with a caret under its column.
func snippet(lines []string, pos Position) string {
	if pos.Line < 1 || pos.Line > len(lines) {
		return ""
	}
	line := strings.ReplaceAll(strings.TrimRight(lines[pos.Line-1], "\r"), "\t", " ")
	gutter := fmt.Sprintf("%5d | ", pos.Line)
	col := max(pos.Column, 1)
	// A long line (a hostile policy's may be a megabyte) shows a window
	// around the column.
	if r := []rune(line); len(r) > snippetWidth {
		from := max(0, min(col-1-snippetWidth/2, len(r)-snippetWidth))
		to := min(len(r), from+snippetWidth)
		line = string(r[from:to])
		col -= from
		if from > 0 {
			line, col = "…"+line, col+1
		}
		if to < len(r) {
			line += "…"
		}
	}
	return gutter + line + "\n" + strings.Repeat(" ", len(gutter)-2) + "| " + strings.Repeat(" ", col-1) + "^"
}
