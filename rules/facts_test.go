package rules_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/connrules/connrules/rules"
)

func TestDecodeRequestErrors(t *testing.T) {
	const ok = `{"stage":"invite","now":"2026-03-02T10:00:00-08:00","sender":{"id":"a","kind":"person","tier":"free","status":"active"}}`
	if _, err := rules.DecodeRequest([]byte(ok)); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	cases := map[string]string{
		`{`: `invalid request: unexpected EOF`,
		`{"stage":"invite","now":"2026-03-02T10:00:00-08:00","sender":{"id":"a","kind":"person","tier":"free","status":"active"},"extra":1}`: `invalid request: json: unknown field "extra"`,
		`{"stage":"invite","now":"yesterday","sender":{}}`: `invalid request: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`,
		`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","tier":"free","status":"active","connections":"many"}}`: `invalid request: sender.connections: expected int, got JSON string`,
		`{"stage":"review","now":"2026-03-02T10:00:00Z","sender":{}}`:                                                                              `invalid request: stage: "review" is not one of invite, deliver, accept`,
		`{"stage":"invite","sender":{}}`:                  `invalid request: now: missing; the engine never reads the clock, so now must be given`,
		`{"stage":"invite","now":"2026-03-02T10:00:00Z"}`: `invalid request: sender: missing`,
		`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"robot","status":"active"}}`:                                                `invalid request: sender.kind: "robot" is not one of person, company`,
		`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","status":"active"},"recipient":{"kind":"person","status":"gone"}}`: `invalid request: recipient.status: "gone" is not one of active, restricted, soft_banned, deactivated, closed`,
		`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","status":"active","settings":{"invitations":"friends"}}}`:          `invalid request: sender.settings.invitations: "friends" is not one of everyone, email_or_contacts, contacts_only, mutual, second_degree, third_degree, nobody`,
		`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","status":"active","acceptance_rate":1.5}}`:                         `invalid request: sender.acceptance_rate: 1.5 is outside 0..1`,
		`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","status":"active"},"pair":{"degree":4}}`:                           `invalid request: pair.degree: 4 is not 0, 1, 2 or 3`,
		`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","status":"active"}} {}`:                                            `invalid request: trailing data after the request object`,
	}
	for in, want := range cases {
		_, err := rules.DecodeRequest([]byte(in))
		if err == nil || err.Error() != want {
			t.Errorf("%s\n got: %v\nwant: %s", in, err, want)
		}
	}
}

// FuzzDecodeAndDecide: no input, however malformed, panics, yields a
// decision without an outcome or an empty JSON, or is allowed unless the
// strict decoder accepted it. It follows the guest's path: UnmarshalRequest,
// then Invalid for what does not decode.
func FuzzDecodeAndDecide(f *testing.F) {
	p := loadDefault(f)
	f.Add([]byte(`{"stage":"invite","now":"2026-03-02T10:00:00-08:00","sender":{"id":"a","kind":"person","tier":"free","status":"active"},"recipient":{"id":"b","kind":"person","tier":"free","status":"active"},"pair":{"degree":2}}`))
	f.Add([]byte(`{"stage":"deliver","now":"2026-03-02T10:00:00Z","note":"crypto","sender":{"id":"a","kind":"person","tier":"premium","status":"soft_banned"},"recipient":null}`))
	for _, c := range strictCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte(`{"stage":"invite","now":"9999-12-31T23:59:59Z","sender":{"id":"a","kind":"person","tier":"free","status":"restricted","restricted_until":"9999-12-31T23:59:59Z"},"recipient":{"id":"b","kind":"person","tier":"free","status":"active"}}`))
	f.Add([]byte(`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","tier":"free","status":"active","sent":{"day":-100}},"recipient":{"id":"b","kind":"person","tier":"free","status":"active"},"pair":{"pending":-1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r rules.Request
		derr := rules.UnmarshalRequest(data, &r)
		var ds []rules.Decision
		if derr != nil {
			ds = []rules.Decision{p.Invalid(r.Stage, derr)}
		} else {
			ds = []rules.Decision{p.Decide(&r), p.Explain(&r)}
		}
		valid := derr == nil && r.Validate() == nil
		for _, d := range ds {
			if d.Outcome == "" || d.Reason == "" {
				t.Fatalf("empty decision %+v for %s", d, data)
			}
			if !valid && (d.Outcome != "deny" && d.Outcome != "hold" || d.Reason != rules.ReasonInvalidRequest) {
				t.Fatalf("garbage decided %+v for %q", d, data)
			}
			b := d.JSON()
			if len(b) == 0 || !json.Valid(b) || !bytes.Equal(b, d.AppendJSON(nil)) {
				t.Fatalf("decision JSON %q for %q", b, data)
			}
			if pb := p.Public(d).JSON(); len(pb) == 0 || !json.Valid(pb) {
				t.Fatalf("public JSON %q for %q", pb, data)
			}
		}
	})
}
