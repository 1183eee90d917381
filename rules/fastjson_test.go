package rules_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

// oddRequests are inputs at the edges of the fast decoder: every one must
// decode exactly as encoding/json does, or fail with the same error.
var oddRequests = []string{
	``,
	`null`,
	`[]`,
	`"x"`,
	`{}`,
	`{"stage":"invite"}`,
	`{"stage":"invite","now":"2026-03-02T10:00:00-08:00","sender":{"id":"a","kind":"person","tier":"free","status":"active"}}`,
	` {"stage" : "invite" , "now":"2026-03-02T10:00:00Z", "sender": {"kind":"person","status":"active","tier":"free"}} `,
	`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"kind":"person","status":"active","tier":"free"}}}`,
	`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"kind":"person","status":"active","tier":"free"}} x`,
	`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"kind":"person","status":"active","tier":"free"}} {}`,
	`{"Stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"kind":"person","status":"active","tier":"free"}}`,
	`{"stage":"invite","bogus":1}`,
	`{"stage":"invite","bogus":null}`,
	`{"stage":"invite","sender":{"sent":{"hour":null,"bogus":null}}}`,
	`{"stage":"invite","sender":{"connections":1.0}}`,
	`{"stage":"invite","sender":{"connections":1e2}}`,
	`{"stage":"invite","sender":{"connections":-0}}`,
	`{"stage":"invite","sender":{"connections":01}}`,
	`{"stage":"invite","sender":{"connections":99999999999999999999}}`,
	`{"stage":"invite","sender":{"connections":"3"}}`,
	`{"stage":"invite","sender":{"connections":true}}`,
	`{"stage":"invite","sender":{"acceptance_rate":1e-7}}`,
	`{"stage":"invite","sender":{"acceptance_rate":"0.5"}}`,
	`{"stage":"invite","sender":{"acceptance_rate":0.30000000000000004}}`,
	`{"stage":"invite","sender":{"acceptance_rate":-}}`,
	`{"stage":"invite","now":"2026-03-02 10:00:00"}`,
	`{"stage":"invite","now":"2026-03-02T10:00:00\u002b01:00"}`,
	`{"stage":"invite","now":null}`,
	`{"stage":"invite","now":17}`,
	`{"stage":"invite","now":"2026-02-30T10:00:00Z"}`,
	`{"stage":"inv\u0069te"}`,
	`{"stage":"invite","note":"tab\there \"quoted\" back\\slash \/ \b\f\r\n"}`,
	`{"stage":"invite","note":"caf\u00e9 \ud83d\ude00 \ud800"}`,
	`{"stage":"invite","note":"café — ünïcode ✓"}`,
	"{\"stage\":\"invite\",\"note\":\"bad \xff utf8\"}",
	"{\"stage\":\"invite\",\"note\":\"raw\x01control\"}",
	`{"stage":"invite","note":null}`,
	`{"stage":"invite","sender":null,"recipient":null}`,
	`{"stage":"invite","sender":{"id":"a"},"sender":{"kind":"person"}}`,
	`{"stage":"invite","sender":{"id":"a"},"sender":null}`,
	`{"stage":"invite","pair":{"degree":2},"pair":{"mutual":3}}`,
	`{"stage":"invite","pair":null}`,
	`{"stage":"invite","pair":{"connected":null,"blocked":true,"last_ignored_at":null}}`,
	`{"stage":"invite","pair":{"blocked":"yes"}}`,
	`{"stage":"invite","pair":{"blocked":tru}}`,
	`{"stage":"invite","pair":{"blocked":truex}}`,
	`{"stage":"invite","recipient":{"settings":{"companies":[]}}}`,
	`{"stage":"invite","recipient":{"settings":{"companies":null,"schools":["a","b"]}}}`,
	`{"stage":"invite","recipient":{"settings":{"companies":["a",null]}}}`,
	`{"stage":"invite","recipient":{"settings":{"companies":["a",]}}}`,
	`{"stage":"invite","recipient":{"settings":{"companies":"a"}}}`,
	`{"stage":"invite","recipient":{"settings":{"auto_accept":{"companies":["x"]},"auto_accept":{"schools":["y"]}}}}`,
	`{"stage":"invite","recipient":{"settings":{"auto_accept":null,"require_confirmation":null}}}`,
	`{"stage":"invite",}`,
	`{"stage":"invite" "now":1}`,
	`{"stage":"invite"`,
	`{"stage`,
	`{"st\u0061ge":"invite"}`,
	`{"stage":"deliver","sender":{"kind":"robot","status":"active"}}`,
}

func TestDecodeRequestFastMatchesEncodingJSON(t *testing.T) {
	inputs := append([]string{}, oddRequests...)
	p := loadDefault(t)
	_, reqs := p.TestRequests()
	for _, r := range reqs {
		inputs = append(inputs, string(r))
	}
	for _, in := range inputs {
		checkDecodeSame(t, []byte(in))
	}
}

func checkDecodeSame(t *testing.T, in []byte) {
	t.Helper()
	want, werr := rules.DecodeRequest(in)
	got, gerr := rules.DecodeRequestFast(in)
	if fmt.Sprint(werr) != fmt.Sprint(gerr) {
		t.Errorf("%q:\nerror %v\nwant  %v", in, gerr, werr)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%q:\ngot  %+v\nwant %+v", in, got, want)
	}
	// The unvalidated decode must leave the same, possibly partial,
	// request as DecodeRequest's decoder does.
	var a, b rules.Request
	aerr := rules.UnmarshalRequest(in, &a)
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.DisallowUnknownFields()
	berr := dec.Decode(&b)
	if berr == nil && dec.More() {
		berr = fmt.Errorf("trailing data")
	}
	// Strict decoding refuses more than encoding/json (null for a value,
	// a key in another case, a duplicate key, trailing data), never less.
	if berr != nil && aerr == nil {
		t.Errorf("%q: UnmarshalRequest accepts what encoding/json refuses (%v)", in, berr)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%q: UnmarshalRequest\ngot  %+v\nwant %+v", in, a, b)
	}
}

// FuzzDecodeRequestFast: the hand-written decoder and encoding/json with
// the strict checks agree on every input, result and error alike.
func FuzzDecodeRequestFast(f *testing.F) {
	for _, in := range oddRequests {
		f.Add([]byte(in))
	}
	for _, c := range strictCases {
		f.Add([]byte(c.in))
	}
	p := loadDefault(f)
	_, reqs := p.TestRequests()
	for _, r := range reqs[:8] {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecodeSame(t, in)
	})
}

func TestDecisionAppendJSONMatchesEncodingJSON(t *testing.T) {
	p := loadDefault(t)
	_, reqs := p.TestRequests()
	var ds []rules.Decision
	for _, raw := range reqs {
		r, err := rules.DecodeRequest(raw)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, p.Decide(r), p.Explain(r))
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	ds = append(ds,
		rules.Decision{},
		rules.Decision{Outcome: "deny", Message: "<b>&\"quoted\"\\ \x01\x1f\t\n\r\b\f \u2028\u2029 caf\xe9 ✓", Private: true},
		rules.Decision{RetryAfter: time.Date(2026, 3, 2, 10, 0, 0, 123456789, la)},
		rules.Decision{RetryAfter: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)},
		rules.Decision{RetryAfter: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		rules.Decision{Effects: []rules.Effect{{Kind: "flag", Subject: "sender"}}, Trace: []rules.TraceEntry{{Rule: "x", Held: true, Error: "boom"}}},
		rules.Decision{Diagnostics: []rules.Diagnostic{{Rule: "r", Message: "m"}}},
		rules.Unavailable(rules.StageDeliver, time.Date(2026, 1, 1, 0, 0, 0, 0, la), ""),
	)
	for _, d := range ds {
		want := d.JSON()
		got := d.AppendJSON([]byte("prefix"))
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("AppendJSON\ngot  %s\nwant prefix%s", got, want)
		}
	}
}

func TestRequestAppendJSONMatchesEncodingJSON(t *testing.T) {
	p := loadDefault(t)
	_, reqs := p.TestRequests()
	var rs []*rules.Request
	for _, raw := range reqs {
		r, err := rules.DecodeRequest(raw)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	odd := benchRequest()
	odd.Note = "<script>\u2028 \xff"
	odd.Sender.AcceptanceRate = 1e-9
	odd.Sender.RestrictedUntil = time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC)
	odd.Recipient.Settings.Companies = []string{}
	odd.Recipient.Settings.AutoAccept.Schools = []string{"a", "b"}
	odd.Sender.Title, odd.Sender.SoftBannedUntil = "Engineer", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	odd.Recipient.Settings.Titles, odd.Recipient.Settings.AutoAccept.Titles = []string{}, []string{"CTO"}
	odd.Pair.LastIgnoredAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+1800))
	odd.Pair.WithdrawnAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rs = append(rs, odd, &rules.Request{})
	for _, r := range rs {
		want, werr := json.Marshal(r)
		got, gerr := r.AppendJSON(nil)
		if werr != nil || gerr != nil || !bytes.Equal(got, want) {
			t.Errorf("AppendJSON\ngot  %s (%v)\nwant %s (%v)", got, gerr, want, werr)
		}
	}
	bad := benchRequest()
	bad.Sender.AcceptanceRate = math.NaN()
	if _, err := bad.AppendJSON(nil); err == nil {
		t.Error("NaN acceptance_rate: want an error, as json.Marshal gives")
	}
	bad = benchRequest()
	bad.Now = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := bad.AppendJSON(nil); err == nil {
		t.Error("year -1: want an error, as json.Marshal gives")
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	raw, _ := json.Marshal(benchRequest())
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rules.DecodeRequest(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rules.DecodeRequestFast(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestUnmarshalDecisionMatchesEncodingJSON(t *testing.T) {
	p := loadDefault(t)
	_, reqs := p.TestRequests()
	var ins [][]byte
	for _, raw := range reqs {
		r, err := rules.DecodeRequest(raw)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, p.Decide(r).JSON(), p.Explain(r).JSON())
	}
	ins = append(ins,
		rules.Decision{Message: "<b>&\"q\"\\ \x01\t\n \u2028 caf\xe9 ✓"}.JSON(),
		[]byte(`{"outcome":"deny","effects":[]}`),
		[]byte(`{"outcome":"deny","extra":1}`),
		[]byte(`{"outcome":"deny","retry_after":"2026-03-02T10:00:00.5-08:00"}`),
		[]byte(`{"outcome":"deny"`),
	)
	for _, in := range ins {
		var got, want rules.Decision
		gerr := rules.UnmarshalDecision(in, &got)
		werr := json.Unmarshal(in, &want)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\ngot  %+v (%v)\nwant %+v (%v)", in, got, gerr, want, werr)
		}
	}
}
