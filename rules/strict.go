package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// encoding/json is lenient where facts must not be: it reads null as the
// zero value, matches keys ignoring case, keeps the last of duplicate
// keys, and stops reading after the first value. Each of those can turn
// a denial into an allow ("blocked": null, "BLOCKED": true on top of a
// "blocked": false), so after encoding/json has accepted a request,
// checkStrict walks its tokens once more against the request's shape.
// The hand-written decoder leaves its fast path for all of these, so both
// decoders, and every runtime, give the same error.

// field kinds of the request's shape.
type kind uint8

const (
	scalar  kind = iota // string, number or bool: never null
	object              // never null
	nullObj             // an object or null (sender, recipient)
	optTime             // a time or null (the omitzero times)
	strList             // a list of strings, or null
)

type shape struct {
	kind   kind
	fields map[string]shape // for object and nullObj
}

var (
	countsShape = shape{kind: object, fields: map[string]shape{"hour": {}, "day": {}, "week": {}, "month": {}}}
	memberShape = shape{kind: nullObj, fields: map[string]shape{
		"id": {}, "kind": {}, "tier": {}, "status": {}, "restricted_until": {kind: optTime},
		"soft_banned_until": {kind: optTime}, "title": {},
		"connections": {}, "company": {}, "school": {}, "sent": countsShape, "received": countsShape,
		"over_limit": {}, "acceptance_rate": {},
		"settings": {kind: object, fields: map[string]shape{
			"invitations": {}, "companies": {kind: strList}, "schools": {kind: strList},
			"titles": {kind: strList}, "require_confirmation": {},
			"auto_accept": {kind: object, fields: map[string]shape{
				"companies": {kind: strList}, "schools": {kind: strList}, "titles": {kind: strList},
			}},
		}},
	}}
	requestShape = shape{kind: object, fields: map[string]shape{
		"stage": {}, "now": {}, "note": {}, "sender": memberShape, "recipient": memberShape,
		"pair": {kind: object, fields: map[string]shape{
			"connected": {}, "degree": {}, "mutual": {}, "knows_email": {}, "in_contacts": {},
			"blocked": {}, "pending": {}, "ignored": {}, "last_ignored_at": {kind: optTime},
			"rejected": {}, "withdrawn_at": {kind: optTime},
		}},
	}}
)

// checkStrict checks a request that encoding/json decoded without error:
// no null where the field cannot be null, keys spelt exactly, no key
// twice, nothing after the object.
func checkStrict(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := strictValue(dec, requestShape, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return &FactsError{Msg: "trailing data after the request object"}
	}
	return nil
}

func strictValue(dec *json.Decoder, s shape, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return &FactsError{Field: path, Msg: err.Error()}
	}
	if tok == nil {
		if path == "" {
			return &FactsError{Msg: "the request is null, not an object"}
		}
		switch s.kind {
		case nullObj, optTime, strList:
			return nil
		}
		return &FactsError{Field: path, Msg: "null is not allowed; omit the field for its default"}
	}
	switch s.kind {
	case object, nullObj:
		if tok != json.Delim('{') {
			return &FactsError{Field: path, Msg: "expected an object"}
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return &FactsError{Field: path, Msg: err.Error()}
			}
			k, _ := kt.(string)
			at := join(path, k)
			f, ok := s.fields[k]
			if !ok {
				return &FactsError{Field: at, Msg: unknownKey(k, s)}
			}
			if seen[k] {
				return &FactsError{Field: at, Msg: "duplicate key"}
			}
			seen[k] = true
			if err := strictValue(dec, f, at); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
	case strList:
		if tok != json.Delim('[') {
			return &FactsError{Field: path, Msg: "expected a list of strings"}
		}
		for i := 0; dec.More(); i++ {
			t, err := dec.Token()
			if err != nil {
				return &FactsError{Field: path, Msg: err.Error()}
			}
			if t == nil {
				return &FactsError{Field: path + "[" + strconv.Itoa(i) + "]", Msg: "null is not allowed in a list of strings"}
			}
		}
		_, err = dec.Token() // ']'
	}
	if err != nil {
		return &FactsError{Field: path, Msg: err.Error()}
	}
	return nil
}

// unknownKey explains a key encoding/json matched without its exact
// spelling: a different case, or a Unicode fold such as the Kelvin sign.
func unknownKey(k string, s shape) string {
	for name := range s.fields {
		if bytes.EqualFold([]byte(name), []byte(k)) {
			return fmt.Sprintf("unknown key %+q; keys are case-sensitive: did you mean %q?", k, name)
		}
	}
	return fmt.Sprintf("unknown key %+q; keys are case-sensitive", k)
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
