package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"reflect"
	"testing"
)

// The fast envelope parser agrees with encoding/json on every line of the
// sample and on odd lines, or declines so that encoding/json decides.
func TestEnvelopeMatchesEncodingJSON(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, MaxLineBytes)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	odd := []string{
		`{}`,
		`{"v":1,"action":"invite","request":null,"decision":null,"detail":null}`,
		`{"v":1,"actor":"a\"b","unknown":[1,{"x":"]"}],"seq":3}`,
		`{"v":1,"at":"2026-03-02T10:00:00.5+01:00","result":"x"} `,
		`{"v":1,"seq":-1}`,
		`{"v":1,"seq":1,}`,
		`{"v":1 "seq":1}`,
		`{"v":tru}`,
		`{"v":1}x`,
		`[1]`,
		`{"decision":{"outcome":"allow","reason":"sent","rule":"","message":"hi \u00e9"}}`,
	}
	fast, fell := 0, 0
	for _, l := range append(lines, odd...) {
		var a, b event
		okA := parseEnvelope([]byte(l), &a)
		errB := json.Unmarshal([]byte(l), &b)
		switch {
		case okA && errB != nil:
			t.Errorf("fast parser accepts what encoding/json refuses (%v): %s", errB, l)
		case okA && !reflect.DeepEqual(norm(a), norm(b)):
			t.Errorf("fast parser differs on %s:\n%+v\n%+v", l, a, b)
		case okA:
			fast++
		default:
			fell++
		}
	}
	if fast < len(lines) {
		t.Errorf("only %d of the sample's %d lines took the fast path", fast, len(lines))
	}
	t.Logf("%d fast, %d fell back", fast, fell)
}

// norm compacts the raw fields, which encoding/json copies verbatim too,
// and drops a raw null, which decodeEvent reads as absent either way.
func norm(e event) event {
	for _, raw := range []*[]byte{(*[]byte)(&e.Request), (*[]byte)(&e.Detail)} {
		if string(*raw) == "null" {
			*raw = nil
		}
		if len(*raw) > 0 {
			var b bytes.Buffer
			_ = json.Compact(&b, *raw)
			*raw = b.Bytes()
		}
	}
	return e
}
