package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
)

// openAPI builds the OpenAPI 3.1 document of a route table. Schemas are
// reflected from the Go types the handlers decode and encode, so the
// document cannot drift from the code; TestOpenAPIIsFresh keeps the
// committed copy (openapi.json) equal to it.
func openAPI(rts []*route) ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, rt := range rts {
		op := map[string]any{"operationId": rt.op, "summary": rt.summary}
		var params []any
		for _, name := range pathParams(rt.path) {
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.query {
			t := "string"
			if q.integer {
				t = "integer"
			}
			params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.desc, "schema": map[string]any{"type": t, "minimum": 0}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.in != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.input(rt.in)}}}
		}
		resps := map[string]any{}
		for _, r := range rt.out {
			resp := map[string]any{"description": r.desc}
			switch {
			case rt.op == "metrics":
				resp["content"] = map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
			case rt.op == "openapi":
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
			case len(r.bodies) == 1:
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(r.bodies[0])}}
			default:
				var alts []any
				for _, b := range r.bodies {
					alts = append(alts, g.schema(b))
				}
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"anyOf": alts}}}
			}
			resps[fmt.Sprint(r.status)] = resp
		}
		resps["default"] = map[string]any{"description": "An error, as RFC 9457 problem details.",
			"content": map[string]any{"application/problem+json": map[string]any{"schema": g.schema(Problem{})}}}
		op["responses"] = resps
		if rt.access != public {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
			scope := "app or operator"
			if rt.access == operator {
				scope = "operator"
			}
			op["description"] = "Key scope: " + scope + "."
		}
		if paths[rt.path] == nil {
			paths[rt.path] = map[string]any{}
		}
		paths[rt.path][strings.ToLower(rt.method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "connrules", "version": "1",
			"description": "Connection-request rules and the invitation lifecycle over HTTP. App keys see only the acting member's view; operator keys see everything."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         g.defs,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func pathParams(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

// schemaGen reflects Go types into components/schemas.
type schemaGen struct {
	defs map[string]any
}

// typeName names a schema after its package and type, so that
// rules.Member and lifecycle.Member do not collide.
func typeName(t reflect.Type) string {
	pkg := t.PkgPath()
	pkg = pkg[strings.LastIndexByte(pkg, '/')+1:]
	switch pkg {
	case "service", "":
		return t.Name()
	}
	return strings.ToUpper(pkg[:1]) + pkg[1:] + t.Name()
}

// schema returns the schema of v's type as a response body: a $ref for a
// struct, with every struct it reaches added to the components. Fields
// without omitempty are required, as encoding/json always writes them.
func (g *schemaGen) schema(v any) any { return g.reflect(v, typeName, false) }

// input is the schema of a request body: the same types under names
// ending in Input, where no field is required (a missing one reads as its
// zero value, as in rules.DecodeRequest).
func (g *schemaGen) input(v any) any {
	return g.reflect(v, func(t reflect.Type) string {
		n := typeName(t)
		if n == "" || strings.HasSuffix(n, "Input") {
			return n
		}
		return n + "Input"
	}, true)
}

func (g *schemaGen) reflect(v any, namer func(reflect.Type) string, optional bool) any {
	r := &jsonschema.Reflector{Anonymous: true, Namer: namer, RequiredFromJSONSchemaTags: optional}
	s := r.Reflect(v)
	b, _ := json.Marshal(s)
	b = bytes.ReplaceAll(b, []byte(`"#/$defs/`), []byte(`"#/components/schemas/`))
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if defs, ok := m["$defs"].(map[string]any); ok {
		for name, d := range defs {
			g.defs[name] = d
		}
	}
	delete(m, "$defs")
	delete(m, "$schema")
	fixNullable(reflect.TypeOf(v), namer, g.defs, map[reflect.Type]bool{})
	return m
}

// fixNullable widens what encoding/json may write as null: slices and
// maps (nil encodes as null) and pointers without omitempty.
func fixNullable(t reflect.Type, namer func(reflect.Type) string, defs map[string]any, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() == "time" {
		return
	}
	seen[t] = true
	def, _ := defs[namer(t)].(map[string]any)
	props, _ := def["properties"].(map[string]any)
	for name, ft := range jsonFields(t) {
		fixNullable(ft, namer, defs, seen)
		if props == nil || props[name] == nil {
			continue
		}
		k := ft.Kind()
		if k != reflect.Slice && k != reflect.Map && k != reflect.Pointer {
			continue
		}
		if f, ok := t.FieldByName(fieldName(t, name)); ok && strings.Contains(f.Tag.Get("json"), "omitempty") && k != reflect.Pointer {
			continue
		}
		if f, ok := t.FieldByName(fieldName(t, name)); ok && k == reflect.Pointer && strings.Contains(f.Tag.Get("json"), "omitempty") {
			continue
		}
		props[name] = map[string]any{"anyOf": []any{props[name], map[string]any{"type": "null"}}}
	}
}

func fieldName(t reflect.Type, jsonName string) string {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if n == jsonName || n == "" && f.Name == jsonName {
			return f.Name
		}
	}
	return ""
}
