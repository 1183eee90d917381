package rules_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/connrules/connrules/rules"
)

// strictBase is a valid request; strictCases edit it.
const strictBase = `{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","tier":"free","status":"active"},"recipient":{"id":"b","kind":"person","tier":"free","status":"active"},"pair":{"degree":2,"blocked":false}}`

// strictCases: encoding/json accepted each of these; each could turn a
// denial into an allow. Every one is an error naming the JSON path, the
// same from both decoders.
var strictCases = []struct{ name, in, want string }{
	{"null bool", strings.Replace(strictBase, `"blocked":false`, `"blocked":null`, 1), `invalid request: pair.blocked: null is not allowed; omit the field for its default`},
	{"null count", strings.Replace(strictBase, `"degree":2`, `"degree":2,"pending":null`, 1), `invalid request: pair.pending: null is not allowed; omit the field for its default`},
	{"null object", strings.Replace(strictBase, `"pair":{"degree":2,"blocked":false}`, `"pair":null`, 1), `invalid request: pair: null is not allowed; omit the field for its default`},
	{"null string", strings.Replace(strictBase, `"stage":"invite"`, `"stage":"invite","note":null`, 1), `invalid request: note: null is not allowed; omit the field for its default`},
	{"null now", strings.Replace(strictBase, `"now":"2026-03-02T10:00:00Z"`, `"now":null`, 1), `invalid request: now: null is not allowed; omit the field for its default`},
	{"null counts", strings.Replace(strictBase, `"tier":"free","status":"active"}`, `"tier":"free","status":"active","sent":{"day":null}}`, 1), `invalid request: sender.sent.day: null is not allowed; omit the field for its default`},
	{"null in a list", `{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","tier":"free","status":"active","settings":{"companies":["x",null]}}}`, `invalid request: sender.settings.companies[1]: null is not allowed in a list of strings`},
	{"upper-case key", strings.Replace(strictBase, `"blocked":false`, `"blocked":false,"BLOCKED":true`, 1), `invalid request: pair.BLOCKED: unknown key "BLOCKED"; keys are case-sensitive: did you mean "blocked"?`},
	{"mixed-case key", strings.Replace(strictBase, `"stage"`, `"Stage"`, 1), `invalid request: Stage: unknown key "Stage"; keys are case-sensitive: did you mean "stage"?`},
	{"kelvin sign", strings.Replace(strictBase, `"kind":"person","tier":"free","status":"active"},"pair"`, `"\u212aind":"person","tier":"free","status":"active"},"pair"`, 1), "invalid request: recipient.\u212aind: unknown key \"\\u212aind\"; keys are case-sensitive: did you mean \"kind\"?"},
	{"duplicate key", strings.Replace(strictBase, `"blocked":false`, `"blocked":true,"blocked":false`, 1), `invalid request: pair.blocked: duplicate key`},
	{"duplicate object", strings.Replace(strictBase, `"pair":{`, `"pair":{"blocked":true},"pair":{`, 1), `invalid request: pair: duplicate key`},
	{"trailing brace", strictBase + `}`, `invalid request: trailing data after the request object`},
	{"trailing brackets", strictBase + `]]]`, `invalid request: trailing data after the request object`},
	{"trailing value", strictBase + ` {}`, `invalid request: trailing data after the request object`},
	{"null request", `null`, `invalid request: the request is null, not an object`},
}

func TestStrictDecoding(t *testing.T) {
	if _, err := rules.DecodeRequest([]byte(strictBase)); err != nil {
		t.Fatalf("base: %v", err)
	}
	p := loadDefault(t)
	for _, c := range strictCases {
		t.Run(c.name, func(t *testing.T) {
			_, slow := rules.DecodeRequest([]byte(c.in))
			_, fast := rules.DecodeRequestFast([]byte(c.in))
			var r rules.Request
			raw := rules.UnmarshalRequest([]byte(c.in), &r)
			for name, err := range map[string]error{"DecodeRequest": slow, "DecodeRequestFast": fast, "UnmarshalRequest": raw} {
				if err == nil || err.Error() != c.want {
					t.Errorf("%s: %v\nwant %s", name, err, c.want)
				}
			}
			// What the guest answers: the stage failed closed.
			if d := p.Invalid(r.Stage, raw); d.Outcome != "deny" || d.Reason != rules.ReasonInvalidRequest {
				t.Errorf("decision %+v", d)
			}
		})
	}
}

// TestStrictKeepsStage: a strict error still leaves the decoded stage, so
// deliver fails closed to hold, not deny.
func TestStrictKeepsStage(t *testing.T) {
	in := strings.Replace(strings.Replace(strictBase, `"blocked":false`, `"blocked":null`, 1), `"invite"`, `"deliver"`, 1)
	var r rules.Request
	err := rules.UnmarshalRequest([]byte(in), &r)
	if err == nil || r.Stage != rules.StageDeliver {
		t.Fatalf("err %v, stage %q", err, r.Stage)
	}
	if d := loadDefault(t).Invalid(r.Stage, err); d.Outcome != "hold" {
		t.Fatalf("got %+v", d)
	}
}

// TestRequestTooLarge: a request over MaxRequestBytes is invalid_request
// before any of it is parsed, by both decoders, with the same error.
func TestRequestTooLarge(t *testing.T) {
	big := append([]byte(`{"note":"`), bytes.Repeat([]byte("x"), rules.MaxRequestBytes)...)
	big = append(big, `"}`...)
	_, errSlow := rules.DecodeRequest(big)
	var r rules.Request
	errFast := rules.UnmarshalRequest(big, &r)
	var fe *rules.FactsError
	if !errors.As(errSlow, &fe) || errFast == nil || errSlow.Error() != errFast.Error() {
		t.Fatalf("DecodeRequest: %v; UnmarshalRequest: %v", errSlow, errFast)
	}
	if !strings.Contains(errSlow.Error(), "over the limit of 1048576") {
		t.Errorf("error does not name the limit: %v", errSlow)
	}
	// One byte under the limit is parsed (and here valid JSON, so the
	// error, if any, is about the facts, not the size).
	ok := append([]byte(`{"note":"`), bytes.Repeat([]byte("x"), rules.MaxRequestBytes-11)...)
	ok = append(ok, `"}`...)
	if _, err := rules.DecodeRequest(ok); err != nil && strings.Contains(err.Error(), "over the limit of 1048576") {
		t.Errorf("a request of %d bytes was refused for its size: %v", len(ok), err)
	}
}
