package guest

import (
	"encoding/binary"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/connrules/connrules/rules"
)

// A decision in the wire format (decide flag FlagWireOut) saves the guest
// encoding JSON, about a microsecond inside wazero. It is sent only when it
// carries exactly what the decision's JSON would; otherwise the answer is
// JSON, which never starts with the marker byte.
//
//	decision = 0x01 string(outcome) string(reason) string(rule) string(message)
//	           bool(private) time(retry_after) uvarint(n) effect*n
//	effect   = string(kind) string(subject) time(until)
//
// Strings are uvarint(len) and bytes, not checked for UTF-8 (the host's
// DecodeWireDecision does what JSON would); times are varint-encoded:
//
//	time = 0 varint(unix seconds) uvarint(nanoseconds)   offset zero
//	     | 1 varint(unix seconds) uvarint(nanoseconds) varint(offset seconds)
//	     | 2                                             the zero time
const wireDecisionMark = 0x01

// appendWireDecision appends d in the wire format, or reports false when
// JSON would carry it differently (a time JSON cannot write or whose
// offset has seconds) or it has a trace or diagnostics, which only JSON
// carries. Text goes unchecked: the host makes text that is not UTF-8
// what JSON would have made it (validUTF8), natively, where checking
// costs a tenth of what it costs here.
func appendWireDecision(b []byte, d *rules.Decision) ([]byte, bool) {
	if len(d.Trace) > 0 || len(d.Diagnostics) > 0 {
		return b, false
	}
	w := wireEnc{b: append(b, wireDecisionMark)}
	w.rawStr(d.Outcome)
	w.rawStr(d.Reason)
	w.rawStr(d.Rule)
	w.rawStr(d.Message)
	w.bool(d.Private)
	w.jsonTime(d.RetryAfter)
	w.b = binary.AppendUvarint(w.b, uint64(len(d.Effects)))
	for _, e := range d.Effects {
		w.rawStr(e.Kind)
		w.rawStr(e.Subject)
		w.jsonTime(e.Until)
	}
	if w.err != nil {
		return b, false
	}
	return w.b, true
}

// jsonTime is time for a value JSON writes only when it is set and within
// years 0-9999.
func (w *wireEnc) jsonTime(t time.Time) {
	if !t.IsZero() && (t.Year() < 0 || t.Year() > 9999) {
		w.err = errors.New("a time JSON cannot write")
	}
	w.time(t)
}

// IsWireDecision reports whether a decide answer is in the wire format.
func IsWireDecision(b []byte) bool { return len(b) > 0 && b[0] == wireDecisionMark }

// DecodeWireDecision decodes a decision that decide answered in the wire
// format into d, as the decision's JSON would decode: the strings are
// copied out of b, and times get the zones a JSON round trip gives them.
func DecodeWireDecision(b []byte, d *rules.Decision) error {
	if !IsWireDecision(b) {
		return errors.New("not a wire decision")
	}
	r := wireDec{b: b, i: 1}
	*d = rules.Decision{
		Outcome: validUTF8(r.str()), Reason: validUTF8(r.str()), Rule: validUTF8(r.str()), Message: validUTF8(r.str()),
		Private: r.bool(), RetryAfter: r.time(),
	}
	n := r.uvarint()
	if r.bad || n > uint64(len(b)) {
		return errWire
	}
	if n > 0 {
		d.Effects = make([]rules.Effect, n)
		for i := range d.Effects {
			d.Effects[i] = rules.Effect{Kind: validUTF8(r.str()), Subject: validUTF8(r.str()), Until: r.time()}
		}
	}
	if r.bad || r.i != len(b) {
		return errWire
	}
	return nil
}

// validUTF8 is s as a JSON round trip gives it back: each byte that is not
// part of valid UTF-8 becomes U+FFFD, as the decision's JSON writes it
// (rules' appendString, like encoding/json).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
