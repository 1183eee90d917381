package rules

import (
	"math/rand/v2"
	"os"
	"reflect"
	"sync"
	"testing"
)

// TestTypedFusedShapes runs each shape the fused nodes special-case
// against the VM, at its edges: rune counts near a limit (é is two
// bytes), int sets inside and outside the bit mask, negations pushed
// into comparisons and chains, folded constants and table rows.
func TestTypedFusedShapes(t *testing.T) {
	notes := []string{"", "a", "ab", "abc", "é", "éé", "ééé", "aé", "ééa"}
	r := rand.New(rand.NewPCG(9, 10))
	for _, when := range []string{
		"len(note) > 2", "len(note) >= 2", "len(note) < 2", "len(note) <= 2", "len(note) == 2", "len(note) != 2",
		"!(len(note) > 2)", "len(note) > 0", "len(note) < 0", "len(recipient.settings.companies) > 1",
		"!(len(recipient.settings.companies) >= 2)",
		"pair.degree in [1, 2]", "!(pair.degree in [0, 3])", "pair.mutual in [3, 100, 1000]", "pair.mutual in [1, 63, 64]",
		`!(sender.kind in ["person", "x"]) || pair.connected`, `!(sender.company in recipient.settings.companies)`,
		"!(pair.connected || pair.mutual > 3 && pair.degree == 2)", "!(pair.connected && !pair.blocked)",
		"!(sender.acceptance_rate < 0.5)", "!(sender.acceptance_rate == 0.5)", "!(recipient == nil)", "!(recipient != nil && pair.blocked)",
		"1 > 0 && pair.connected", "1 < 0 || pair.blocked", "pair.blocked && 1 < 0", "pair.mutual % 0 == 1 && 1 < 0",
		"tier.monthly > 0 && sender.sent.month >= tier.monthly", "!(recipient_tier.connections > 0 && recipient.connections >= recipient_tier.connections)",
		"params.tiers[sender.company].daily > 0", "now < pair.withdrawn_at + params.withdraw_cooldown", "now - days(0) >= pair.withdrawn_at",
		`recipient.settings.invitations == "mutual" && pair.mutual == 0 || recipient.settings.invitations == "contacts_only" && !pair.in_contacts`,
		"!sender.soft_banned_until.IsZero()", "!!pair.connected", "!(1 > 0)",
		// inline conditions of typedMatch
		"pair.mutual >= 3", "!(pair.mutual >= 3)", "pair.mutual != 3", "recipient.connections < 100", "!(recipient.over_limit == 1)",
		`sender.kind == "person"`, `recipient.kind != "person"`, `!(recipient.kind == "company")`,
		"recipient == nil", "recipient != nil", "!(recipient != nil)", "nil == recipient",
		"pair.blocked", "!pair.blocked", "recipient.settings.require_confirmation", "!recipient.settings.require_confirmation",
		"sender.restricted_until > now", "!(now < pair.withdrawn_at)", "recipient.restricted_until == sender.soft_banned_until",
		`recipient.status in ["closed", "deactivated"]`, "!(recipient.restricted_until <= now)", "now > recipient.soft_banned_until",
		"!(pair.degree in [1, 2] || recipient.settings.require_confirmation)", `!(recipient.kind in ["person"] && pair.degree in [0, 3])`,
		"pair.connected || pair.degree == 1", `pair.blocked && recipient.connections > 3 && sender.kind == "person"`,
		`!(pair.connected || recipient.kind != "person")`, `recipient == nil || recipient.over_limit >= 2 || !pair.rejected`,
		// ors dispatched on a field's value, and runs that are not
		`sender.status == "active" && pair.connected || sender.status == "closed" || sender.status == "restricted" && pair.mutual > 3 || pair.blocked`,
		`recipient.status == "active" && pair.connected || recipient.status == "closed" || recipient.status == "restricted" && pair.mutual % 0 > 1`,
		`sender.status == "active" && pair.connected || sender.status == "active" || sender.status == "closed" && pair.blocked || sender.status == "restricted"`,
		`pair.blocked || sender.kind == "person" && pair.degree == 1 || sender.kind == "company" || sender.kind == "x" && !pair.connected`,
		`!(recipient.settings.invitations == "mutual" && pair.mutual == 0 || recipient.settings.invitations == "contacts_only" || recipient.settings.invitations == "nobody" && pair.blocked)`,
	} {
		p, err := Load("gen.yaml", genPolicy(t, []string{when}, nil, nil))
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if p.stages[StageInvite].typed == nil {
			t.Fatalf("%s: not typed: %+v", when, p.Fallbacks())
		}
		for range 300 {
			q := diffRequest(r)
			q.Note = pick(r, notes)
			diffPolicy(t, when, p, q)
			if q.Validate() == nil {
				sameDecision(t, when, p, q)
			}
		}
	}
}

// TestTypedVariantsOfDefaultPolicy: the invite stage of policies.yaml
// gets a variant per sender and recipient tier, in which monthly_limit
// (monthly: 0 in every tier) is dropped; facts without a recipient keep
// the general conditions.
func TestTypedVariantsOfDefaultPolicy(t *testing.T) {
	p := repoPolicies(t)["../policies.yaml"]
	sp := p.stages[StageInvite].typed.spec
	if sp == nil || len(sp.leaves) != 2 || len(sp.variants) != 4 {
		t.Fatalf("want 2 key fields and 4 variants, got %+v", sp)
	}
	for v := range sp.variants {
		steps := sp.variant(v)
		for _, s := range steps {
			if id := p.stages[StageInvite].rules[s.rule].id; id == "monthly_limit" {
				t.Errorf("variant %d keeps monthly_limit", v)
			}
		}
	}
	q := validRequest()
	q.Recipient.Tier = "premium"
	if v := sp.pick(q); v != 1 {
		t.Errorf("free sender, premium recipient: variant %d", v)
	}
	q.Recipient = nil
	if v := sp.pick(q); v != -1 {
		t.Errorf("no recipient: variant %d", v)
	}
}

// TestTypedInlineConditions: the simplest shapes run inline in
// typedMatch (TestTypedFusedShapes compares their decisions with the
// VM's), and their negations too.
func TestTypedInlineConditions(t *testing.T) {
	for when, op := range map[string]uint8{
		"pair.mutual >= 3": opInt, "!(pair.mutual >= 3)": opInt, `sender.kind == "person"`: opStrEq,
		`!(recipient.kind == "company")`: opStrEq, "recipient == nil": opNil, "!(recipient != nil)": opNil,
		"pair.blocked": opBool, "!pair.blocked": opBool, "len(note) > 3": opCall, "sender.acceptance_rate < 0.5": opCall,
		`sender.status in ["closed", "deactivated"]`: opStrIn, `!(recipient.status in ["closed", "x"])`: opStrIn,
		"pair.degree in [1, 2]": opIntBits, "!(pair.degree in [1, 2])": opIntBits, "pair.mutual in [1, 64]": opCall,
		"sender.restricted_until > now": opTime, "!(now < pair.withdrawn_at)": opTime, "recipient.restricted_until <= now": opTime,
	} {
		p, err := Load("gen.yaml", genPolicy(t, []string{when}, nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.stages[StageInvite].typed.steps[0].in.op; got != op {
			t.Errorf("%s: op %d, want %d", when, got, op)
		}
	}
}

// TestTypedVariantsConcurrent: variants compile on first use, safely
// when decisions race for them (run with -race).
func TestTypedVariantsConcurrent(t *testing.T) {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load("policies.yaml", src) // its own: no variant compiled yet
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 11))
			for range 200 {
				q := validRequest()
				q.Sender.Tier, q.Recipient.Tier = pick(r, []string{"free", "premium"}), pick(r, []string{"free", "premium"})
				q.Sender.Sent.Day = pick(r, []int{0, 30, 100})
				want := p.Explain(q)
				want.Trace = nil
				if got := p.Decide(q); !reflect.DeepEqual(got, want) {
					t.Errorf("typed %+v, VM %+v", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
