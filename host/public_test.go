package host_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
)

// TestPublicMatchesNative: the host's sender-safe view, computed from the
// PublicView the module returns at load, is byte for byte the native
// Policy.Public over the whole corpus, through Public and DecidePublic.
func TestPublicMatchesNative(t *testing.T) {
	c := loadCorpus(t)
	ctx := context.Background()
	engines := map[string]*host.Engine{}
	natives := map[string]*rules.Policy{}
	for name, src := range c.policies {
		e, err := host.New(ctx, host.WithPoolSize(1))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close(ctx)
		if err := e.Load(ctx, name, src); err != nil {
			t.Fatal(err)
		}
		p, err := rules.Load(name, src)
		if err != nil {
			t.Fatal(err)
		}
		engines[name], natives[name] = e, p
	}
	shadow, private := 0, 0
	for i, cc := range c.cases {
		e, p := engines[cc.Policy], natives[cc.Policy]
		var d rules.Decision
		if err := rules.UnmarshalDecision(c.golden[i], &d); err != nil {
			t.Fatal(err)
		}
		want := p.Public(d).JSON()
		if got := e.Public(d).JSON(); !bytes.Equal(got, want) {
			t.Errorf("%s: Public\ngot  %s\nwant %s", cc.Name, got, want)
		}
		if d.Outcome == "shadow" {
			shadow++
		}
		if d.Private {
			private++
		}
		req, err := rules.DecodeRequest(cc.bytes())
		if err != nil || cc.Explain {
			continue
		}
		hd, pub, err := e.DecidePublic(ctx, req)
		if err != nil || !bytes.Equal(hd.JSON(), c.golden[i]) || !bytes.Equal(pub.JSON(), want) {
			t.Errorf("%s: DecidePublic %s %s (%v)\nwant %s %s", cc.Name, hd.JSON(), pub.JSON(), err, c.golden[i], want)
		}
	}
	if shadow == 0 || private == 0 {
		t.Errorf("the corpus exercised %d shadow and %d private decisions; want both", shadow, private)
	}
}
