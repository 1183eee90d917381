package guest

import (
	"encoding/binary"
	"errors"
	"time"

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
// Strings and times are as in a wire request (wire.go).
const wireDecisionMark = 0x01

// appendWireDecision appends d in the wire format, or reports false when
// JSON would carry it differently (text that is not UTF-8, a time JSON
// cannot write or whose offset has seconds) or it has a trace or
// diagnostics, which only JSON carries.
func appendWireDecision(b []byte, d *rules.Decision) ([]byte, bool) {
	if len(d.Trace) > 0 || len(d.Diagnostics) > 0 {
		return b, false
	}
	w := wireEnc{b: append(b, wireDecisionMark)}
	w.str(d.Outcome)
	w.str(d.Reason)
	w.str(d.Rule)
	w.str(d.Message)
	w.bool(d.Private)
	w.jsonTime(d.RetryAfter)
	w.b = binary.AppendUvarint(w.b, uint64(len(d.Effects)))
	for _, e := range d.Effects {
		w.str(e.Kind)
		w.str(e.Subject)
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
		Outcome: r.str(), Reason: r.str(), Rule: r.str(), Message: r.str(),
		Private: r.bool(), RetryAfter: r.time(),
	}
	n := r.uvarint()
	if r.bad || n > uint64(len(b)) {
		return errWire
	}
	if n > 0 {
		d.Effects = make([]rules.Effect, n)
		for i := range d.Effects {
			d.Effects[i] = rules.Effect{Kind: r.str(), Subject: r.str(), Until: r.time()}
		}
	}
	if r.bad || r.i != len(b) {
		return errWire
	}
	return nil
}
