package scenario

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem in a scenario file, at a position. Its text is
// "file:line:col: message" followed by the source line and a caret.
type Error struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Msg    string `json:"message"`
	// Snippet is the source line and a caret line.
	Snippet string `json:"snippet,omitempty"`
}

// Error implements error: the position, the message and the snippet.
func (e *Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	if e.Snippet != "" {
		s += "\n" + e.Snippet
	}
	return s
}

// errAt makes a positioned error; the file and snippet are filled in by
// Parse.
func errAt(n *yaml.Node, format string, args ...any) *Error {
	e := &Error{Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

func snippet(lines []string, line, col int) string {
	if line < 1 || line > len(lines) {
		return ""
	}
	src := strings.ReplaceAll(strings.TrimRight(lines[line-1], "\r"), "\t", " ")
	gutter := fmt.Sprintf("%5d | ", line)
	return gutter + src + "\n" + strings.Repeat(" ", len(gutter)-2) + "| " + strings.Repeat(" ", max(col, 1)-1) + "^"
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// decode fills v from n strictly: unknown keys, wrong kinds and bad
// scalars are errors at the offending node. Fields are named by their
// yaml tags.
func decode(n *yaml.Node, v any) error {
	return decodeValue(n, reflect.ValueOf(v).Elem())
}

func decodeValue(n *yaml.Node, v reflect.Value) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				return errAt(n, "%v", err)
			}
		}
		return err
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.ShortTag() == "!!null" {
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeValue(n, v.Elem())
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return errAt(n, "want a mapping with keys %s, got %s", strings.Join(fieldNames(v.Type()), ", "), describe(n))
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if seen[k.Value] {
				return errAt(k, "duplicate key %q", k.Value)
			}
			seen[k.Value] = true
			f, ok := fieldByTag(v, k.Value)
			if !ok {
				return errAt(k, "unknown key %q (want one of %s)", k.Value, strings.Join(fieldNames(v.Type()), ", "))
			}
			if err := decodeValue(val, f); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return errAt(n, "want a list, got %s", describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := decodeValue(c, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return errAt(n, "want a mapping, got %s", describe(n))
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := reflect.New(v.Type().Key()).Elem()
			if err := decodeValue(n.Content[i], k); err != nil {
				return err
			}
			val := reflect.New(v.Type().Elem()).Elem()
			if err := decodeValue(n.Content[i+1], val); err != nil {
				return err
			}
			m.SetMapIndex(k, val)
		}
		v.Set(m)
		return nil
	}
	if n.Kind != yaml.ScalarNode && v.Kind() != reflect.Interface {
		return errAt(n, "want %s, got %s", kindName(v.Type()), describe(n))
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return errAt(n, "want %s, got %q", kindName(v.Type()), n.Value)
	}
	return nil
}

func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == name && tag != "-" {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	sort.Strings(names)
	return names
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func reflectOf(p any) reflect.Value { return reflect.ValueOf(p).Elem() }
