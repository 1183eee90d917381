# The invite stage of policies.yaml in Rego, for the server comparison in
# opa_test.go. Same rules, same order, first match decides; messages are
# the policy's without the formatted dates, and effects are left out.
package connrules.invite

import rego.v1

tiers := {
	"free": {"daily": 30, "weekly": 300, "monthly": 0, "connections": 500},
	"premium": {"daily": 100, "weekly": 500, "monthly": 0, "connections": 30000},
}

day_ns := ((24 * 3600) * 1000) * 1000000

ignore_cooldowns := [90 * day_ns, 365 * day_ns]

generic := "Unable to connect. You can't send an invitation to this member right now."

now_ns := time.parse_rfc3339_ns(input.now)

sender := input.sender

recipient := input.recipient

pair := input.pair

tier := tiers[sender.tier]

recipient_tier := tiers[recipient.tier]

settings := object.get(recipient, "settings", {})

invitations := object.get(settings, "invitations", "")

companies := object.get(settings, "companies", [])

schools := object.get(settings, "schools", [])

pget(k, d) := object.get(pair, k, d)

time_ns(t) := 0 if t == ""

time_ns(t) := time.parse_rfc3339_ns(t) if t != ""

default hit(_) := false

hit("not_found") if recipient == null

hit("self_invite") if recipient.id == sender.id

hit("sender_not_person") if sender.kind != "person"

hit("sender_inactive") if sender.status in {"deactivated", "closed"}

hit("sender_restricted") if time_ns(object.get(sender, "restricted_until", "")) > now_ns

hit("recipient_unavailable") if recipient.status in {"deactivated", "closed"}

hit("already_connected") if pget("connected", false)

hit("already_connected") if pget("degree", 0) == 1

hit("already_pending") if pget("pending", 0) >= 1

hit("previously_rejected") if pget("rejected", false)

hit("resend_never") if pget("ignored", 0) >= 3

hit("resend_cooldown") if {
	n := pget("ignored", 0)
	n >= 1
	now_ns < time_ns(pget("last_ignored_at", "")) + ignore_cooldowns[min([n, 2]) - 1]
}

hit("withdraw_cooldown") if {
	w := pget("withdrawn_at", "")
	w != ""
	now_ns < time_ns(w)
}

hit("blocked") if pget("blocked", false)

close_or_email if pget("degree", 0) in {1, 2}

close_or_email if pget("knows_email", false)

hit("recipient_settings") if {
	invitations == "email_or_contacts"
	not pget("knows_email", false)
	not pget("in_contacts", false)
}

hit("recipient_settings") if {
	invitations == "contacts_only"
	not pget("in_contacts", false)
}

hit("recipient_settings") if {
	invitations == "mutual"
	pget("mutual", 0) == 0
}

hit("recipient_settings") if {
	invitations == "second_degree"
	not pget("degree", 0) in {1, 2}
}

hit("recipient_settings") if {
	invitations == "third_degree"
	pget("degree", 0) == 0
}

hit("recipient_settings") if {
	count(companies) + count(schools) > 0
	not sender.company in companies
	not sender.school in schools
}

hit("not_close_enough") if not close_or_email

hit("note_too_long") if count(input.note) > 300

hit("sender_connection_limit") if {
	tier.connections > 0
	sender.connections >= tier.connections
}

hit("recipient_connection_limit") if {
	recipient_tier.connections > 0
	recipient.connections >= recipient_tier.connections
}

hit("daily_limit") if sender.sent.day >= tier.daily

hit("weekly_limit") if sender.sent.week >= tier.weekly

hit("monthly_limit") if {
	tier.monthly > 0
	sender.sent.month >= tier.monthly
}

hit("recipient_busy") if recipient.received.day >= 1000

hit("soft_banned") if sender.status == "soft_banned"

order := [
	"not_found", "self_invite", "sender_not_person", "sender_inactive", "sender_restricted",
	"recipient_unavailable", "already_connected", "already_pending", "previously_rejected",
	"resend_never", "resend_cooldown", "withdraw_cooldown", "blocked", "recipient_settings",
	"not_close_enough", "note_too_long", "sender_connection_limit", "recipient_connection_limit",
	"daily_limit", "weekly_limit", "monthly_limit", "recipient_busy", "soft_banned",
]

outcomes := {
	"not_found": ["deny", "not_found", false, "We couldn't find that member. Check the profile URL or email address."],
	"self_invite": ["deny", "self_invite", false, "You can't invite yourself."],
	"sender_not_person": ["deny", "sender_not_person", false, "Only individual members can send invitations. Company pages can't connect."],
	"sender_inactive": ["deny", "sender_inactive", false, "Your account is not active. Reactivate it to send invitations."],
	"sender_restricted": ["deny", "sender_restricted", false, "Your account can't send invitations until later."],
	"recipient_unavailable": ["deny", "recipient_unavailable", false, "This member's account is no longer active."],
	"already_connected": ["deny", "already_connected", false, "You're already connected to this member."],
	"already_pending": ["deny", "already_pending", false, "You already have an invitation pending with this member. Withdraw it or wait for an answer."],
	"previously_rejected": ["deny", "previously_rejected", false, "This member declined your earlier invitation. You can't invite them again."],
	"resend_never": ["deny", "resend_cooldown", false, "You can't send this member another invitation."],
	"resend_cooldown": ["deny", "resend_cooldown", false, "You can invite this member again later."],
	"withdraw_cooldown": ["deny", "withdraw_cooldown", false, "You withdrew an invitation to this member recently."],
	"blocked": ["deny", "blocked", true, "Blocked (either side)."],
	"recipient_settings": ["deny", "recipient_settings", true, "The recipient's settings don't admit this sender."],
	"not_close_enough": ["deny", "not_close_enough", false, "You and this member share no connection, and you didn't give their email address. Invite them with their email address, or connect with someone they know first."],
	"note_too_long": ["deny", "note_too_long", false, "Your note is too long."],
	"sender_connection_limit": ["deny", "sender_connection_limit", false, "You've reached your limit of connections."],
	"recipient_connection_limit": ["deny", "recipient_connection_limit", true, "The recipient is at their connection cap."],
	"daily_limit": ["deny", "daily_limit", false, sprintf("You've reached today's limit of %d invitations.", [tier.daily])],
	"weekly_limit": ["deny", "weekly_limit", false, sprintf("You've reached this week's limit of %d invitations.", [tier.weekly])],
	"monthly_limit": ["deny", "monthly_limit", false, "You've reached this month's limit of invitations."],
	"recipient_busy": ["deny", "recipient_busy", false, "This member is receiving a lot of invitations right now. Try again tomorrow."],
	"soft_banned": ["shadow", "soft_banned", true, "Soft-banned sender: shown as sent, not delivered."],
}

hits := [id | some id in order; hit(id)]

default decision := {"outcome": "allow", "reason": "sent", "rule": "", "message": "Invitation sent."}

decision := d if {
	count(hits) > 0
	id := hits[0]
	o := outcomes[id]
	d := {"outcome": o[0], "reason": o[1], "rule": id, "message": o[3], "private": o[2]}
}
