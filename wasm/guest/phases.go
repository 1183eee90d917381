//go:build phases

package guest

import "github.com/connrules/connrules/rules"

// Phase runs the first upto phases of a decision (1 decode, 2 decide, 3
// encode the answer), for the phases build's debug_phase export, which
// times each by repeating it inside the guest (RATIONALE, "Where does a
// call's time go in wazero now?").
func (e *Engine) Phase(raw []byte, flags uint32, upto int) {
	e.req = rules.Request{}
	if flags&FlagWire != 0 {
		_ = decodeWire(raw, &e.req, &e.wc)
	} else {
		_ = rules.UnmarshalRequest(raw, &e.req)
	}
	if upto < 2 {
		return
	}
	d := e.p.Decide(&e.req)
	if upto < 3 {
		return
	}
	if flags&FlagWireOut != 0 {
		if w, ok := appendWireDecision(e.out[:0], &d); ok {
			e.out = w
			return
		}
	}
	e.out = d.AppendJSON(e.out[:0])
}
