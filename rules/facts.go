package rules

import (
	"fmt"
	"time"
)

// Stage names. Each stage has its own ordered rule list and outcomes.
const (
	StageInvite  = "invite"
	StageDeliver = "deliver"
	StageAccept  = "accept"
)

// Stages lists the stages in the order an invitation meets them.
var Stages = []string{StageInvite, StageDeliver, StageAccept}

// Request is the facts about one action: who acts, on whom, and when.
// Its JSON names are a public contract.
type Request struct {
	// Stage is invite, deliver or accept.
	Stage string `json:"stage" expr:"stage"`
	// Now is the decision time. The engine never reads the clock.
	Now time.Time `json:"now" expr:"now"`
	// Note is the invitation note; it may be empty.
	Note string `json:"note" expr:"note"`
	// Sender is the member who sends the invitation.
	Sender *Member `json:"sender" expr:"sender"`
	// Recipient is nil when no member matches the given profile URL or email.
	Recipient *Member `json:"recipient" expr:"recipient"`
	// Pair is the relationship, seen from the sender.
	Pair Pair `json:"pair" expr:"pair"`
}

// Member is a person or company page on the network.
type Member struct {
	// ID is the member's id.
	ID string `json:"id" expr:"id"`
	// Kind is person or company (a company page).
	Kind string `json:"kind" expr:"kind"`
	// Tier is a key into the policy's tier table, such as free or premium.
	Tier string `json:"tier" expr:"tier"`
	// Status is active, restricted, soft_banned, deactivated or closed.
	Status string `json:"status" expr:"status"`
	// RestrictedUntil is the end of a restriction; zero when there is none.
	RestrictedUntil time.Time `json:"restricted_until,omitzero" expr:"restricted_until"`
	// SoftBannedUntil is the end of a soft ban (status soft_banned); zero
	// means the ban has no end.
	SoftBannedUntil time.Time `json:"soft_banned_until,omitzero" expr:"soft_banned_until"`
	// Connections is the member's number of connections.
	Connections int `json:"connections" expr:"connections"`
	// Company is where the member works; it may be empty.
	Company string `json:"company" expr:"company"`
	// School is where the member studied; it may be empty.
	School string `json:"school" expr:"school"`
	// Title is the member's job title, as recipients' settings list them.
	Title string `json:"title,omitempty" expr:"title"`
	// Sent counts invitations the member sent in the current windows, not counting this one.
	Sent Counts `json:"sent" expr:"sent"`
	// Received counts invitations delivered to the member in the current windows.
	Received Counts `json:"received" expr:"received"`
	// OverLimit counts attempts past the weekly limit in this window.
	OverLimit int `json:"over_limit" expr:"over_limit"`
	// AcceptanceRate is the share of sent invitations accepted, 0..1.
	AcceptanceRate float64 `json:"acceptance_rate" expr:"acceptance_rate"`
	// Settings are the member's choices about who may invite them.
	Settings Settings `json:"settings" expr:"settings"`
}

// Counts holds invitation counts per calendar window.
type Counts struct {
	// Hour counts the rolling last hour.
	Hour int `json:"hour" expr:"hour"`
	// Day counts since midnight in the policy's time zone.
	Day int `json:"day" expr:"day"`
	// Week counts since the week start (week_start in the policy).
	Week int `json:"week" expr:"week"`
	// Month counts since the first of the month.
	Month int `json:"month" expr:"month"`
}

// Settings are a member's choices about who may invite them.
type Settings struct {
	// Invitations says who may invite the member: everyone,
	// email_or_contacts, contacts_only, mutual, second_degree, third_degree
	// or nobody. Empty means everyone.
	Invitations string `json:"invitations" expr:"invitations"`
	// Companies, Schools and Titles, when not all empty, admit only
	// senders from a listed company or school or with a listed title.
	Companies []string `json:"companies" expr:"companies"`
	// Schools: see Companies.
	Schools []string `json:"schools" expr:"schools"`
	// Titles: see Companies.
	Titles []string `json:"titles,omitempty" expr:"titles"`
	// RequireConfirmation holds invitations until the member confirms them.
	RequireConfirmation bool `json:"require_confirmation" expr:"require_confirmation"`
	// AutoAccept lists the senders whose invitations are accepted on arrival.
	AutoAccept AutoAccept `json:"auto_accept" expr:"auto_accept"`
}

// AutoAccept lists the senders whose invitations are accepted on arrival.
type AutoAccept struct {
	// Companies: senders from these companies are accepted on arrival.
	Companies []string `json:"companies" expr:"companies"`
	// Schools: senders from these schools are accepted on arrival.
	Schools []string `json:"schools" expr:"schools"`
	// Titles: senders with these titles are accepted on arrival.
	Titles []string `json:"titles,omitempty" expr:"titles"`
}

// Pair is the relationship between sender and recipient, seen from the sender.
type Pair struct {
	// Connected: the two are already connected.
	Connected bool `json:"connected" expr:"connected"`
	// Degree is 1, 2 or 3; 0 is outside the network.
	Degree int `json:"degree" expr:"degree"`
	// Mutual is the number of shared connections.
	Mutual int `json:"mutual" expr:"mutual"`
	// KnowsEmail: the sender gave the recipient's email or has it in imported contacts.
	KnowsEmail bool `json:"knows_email" expr:"knows_email"`
	// InContacts: the sender is in the recipient's imported contacts.
	InContacts bool `json:"in_contacts" expr:"in_contacts"`
	// Blocked is true when either side blocked the other.
	Blocked bool `json:"blocked" expr:"blocked"`
	// Pending counts open invitations from sender to recipient.
	Pending int `json:"pending" expr:"pending"`
	// Ignored counts the sender's invitations the recipient ignored.
	Ignored int `json:"ignored" expr:"ignored"`
	// LastIgnoredAt is when the recipient last ignored one; zero if never.
	LastIgnoredAt time.Time `json:"last_ignored_at,omitzero" expr:"last_ignored_at"`
	// Rejected: the recipient rejected an earlier invitation from the sender.
	Rejected bool `json:"rejected" expr:"rejected"`
	// WithdrawnAt is when the sender last withdrew one; zero if never.
	WithdrawnAt time.Time `json:"withdrawn_at,omitzero" expr:"withdrawn_at"`
}

var (
	memberKinds    = []string{"person", "company"}
	memberStatuses = []string{"active", "restricted", "soft_banned", "deactivated", "closed"}
	invitationOpts = []string{"", "everyone", "email_or_contacts", "contacts_only", "mutual", "second_degree", "third_degree", "nobody"}
)

// FactsError reports malformed facts: bad JSON, a missing field or a value
// outside its enumeration. Field is a JSON path such as "sender.status".
type FactsError struct {
	Field string
	Msg   string
}

// Error says which field is wrong and why.
func (e *FactsError) Error() string {
	if e.Field == "" {
		return "invalid request: " + e.Msg
	}
	return "invalid request: " + e.Field + ": " + e.Msg
}

// DecodeRequest parses a request from JSON and validates it. Unknown fields
// are rejected so that a misspelt fact never silently reads as zero.
func DecodeRequest(data []byte) (*Request, error) {
	var r Request
	if err := unmarshalRequestSlow(data, &r); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks the facts a policy relies on: a known stage, a time in
// range, a sender, enumerated values inside their sets, counts that are
// not negative, and lists and text within the bounds that keep a decision
// short (see [MaxFactsList] and [MaxFactsText]).
func (r *Request) Validate() error {
	if r.Stage != StageInvite && r.Stage != StageDeliver && r.Stage != StageAccept {
		return &FactsError{Field: "stage", Msg: fmt.Sprintf("%q is not one of invite, deliver, accept", r.Stage)}
	}
	if r.Now.IsZero() {
		return &FactsError{Field: "now", Msg: "missing; the engine never reads the clock, so now must be given"}
	}
	if r.Now.Before(MinNow) || !r.Now.Before(MaxNow) {
		return &FactsError{Field: "now", Msg: fmt.Sprintf("%s is outside %s..%s", r.Now.Format(time.RFC3339), MinNow.Format(time.RFC3339), MaxNow.Format(time.RFC3339))}
	}
	if len(r.Note) > MaxFactsText {
		return &FactsError{Field: "note", Msg: fmt.Sprintf("%d bytes, over the limit of %d", len(r.Note), MaxFactsText)}
	}
	if r.Sender == nil {
		return &FactsError{Field: "sender", Msg: "missing"}
	}
	if err := r.Sender.validate("sender"); err != nil {
		return err
	}
	if r.Recipient != nil {
		if err := r.Recipient.validate("recipient"); err != nil {
			return err
		}
	}
	p := &r.Pair
	if p.Degree < 0 || p.Degree > 3 {
		return &FactsError{Field: "pair.degree", Msg: fmt.Sprintf("%d is not 0, 1, 2 or 3", p.Degree)}
	}
	// The field names are built only for an error.
	if min(p.Mutual, p.Pending, p.Ignored) < 0 {
		return counts("pair", []string{"mutual", "pending", "ignored"}, p.Mutual, p.Pending, p.Ignored)
	}
	if err := validTime("pair.last_ignored_at", p.LastIgnoredAt); err != nil {
		return err
	}
	return validTime("pair.withdrawn_at", p.WithdrawnAt)
}

// The range of now. The engine never reads the clock, so a bad now is
// the caller's mistake; bounding it keeps every time a policy computes
// from it (a retry_after of now plus a year, say) inside what RFC 3339,
// and so JSON, can write.
var (
	MinNow = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxNow = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// validTime checks an optional time of the facts: zero, or within the
// years RFC 3339 can write.
func validTime(field string, t time.Time) error {
	if t.IsZero() || representable(t) {
		return nil
	}
	return &FactsError{Field: field, Msg: fmt.Sprintf("year %d is outside 1..9999", t.Year())}
}

// representable reports whether JSON can carry t: RFC 3339 has four-digit
// years.
func representable(t time.Time) bool {
	var scratch [64]byte
	_, err := t.AppendText(scratch[:0])
	return err == nil
}

// counts checks that no count is negative: a negative count would read as
// room under a limit.
func counts(path string, names []string, vals ...int) error {
	for i, v := range vals {
		if v < 0 {
			return &FactsError{Field: path + "." + names[i], Msg: fmt.Sprintf("%d is negative", v)}
		}
	}
	return nil
}

var windowNames = []string{"hour", "day", "week", "month"}

// knownKind, knownStatus and knownInvitations test membership in
// memberKinds, memberStatuses and invitationOpts (TestKnownEnums keeps
// them in step).
func knownKind(s string) bool { return s == "person" || s == "company" }

func knownStatus(s string) bool {
	switch s {
	case "active", "restricted", "soft_banned", "deactivated", "closed":
		return true
	}
	return false
}

func knownInvitations(s string) bool {
	switch s {
	case "", "everyone", "email_or_contacts", "contacts_only", "mutual", "second_degree", "third_degree", "nobody":
		return true
	}
	return false
}

func (m *Member) validate(path string) error {
	// Switches, not scans of the lists: this runs twice per decision.
	if !knownKind(m.Kind) {
		return &FactsError{Field: path + ".kind", Msg: fmt.Sprintf("%q is not one of person, company", m.Kind)}
	}
	if !knownStatus(m.Status) {
		return &FactsError{Field: path + ".status", Msg: fmt.Sprintf("%q is not one of active, restricted, soft_banned, deactivated, closed", m.Status)}
	}
	if !knownInvitations(m.Settings.Invitations) {
		return &FactsError{Field: path + ".settings.invitations", Msg: fmt.Sprintf("%q is not one of everyone, email_or_contacts, contacts_only, mutual, second_degree, third_degree, nobody", m.Settings.Invitations)}
	}
	// NaN fails every comparison, so test for the range, not outside it.
	if !(m.AcceptanceRate >= 0 && m.AcceptanceRate <= 1) {
		return &FactsError{Field: path + ".acceptance_rate", Msg: fmt.Sprintf("%v is outside 0..1", m.AcceptanceRate)}
	}
	if m.Connections < 0 {
		return &FactsError{Field: path + ".connections", Msg: "must not be negative"}
	}
	// Paths are built only when a count is negative: building them for
	// every decision was a fifth of its time.
	// An OR of ints is negative when one of them is.
	if s, r := &m.Sent, &m.Received; m.OverLimit|s.Hour|s.Day|s.Week|s.Month|r.Hour|r.Day|r.Week|r.Month < 0 {
		if err := counts(path, []string{"over_limit"}, m.OverLimit); err != nil {
			return err
		}
		c := m.Sent
		if err := counts(path+".sent", windowNames, c.Hour, c.Day, c.Week, c.Month); err != nil {
			return err
		}
		c = m.Received
		if err := counts(path+".received", windowNames, c.Hour, c.Day, c.Week, c.Month); err != nil {
			return err
		}
	}
	// The path is built only for an error: concatenating it on every
	// decision was an allocation per member.
	if t := m.RestrictedUntil; !t.IsZero() && !representable(t) {
		return validTime(path+".restricted_until", t)
	}
	if max(len(m.ID), len(m.Tier), len(m.Company), len(m.School)) > MaxFactsText {
		for i, s := range [...]string{m.ID, m.Tier, m.Company, m.School} {
			if len(s) > MaxFactsText {
				return &FactsError{Field: path + "." + [...]string{"id", "tier", "company", "school"}[i], Msg: fmt.Sprintf("%d bytes, over the limit of %d", len(s), MaxFactsText)}
			}
		}
	}
	st := &m.Settings
	if len(st.Companies)+len(st.Schools)+len(st.AutoAccept.Companies)+len(st.AutoAccept.Schools) == 0 {
		return nil
	}
	// One call per list, not a loop over a table of them: the table was
	// copied on every decision.
	if err := checkList(path, "settings.companies", st.Companies); err != nil {
		return err
	}
	if err := checkList(path, "settings.schools", st.Schools); err != nil {
		return err
	}
	if err := checkList(path, "settings.auto_accept.companies", st.AutoAccept.Companies); err != nil {
		return err
	}
	return checkList(path, "settings.auto_accept.schools", st.AutoAccept.Schools)
}

// checkList bounds a list of the facts and its strings.
func checkList(path, field string, list []string) error {
	if len(list) > MaxFactsList {
		return &FactsError{Field: path + "." + field, Msg: fmt.Sprintf("%d entries, over the limit of %d", len(list), MaxFactsList)}
	}
	for i, s := range list {
		if len(s) > MaxFactsText {
			return &FactsError{Field: fmt.Sprintf("%s.%s[%d]", path, field, i), Msg: fmt.Sprintf("%d bytes, over the limit of %d", len(s), MaxFactsText)}
		}
	}
	return nil
}

// factsValue is Request with the members held by value. Fields read
// through a pointer are addressable, and boxing an addressable value
// copies it to the heap; read from a value they are not, so a decision
// that boxes factsValue once reads every fact without allocating.
type factsValue struct {
	Stage     string    `expr:"stage"`
	Now       time.Time `expr:"now"`
	Note      string    `expr:"note"`
	Sender    Member    `expr:"sender"`
	Recipient Member    `expr:"recipient"`
	Pair      Pair      `expr:"pair"`
}
