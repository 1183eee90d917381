package peers

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/connrules/connrules/rules"
)

// Tier is one row of the policy's tier table.
type Tier struct {
	Daily       int `json:"daily"`
	Weekly      int `json:"weekly"`
	Monthly     int `json:"monthly"`
	Connections int `json:"connections"`
}

// Params are the policy parameters the invite stage reads. Every peer
// gets them from the loaded policy, so a policy with other numbers (the
// corpus's policies-switched-on.yaml) is translated by the same code.
type Params struct {
	Tiers             map[string]Tier `json:"tiers"`
	MaxPendingPerPair int             `json:"max_pending_per_pair"`
	IgnoreCooldowns   []time.Duration `json:"ignore_cooldowns"`
	IgnoreNeverAfter  int             `json:"ignore_never_after"`
	WithdrawCooldown  time.Duration   `json:"withdraw_cooldown"`
	NoteMaxChars      int             `json:"note_max_chars"`
	RestrictShort     time.Duration   `json:"restrict_short"`
	RestrictLong      time.Duration   `json:"restrict_long"`
	RestrictLongAfter int             `json:"restrict_long_after"`
	RecipientDailyMax int             `json:"recipient_daily_max"`
}

// Config is what every peer is built from: the parameters, the calendar
// behind next_day, next_week, next_month and the formats, and the generic
// message a fail-closed decision carries.
type Config struct {
	Params   Params
	Calendar rules.Calendar
	Generic  string
}

// Result is what every engine answers for one invite request: the fields
// of a connrules decision the stage sets (no trace, no diagnostics).
type Result struct {
	Outcome    string
	Reason     string
	Rule       string
	Message    string
	Private    bool
	RetryAfter time.Time
	// RestrictUntil is the end of the restrict effect on the sender, the
	// only effect of the invite stage; zero when there is none.
	RestrictUntil time.Time
}

// Same reports whether two results agree, comparing times as instants.
func (r Result) Same(o Result) bool {
	return r.Outcome == o.Outcome && r.Reason == o.Reason && r.Rule == o.Rule && r.Message == o.Message &&
		r.Private == o.Private && r.RetryAfter.Equal(o.RetryAfter) && r.RestrictUntil.Equal(o.RestrictUntil)
}

// ConfigOf reads the invite stage's parameters from a loaded policy.
func ConfigOf(p *rules.Policy) (Config, error) {
	out, err := paramsOf(p)
	return Config{Params: out, Calendar: p.Calendar(), Generic: p.GenericMessage()}, err
}

func paramsOf(p *rules.Policy) (Params, error) {
	out := Params{Tiers: map[string]Tier{}}
	var err error
	get := func(path string, dst any) {
		v, ok := p.Param(path)
		if !ok {
			err = fmt.Errorf("policy has no param %s", path)
			return
		}
		rv := reflect.ValueOf(dst).Elem()
		if vv := reflect.ValueOf(v); vv.Type().ConvertibleTo(rv.Type()) {
			rv.Set(vv.Convert(rv.Type()))
		} else if err == nil {
			err = fmt.Errorf("param %s is %T, want %s", path, v, rv.Type())
		}
	}
	tiers, ok := p.Param("tiers")
	if !ok {
		return out, fmt.Errorf("policy has no tiers")
	}
	names := reflect.ValueOf(tiers).MapKeys()
	for _, k := range names {
		n := k.String()
		var t Tier
		get("tiers."+n+".daily", &t.Daily)
		get("tiers."+n+".weekly", &t.Weekly)
		get("tiers."+n+".monthly", &t.Monthly)
		get("tiers."+n+".connections", &t.Connections)
		out.Tiers[n] = t
	}
	get("max_pending_per_pair", &out.MaxPendingPerPair)
	get("ignore_never_after", &out.IgnoreNeverAfter)
	get("withdraw_cooldown", &out.WithdrawCooldown)
	get("note_max_chars", &out.NoteMaxChars)
	get("restrict.short", &out.RestrictShort)
	get("restrict.long", &out.RestrictLong)
	get("restrict.long_after", &out.RestrictLongAfter)
	get("recipient_daily_max", &out.RecipientDailyMax)
	cd, ok := p.Param("ignore_cooldowns")
	if !ok {
		return out, fmt.Errorf("policy has no param ignore_cooldowns")
	}
	list, _ := cd.([]time.Duration)
	out.IgnoreCooldowns = slices.Clone(list)
	if err == nil && len(out.IgnoreCooldowns) == 0 {
		err = fmt.Errorf("ignore_cooldowns is empty")
	}
	return out, err
}

// invalidTier is the answer for a member whose tier the policy does not
// list, as connrules gives it (fail closed, generic message).
func (c *Config) invalidTier(req *rules.Request) (Result, bool) {
	_, ok := c.Params.Tiers[req.Sender.Tier]
	if ok && req.Recipient != nil {
		_, ok = c.Params.Tiers[req.Recipient.Tier]
	}
	if ok {
		return Result{}, false
	}
	return c.invalid(), true
}

func (c *Config) invalid() Result {
	return Result{Outcome: "deny", Reason: rules.ReasonInvalidRequest, Message: c.Generic}
}

// timeLayout is format_time's layout; dateLayout is format_date's.
const (
	timeLayout = "Jan 2, 2006 3:04 PM MST"
	dateLayout = "Jan 2, 2006"
)

var inactive = []string{"deactivated", "closed"}

func isInactive(status string) bool { return slices.Contains(inactive, status) }
