# The invite stage of policies.yaml in Rego. Ordered rules: an else
# chain, so the first rule that holds decides, as in connrules. Times are
# Unix nanoseconds; a zero time is left out of the input (as omitzero does
# in the request's JSON). next_day, next_week, next_month, format_time and
# format_date are Go builtins over the policy's calendar, as in connrules.
package connrules.invite

import rego.v1

params := data.connrules.params.params

sender := input.sender

recipient := input.recipient

pair := input.pair

now := input.now

tier := params.tiers[sender.tier]

recipient_tier := params.tiers[recipient.tier]

settings := recipient.settings

resend_at := pair.last_ignored_at + params.ignore_cooldowns[min({pair.ignored, count(params.ignore_cooldowns)}) - 1]

day_full if {
	tier.daily > 0
	sender.sent.day >= tier.daily
}

week_full if {
	tier.weekly > 0
	sender.sent.week >= tier.weekly
}

month_full if {
	tier.monthly > 0
	sender.sent.month >= tier.monthly
}

recipient_full if {
	recipient != null
	recipient.received.day >= params.recipient_daily_max
}

day_free_at := next_day(now) if {
	day_full
} else := next_day(now) if {
	recipient_full
} else := now

week_free_at := next_week(now) if {
	week_full
} else := now

month_free_at := next_month(now) if {
	month_full
} else := now

quota_free_at := max({day_free_at, week_free_at, month_free_at})

ban := params.restrict_long if {
	sender.over_limit + 1 >= params.restrict_long_after
} else := params.restrict_short

restrict_until := max({now + ban, next_week(now)})

weekly_retry_at := next_month(now) if {
	month_full
	next_month(now) > restrict_until
} else := restrict_until

restricted_retry_at := max({quota_free_at, sender.restricted_until})

soft_banned_now if {
	sender.status == "soft_banned"
	not sender.soft_banned_until
}

soft_banned_now if {
	sender.status == "soft_banned"
	sender.soft_banned_until > now
}

already_connected if pair.connected

already_connected if pair.degree == 1

known_tiers if {
	params.tiers[sender.tier]
	recipient == null
}

known_tiers if {
	params.tiers[sender.tier]
	params.tiers[recipient.tier]
}

settings_refuse if {
	settings.invitations == "email_or_contacts"
	not pair.knows_email
	not pair.in_contacts
}

settings_refuse if {
	settings.invitations == "contacts_only"
	not pair.in_contacts
}

settings_refuse if {
	settings.invitations == "mutual"
	pair.mutual == 0
}

settings_refuse if {
	settings.invitations == "second_degree"
	not pair.degree in {1, 2}
}

settings_refuse if {
	settings.invitations == "third_degree"
	pair.degree == 0
}

settings_refuse if {
	listed
	not sender.company in settings.companies
	not sender.school in settings.schools
	not sender.title in settings.titles
}

# The recipient lists companies, schools or titles it admits.
listed if count(settings.companies) > 0

listed if count(settings.schools) > 0

listed if count(settings.titles) > 0

deny(rule, msg) := {"outcome": "deny", "reason": rule, "rule": rule, "message": msg}

private_deny(rule, msg) := {"outcome": "deny", "reason": rule, "rule": rule, "message": msg, "private": true}

deny_until(rule, msg, at) := {"outcome": "deny", "reason": rule, "rule": rule, "message": msg, "retry_after": at}

decision := {"outcome": "deny", "reason": "invalid_request", "rule": "", "message": data.connrules.params.generic} if {
	not known_tiers
} else := deny("not_found", "We couldn't find that member. Check the profile URL or email address.") if {
	recipient == null
} else := deny("self_invite", "You can't invite yourself.") if {
	recipient.id == sender.id
} else := deny("sender_not_person", "Only individual members can send invitations. Company pages can't connect.") if {
	sender.kind != "person"
} else := deny("recipient_not_person", "Company pages can't be invited to connect. Follow the page instead.") if {
	recipient.kind != "person"
} else := deny("sender_inactive", "Your account is not active. Reactivate it to send invitations.") if {
	sender.status in {"deactivated", "closed"}
} else := {
	"outcome": "deny", "reason": "weekly_limit", "rule": "weekly_limit_escalation",
	"message": sprintf("You've made %d attempts past this week's limit of %d invitations. Sending is paused until %s.", [sender.over_limit + 1, tier.weekly, format_time(weekly_retry_at)]),
	"retry_after": weekly_retry_at, "restrict_until": restrict_until,
} if {
	week_full
	sender.over_limit + 1 >= params.restrict_long_after
	sender.restricted_until > now
	sender.restricted_until <= now + params.restrict_short
} else := deny_until("sender_restricted", sprintf("Your account can't send invitations until %s.", [format_time(restricted_retry_at)]), restricted_retry_at) if {
	sender.restricted_until > now
} else := deny("recipient_unavailable", "This member's account is no longer active.") if {
	recipient.status in {"deactivated", "closed"}
} else := deny("already_connected", "You're already connected to this member.") if {
	already_connected
} else := deny("already_pending", "You already have an invitation pending with this member. Withdraw it or wait for an answer.") if {
	pair.pending >= params.max_pending_per_pair
} else := deny("previously_rejected", "This member declined your earlier invitation. You can't invite them again.") if {
	pair.rejected
} else := {"outcome": "deny", "reason": "resend_cooldown", "rule": "resend_never", "message": "You can't send this member another invitation."} if {
	pair.ignored >= params.ignore_never_after
} else := deny_until("resend_cooldown", sprintf("You can invite this member again after %s.", [format_date(resend_at)]), resend_at) if {
	pair.ignored >= 1
	now < resend_at
} else := deny_until("withdraw_cooldown", sprintf("You withdrew an invitation to this member recently. Try again after %s.", [format_date(pair.withdrawn_at + params.withdraw_cooldown)]), pair.withdrawn_at + params.withdraw_cooldown) if {
	now < pair.withdrawn_at + params.withdraw_cooldown
} else := private_deny("blocked", "Blocked (either side).") if {
	pair.blocked
} else := private_deny("recipient_settings", "The recipient's settings don't admit this sender.") if {
	settings_refuse
} else := deny("not_close_enough", "You and this member share no connection, and you didn't give their email address. Invite them with their email address, or connect with someone they know first.") if {
	not pair.degree in {1, 2}
	not pair.knows_email
} else := deny("note_too_long", sprintf("Your note is %d characters long; the limit is %d.", [count(input.note), params.note_max_chars])) if {
	count(input.note) > params.note_max_chars
} else := deny("sender_connection_limit", sprintf("You've reached your limit of %d connections. Remove some connections or upgrade to Premium to invite more.", [tier.connections])) if {
	tier.connections > 0
	sender.connections >= tier.connections
} else := private_deny("recipient_connection_limit", "The recipient is at their connection cap.") if {
	recipient_tier.connections > 0
	recipient.connections >= recipient_tier.connections
} else := {
	"outcome": "deny", "reason": "weekly_limit", "rule": "weekly_limit",
	"message": sprintf("You've reached this week's limit of %d invitations. Sending is paused until %s.", [tier.weekly, format_time(weekly_retry_at)]),
	"retry_after": weekly_retry_at, "restrict_until": restrict_until,
} if {
	week_full
} else := deny_until("monthly_limit", sprintf("You've reached this month's limit of %d invitations. You can send more from %s.", [tier.monthly, format_date(next_month(now))]), next_month(now)) if {
	month_full
} else := deny_until("daily_limit", sprintf("You've reached today's limit of %d invitations. You can send more from %s.", [tier.daily, format_time(next_day(now))]), next_day(now)) if {
	day_full
} else := deny_until("recipient_busy", "This member is receiving a lot of invitations right now. Try again tomorrow.", next_day(now)) if {
	recipient.received.day >= params.recipient_daily_max
} else := {"outcome": "shadow", "reason": "soft_banned", "rule": "soft_banned", "message": "Soft-banned sender: shown as sent, not delivered.", "private": true} if {
	soft_banned_now
} else := {"outcome": "allow", "reason": "sent", "rule": "", "message": "Invitation sent."}
