package replay

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/connrules/connrules/rules"
)

// parseEnvelope splits one event line into its fields without
// reflection: the request and detail stay raw, the decision is decoded by
// the engine's fast decoder. Most of a replay's time went to
// encoding/json scanning every byte twice; this scans them once. It
// reports false on anything unusual (escapes in a field it reads, a
// malformed line), and the caller falls back to encoding/json, which
// gives the same result or the error message.
func parseEnvelope(b []byte, ev *event) bool {
	s := scanner{b: b}
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return s.end()
	}
	for {
		key, ok := s.plainString()
		if !ok || !s.eat(':') {
			return false
		}
		start := s.i
		if !s.skipValue() {
			return false
		}
		val := b[start:s.i]
		if !ev.set(string(key), val) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}') && s.end()
	}
}

// set assigns one field; keys it does not know are ignored, like
// encoding/json does.
func (ev *event) set(key string, val []byte) bool {
	isNull := string(val) == "null"
	var ok bool
	switch key {
	case "v":
		ev.V, ok = atoi(val)
		return ok
	case "seq":
		n, err := strconv.ParseUint(string(val), 10, 64)
		ev.Seq = n
		return err == nil
	case "at":
		str, ok := unquotePlain(val)
		if !ok {
			return false
		}
		t, err := time.Parse(time.RFC3339Nano, str)
		ev.At = t
		return err == nil
	case "action":
		ev.Action, ok = unquotePlain(val)
	case "actor":
		ev.Actor, ok = unquotePlain(val)
	case "subject":
		ev.Subject, ok = unquotePlain(val)
	case "invitation":
		ev.Invitation, ok = unquotePlain(val)
	case "result":
		ev.Result, ok = unquotePlain(val)
	case "request":
		if !isNull {
			ev.Request = val
		}
		return true
	case "detail":
		if !isNull {
			ev.Detail = val
		}
		return true
	case "decision":
		if isNull {
			return true
		}
		ev.Decision = new(rules.Decision)
		return rules.UnmarshalDecision(val, ev.Decision) == nil
	default:
		return true
	}
	return ok || isNull
}

func atoi(b []byte) (int, bool) {
	n, err := strconv.Atoi(string(b))
	return n, err == nil
}

// unquotePlain returns a JSON string without escapes as a Go string.
func unquotePlain(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	for _, c := range b[1 : len(b)-1] {
		if c == '\\' || c < 0x20 {
			return "", false
		}
	}
	return string(b[1 : len(b)-1]), true
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *scanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// plainString reads a string without escapes.
func (s *scanner) plainString() ([]byte, bool) {
	s.ws()
	start := s.i
	if !s.skipString() {
		return nil, false
	}
	v, ok := unquotePlain(s.b[start:s.i])
	return []byte(v), ok
}

func (s *scanner) skipString() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '\\':
			s.i++
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		}
	}
	return false
}

// skipValue steps over one JSON value. Nesting is bounded by the line's
// length, itself bounded by MaxLineBytes; the value is checked for
// structure only, and its contents by whoever decodes it.
func (s *scanner) skipValue() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '"':
		return s.skipString()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if !s.skipString() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	default:
		start := s.i
		for s.i < len(s.b) && s.b[s.i] != ',' && s.b[s.i] != '}' && s.b[s.i] != ']' && s.b[s.i] != ' ' && s.b[s.i] != '\n' {
			s.i++
		}
		if s.i == start {
			return false
		}
		lit := s.b[start:s.i]
		return json.Valid(lit)
	}
}
