package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// maxDepth bounds the nesting of a request body.
const maxDepth = 32

// decodeStrict decodes one JSON value into v. Unknown fields, trailing
// data, wrong types and excessive nesting are errors naming the JSON path.
func decodeStrict(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return badRequest("", "the request body is empty; send a JSON document")
	}
	// First pass: well-formed, one value, bounded depth, no unknown fields.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return syntaxError(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("", "trailing data after the JSON document")
	}
	if err := checkShape(raw, reflect.TypeOf(v).Elem(), "", 0); err != nil {
		return err
	}
	// Second pass: the typed decode, with the path of a type mismatch.
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return badRequest(ute.Field, fmt.Sprintf("expected %s, got JSON %s", ute.Type, ute.Value))
		}
		return badRequest("", err.Error())
	}
	return nil
}

func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return badRequest("", fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return badRequest("", "the JSON document ends early")
	}
	return badRequest("", "malformed JSON: "+err.Error())
}

// checkShape walks a decoded document beside the Go type it must fit and
// reports the first unknown field, or nesting past maxDepth, by its path.
func checkShape(v any, t reflect.Type, path string, depth int) error {
	if depth > maxDepth {
		return badRequest(path, fmt.Sprintf("nested deeper than %d levels", maxDepth))
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			if t.String() == "time.Time" {
				return nil // the typed decode reports the mismatch
			}
			fields := jsonFields(t)
			for k, sub := range x {
				ft, ok := fields[k]
				if !ok {
					return badRequest(join(path, k), "unknown field")
				}
				if err := checkShape(sub, ft, join(path, k), depth+1); err != nil {
					return err
				}
			}
		case reflect.Map:
			for k, sub := range x {
				if err := checkShape(sub, t.Elem(), join(path, k), depth+1); err != nil {
					return err
				}
			}
		case reflect.Interface:
			return checkShape(x, t, path, depth+1)
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, sub := range x {
				if err := checkShape(sub, t.Elem(), path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonFields maps a struct's JSON names to field types, following
// embedded structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
