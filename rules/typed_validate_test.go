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
