package rules

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

var (
	typInt      = reflect.TypeOf(0)
	typFloat    = reflect.TypeOf(0.0)
	typBool     = reflect.TypeOf(false)
	typString   = reflect.TypeOf("")
	typDuration = reflect.TypeOf(durationZero)
	typAny      = reflect.TypeOf((*any)(nil)).Elem()
)

// paramValue turns a YAML params node into a typed Go value, so that
// expressions over params are type-checked at load time like facts are.
// Mappings become structs whose fields carry expr tags; a mapping whose
// values are all mappings of one shape (a table, such as tiers) becomes a
// map from string to that struct, so it can be indexed by a fact.
func (l *loader) paramValue(n *yaml.Node, path string) reflect.Value {
	n = resolveAlias(n)
	k := len(n.Content)
	if n.Kind == yaml.MappingNode {
		k /= 2
	}
	if k > MaxParamsList {
		l.errAt(n, "", fmt.Sprintf("param %s has %d entries, over the limit of %d", path, k, MaxParamsList))
		return reflect.ValueOf(0)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if len(n.Value) > MaxParamsList {
			l.errAt(n, "", fmt.Sprintf("param %s is %d bytes long, over the limit of %d", path, len(n.Value), MaxParamsList))
			return reflect.ValueOf("")
		}
		return l.paramScalar(n, path)
	case yaml.SequenceNode:
		vals := make([]reflect.Value, len(n.Content))
		var elem reflect.Type
		for i, c := range n.Content {
			vals[i] = l.paramValue(c, fmt.Sprintf("%s[%d]", path, i))
			switch {
			case i == 0:
				elem = vals[i].Type()
			case elem != vals[i].Type():
				elem = typAny
			}
		}
		if elem == nil {
			elem = typString // an empty list is most often a list of names
		}
		s := reflect.MakeSlice(reflect.SliceOf(elem), len(vals), len(vals))
		for i, v := range vals {
			s.Index(i).Set(v)
		}
		return s
	case yaml.MappingNode:
		keys := make([]string, 0, len(n.Content)/2)
		vals := make([]reflect.Value, 0, len(n.Content)/2)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if seen[k.Value] {
				l.errAt(k, "", fmt.Sprintf("duplicate key %q in %s", k.Value, path))
				continue
			}
			seen[k.Value] = true
			keys = append(keys, k.Value)
			vals = append(vals, l.paramValue(n.Content[i+1], path+"."+k.Value))
		}
		if t := tableType(vals); t != nil {
			m := reflect.MakeMapWithSize(reflect.MapOf(typString, t), len(keys))
			for i, k := range keys {
				m.SetMapIndex(reflect.ValueOf(k), vals[i])
			}
			return m
		}
		return l.paramStruct(n, keys, vals, path)
	}
	l.errAt(n, "", fmt.Sprintf("param %s: unsupported YAML node", path))
	return reflect.ValueOf(0)
}

// tableType returns the common struct type when every value is a struct
// of the same type, else nil.
func tableType(vals []reflect.Value) reflect.Type {
	if len(vals) < 2 {
		return nil
	}
	t := vals[0].Type()
	for _, v := range vals {
		if v.Type() != t || t.Kind() != reflect.Struct {
			return nil
		}
	}
	return t
}

func (l *loader) paramStruct(n *yaml.Node, keys []string, vals []reflect.Value, path string) reflect.Value {
	// Sort fields by name so that mappings with the same keys in another
	// order get the same type and can form a table.
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	fields := make([]reflect.StructField, 0, len(keys))
	order := make([]int, 0, len(keys))
	for _, i := range idx {
		if !isIdent(keys[i]) {
			l.errAt(keyNode(n, keys[i]), "", fmt.Sprintf("param name %q in %s is not an identifier (letters, digits and _)", keys[i], path))
			continue
		}
		fields = append(fields, reflect.StructField{
			Name: "F" + strconv.Itoa(len(fields)),
			Type: vals[i].Type(),
			Tag:  reflect.StructTag(`expr:"` + keys[i] + `"`),
		})
		order = append(order, i)
	}
	t := reflect.StructOf(fields)
	if l.paramTypes == nil {
		l.paramTypes = map[string]paramType{}
	}
	names := make([]string, len(order))
	for f, i := range order {
		names[f] = keys[i]
	}
	l.paramTypes[t.String()] = paramType{path: path, fields: names}
	v := reflect.New(t).Elem()
	for f, i := range order {
		v.Field(f).Set(vals[i])
	}
	return v
}

func (l *loader) paramScalar(n *yaml.Node, path string) reflect.Value {
	switch n.ShortTag() {
	case "!!int":
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			l.errAt(n, "", fmt.Sprintf("param %s: bad integer %q", path, n.Value))
		}
		return reflect.ValueOf(int(i))
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			l.errAt(n, "", fmt.Sprintf("param %s: bad number %q", path, n.Value))
		}
		return reflect.ValueOf(f)
	case "!!bool":
		var b bool
		_ = n.Decode(&b)
		return reflect.ValueOf(b)
	case "!!null":
		l.errAt(n, "", fmt.Sprintf("param %s has no value", path))
		return reflect.ValueOf(0)
	}
	// A string that starts with a digit is a duration: "90d", "1w", "36h".
	if s := n.Value; s != "" && (s[0] >= '0' && s[0] <= '9' || len(s) > 1 && s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
		d, err := ParseDuration(s)
		if err != nil {
			l.errAt(n, "", fmt.Sprintf("param %s: %v", path, err))
		}
		return reflect.ValueOf(d)
	}
	return reflect.ValueOf(n.Value)
}

func keyNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return m
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9' {
			continue
		}
		return false
	}
	return true
}
