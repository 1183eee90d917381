package peers

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/format"
)

// TestRegoFormatted: invite.rego is as `opa fmt` writes it.
func TestRegoFormatted(t *testing.T) {
	got, err := format.Source("invite.rego", []byte(inviteRego))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != inviteRego {
		t.Errorf("invite.rego is not formatted; opa fmt would write:\n%s", got)
	}
}
