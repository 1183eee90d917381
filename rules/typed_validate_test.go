package rules

import (
	"slices"
	"testing"
)

// TestKnownEnums keeps the switches Validate uses in step with the lists
// the schema and the domain enumerate.
func TestKnownEnums(t *testing.T) {
	for _, c := range []struct {
		list  []string
		known func(string) bool
	}{{memberKinds, knownKind}, {memberStatuses, knownStatus}, {invitationOpts, knownInvitations}} {
		for _, s := range append(slices.Clone(c.list), "x", "Person", "active ", "none") {
			if c.known(s) != slices.Contains(c.list, s) {
				t.Errorf("%q: switch says %v, list %v", s, c.known(s), c.list)
			}
		}
	}
}

// TestValidateAllocatesNothing: validating good facts, twice per
// decision, builds no field paths or slices.
func TestValidateAllocatesNothing(t *testing.T) {
	q := validRequest()
	q.Recipient.Settings.Invitations = "mutual"
	if n := testing.AllocsPerRun(100, func() {
		if err := q.Validate(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Validate allocates %v times", n)
	}
}

// TestValidateNamesTheField: the error paths Validate builds only on
// failure still name the field.
func TestValidateNamesTheField(t *testing.T) {
	long := string(make([]byte, MaxFactsText+1))
	for _, c := range []struct {
		field  string
		mutate func(*Request)
	}{
		{"pair.pending", func(q *Request) { q.Pair.Pending = -1 }},
		{"pair.ignored", func(q *Request) { q.Pair.Ignored = -2 }},
		{"sender.company", func(q *Request) { q.Sender.Company = long }},
		{"recipient.tier", func(q *Request) { q.Recipient.Tier = long }},
		{"recipient.settings.schools", func(q *Request) { q.Recipient.Settings.Schools = make([]string, MaxFactsList+1) }},
		{"sender.settings.auto_accept.schools[1]", func(q *Request) { q.Sender.Settings.AutoAccept.Schools = []string{"", long} }},
		{"sender.received.week", func(q *Request) { q.Sender.Received.Week = -1 }},
		{"stage", func(q *Request) { q.Stage = "invites" }},
		{"recipient.kind", func(q *Request) { q.Recipient.Kind = "Person" }},
	} {
		q := validRequest()
		c.mutate(q)
		err := q.Validate()
		fe, ok := err.(*FactsError)
		if !ok || fe.Field != c.field {
			t.Errorf("%s: got %v", c.field, err)
		}
	}
}
