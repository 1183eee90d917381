package peers

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/connrules/connrules/rules"
)

// Hand is the invite stage of policies.yaml written by hand in Go: the
// floor the engines are measured against. Rule for rule, in the policy's
// order; the first rule that holds decides. Lets are computed only where a
// rule needs them, as a programmer would.
type Hand struct {
	C Config
}

// Decide answers one invite request.
func (h *Hand) Decide(req *rules.Request) Result {
	if r, bad := h.C.invalidTier(req); bad {
		return r
	}
	p, cal := &h.C.Params, &h.C.Calendar
	s, rc, pair, now := req.Sender, req.Recipient, &req.Pair, req.Now
	deny := func(rule, msg string) Result {
		return Result{Outcome: "deny", Reason: rule, Rule: rule, Message: msg}
	}
	if rc == nil {
		return deny("not_found", "We couldn't find that member. Check the profile URL or email address.")
	}
	if rc.ID == s.ID {
		return deny("self_invite", "You can't invite yourself.")
	}
	if s.Kind != "person" {
		return deny("sender_not_person", "Only individual members can send invitations. Company pages can't connect.")
	}
	if rc.Kind != "person" {
		return deny("recipient_not_person", "Company pages can't be invited to connect. Follow the page instead.")
	}
	if isInactive(s.Status) {
		return deny("sender_inactive", "Your account is not active. Reactivate it to send invitations.")
	}
	tier := p.Tiers[s.Tier]
	weekFull := tier.Weekly > 0 && s.Sent.Week >= tier.Weekly
	monthFull := tier.Monthly > 0 && s.Sent.Month >= tier.Monthly
	dayFull := tier.Daily > 0 && s.Sent.Day >= tier.Daily
	weeklyRetryAt := func() (restrictUntil, retry time.Time) {
		ban := p.RestrictShort
		if s.OverLimit+1 >= p.RestrictLongAfter {
			ban = p.RestrictLong
		}
		restrictUntil = cal.NextWeek(now)
		if end := now.Add(ban); end.After(restrictUntil) {
			restrictUntil = end
		}
		if monthFull {
			if nm := cal.NextMonth(now); nm.After(restrictUntil) {
				return restrictUntil, nm
			}
		}
		return restrictUntil, restrictUntil
	}
	if weekFull && s.OverLimit+1 >= p.RestrictLongAfter && s.RestrictedUntil.After(now) && !s.RestrictedUntil.After(now.Add(p.RestrictShort)) {
		until, at := weeklyRetryAt()
		r := Result{Outcome: "deny", Reason: "weekly_limit", Rule: "weekly_limit_escalation", RetryAfter: at, RestrictUntil: until,
			Message: "You've made " + strconv.Itoa(s.OverLimit+1) + " attempts past this week's limit of " + strconv.Itoa(tier.Weekly) +
				" invitations. Sending is paused until " + at.In(cal.Loc).Format(timeLayout) + "."}
		return r
	}
	if s.RestrictedUntil.After(now) {
		// restricted_retry_at: the later of the restriction's end and the
		// moment every full quota window has rolled over.
		free := now
		if dayFull || rc.Received.Day >= p.RecipientDailyMax {
			free = cal.NextDay(now)
		}
		if weekFull {
			if nw := cal.NextWeek(now); nw.After(free) {
				free = nw
			}
		}
		if monthFull {
			if nm := cal.NextMonth(now); nm.After(free) {
				free = nm
			}
		}
		at := s.RestrictedUntil
		if free.After(at) {
			at = free
		}
		r := deny("sender_restricted", "Your account can't send invitations until "+at.In(cal.Loc).Format(timeLayout)+".")
		r.RetryAfter = at
		return r
	}
	if isInactive(rc.Status) {
		return deny("recipient_unavailable", "This member's account is no longer active.")
	}
	if pair.Connected || pair.Degree == 1 {
		return deny("already_connected", "You're already connected to this member.")
	}
	if pair.Pending >= p.MaxPendingPerPair {
		return deny("already_pending", "You already have an invitation pending with this member. Withdraw it or wait for an answer.")
	}
	if pair.Rejected {
		return deny("previously_rejected", "This member declined your earlier invitation. You can't invite them again.")
	}
	if pair.Ignored >= p.IgnoreNeverAfter {
		r := deny("resend_never", "You can't send this member another invitation.")
		r.Reason = "resend_cooldown"
		return r
	}
	if pair.Ignored >= 1 {
		at := pair.LastIgnoredAt.Add(p.IgnoreCooldowns[min(pair.Ignored, len(p.IgnoreCooldowns))-1])
		if now.Before(at) {
			r := deny("resend_cooldown", "You can invite this member again after "+at.In(cal.Loc).Format(dateLayout)+".")
			r.RetryAfter = at
			return r
		}
	}
	if at := pair.WithdrawnAt.Add(p.WithdrawCooldown); now.Before(at) {
		r := deny("withdraw_cooldown", "You withdrew an invitation to this member recently. Try again after "+at.In(cal.Loc).Format(dateLayout)+".")
		r.RetryAfter = at
		return r
	}
	if pair.Blocked {
		return private(deny("blocked", "Blocked (either side)."))
	}
	if !admits(&rc.Settings, s, pair) {
		return private(deny("recipient_settings", "The recipient's settings don't admit this sender."))
	}
	if !(pair.Degree == 1 || pair.Degree == 2 || pair.KnowsEmail) {
		return deny("not_close_enough", "You and this member share no connection, and you didn't give their email address. Invite them with their email address, or connect with someone they know first.")
	}
	if n := utf8.RuneCountInString(req.Note); n > p.NoteMaxChars {
		return deny("note_too_long", "Your note is "+strconv.Itoa(n)+" characters long; the limit is "+strconv.Itoa(p.NoteMaxChars)+".")
	}
	if tier.Connections > 0 && s.Connections >= tier.Connections {
		return deny("sender_connection_limit", "You've reached your limit of "+strconv.Itoa(tier.Connections)+
			" connections. Remove some connections or upgrade to Premium to invite more.")
	}
	if rt := p.Tiers[rc.Tier]; rt.Connections > 0 && rc.Connections >= rt.Connections {
		return private(deny("recipient_connection_limit", "The recipient is at their connection cap."))
	}
	if weekFull {
		until, at := weeklyRetryAt()
		r := deny("weekly_limit", "You've reached this week's limit of "+strconv.Itoa(tier.Weekly)+
			" invitations. Sending is paused until "+at.In(cal.Loc).Format(timeLayout)+".")
		r.RetryAfter, r.RestrictUntil = at, until
		return r
	}
	if monthFull {
		at := cal.NextMonth(now)
		r := deny("monthly_limit", "You've reached this month's limit of "+strconv.Itoa(tier.Monthly)+
			" invitations. You can send more from "+at.In(cal.Loc).Format(dateLayout)+".")
		r.RetryAfter = at
		return r
	}
	if dayFull {
		at := cal.NextDay(now)
		r := deny("daily_limit", "You've reached today's limit of "+strconv.Itoa(tier.Daily)+
			" invitations. You can send more from "+at.In(cal.Loc).Format(timeLayout)+".")
		r.RetryAfter = at
		return r
	}
	if rc.Received.Day >= p.RecipientDailyMax {
		r := deny("recipient_busy", "This member is receiving a lot of invitations right now. Try again tomorrow.")
		r.RetryAfter = cal.NextDay(now)
		return r
	}
	if s.Status == "soft_banned" && (s.SoftBannedUntil.IsZero() || s.SoftBannedUntil.After(now)) {
		return Result{Outcome: "shadow", Reason: "soft_banned", Rule: "soft_banned", Message: "Soft-banned sender: shown as sent, not delivered.", Private: true}
	}
	return Result{Outcome: "allow", Reason: "sent", Message: "Invitation sent."}
}

// private marks a rule's decision private: the sender sees only the
// generic message.
func private(r Result) Result {
	r.Private = true
	return r
}

// admits is the recipient_settings rule, negated: whether the recipient's
// settings let this sender invite them.
func admits(st *rules.Settings, s *rules.Member, pair *rules.Pair) bool {
	switch st.Invitations {
	case "email_or_contacts":
		if !(pair.KnowsEmail || pair.InContacts) {
			return false
		}
	case "contacts_only":
		if !pair.InContacts {
			return false
		}
	case "mutual":
		if pair.Mutual == 0 {
			return false
		}
	case "second_degree":
		if pair.Degree != 1 && pair.Degree != 2 {
			return false
		}
	case "third_degree":
		if pair.Degree == 0 {
			return false
		}
	}
	if len(st.Companies) > 0 || len(st.Schools) > 0 || len(st.Titles) > 0 {
		return slices.Contains(st.Companies, s.Company) || slices.Contains(st.Schools, s.School) || slices.Contains(st.Titles, s.Title)
	}
	return true
}
