package peers

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// celRule is one rule of the stage: a condition, and the message and
// retry_after it gives when it holds (CEL expressions), as in
// policies.yaml.
type celRule struct {
	id, reason, outcome string
	private             bool
	when, message       string
	retry               string
	restrict            string // the until of a restrict effect on the sender
}

// The policy's lets, inlined into the expressions that use them (CEL has
// no named sub-expressions across programs).
const (
	celTier        = "params.tiers[sender.tier]"
	celWeekFull    = "(" + celTier + ".weekly > 0 && sender.sent.week >= " + celTier + ".weekly)"
	celMonthFull   = "(" + celTier + ".monthly > 0 && sender.sent.month >= " + celTier + ".monthly)"
	celDayFull     = "(" + celTier + ".daily > 0 && sender.sent.day >= " + celTier + ".daily)"
	celRecipFull   = "(recipient != null && recipient.received.day >= params.recipient_daily_max)"
	celDayFreeAt   = "(" + celDayFull + " || " + celRecipFull + " ? next_day(now) : now)"
	celWeekFreeAt  = "(" + celWeekFull + " ? next_week(now) : now)"
	celMonthFreeAt = "(" + celMonthFull + " ? next_month(now) : now)"
	celBan         = "(sender.over_limit + 1 >= params.restrict_long_after ? params.restrict_long : params.restrict_short)"
	celRestrictEnd = "(now + " + celBan + " > next_week(now) ? now + " + celBan + " : next_week(now))"
	celWeeklyRetry = "(" + celMonthFull + " && next_month(now) > " + celRestrictEnd + " ? next_month(now) : " + celRestrictEnd + ")"
	celResendAt    = "(pair.last_ignored_at + params.ignore_cooldowns[(pair.ignored < size(params.ignore_cooldowns) ? pair.ignored : size(params.ignore_cooldowns)) - 1])"
	celWithdrawEnd = "(pair.withdrawn_at + params.withdraw_cooldown)"
	// cel-go reads a zero time.Time field as the Unix epoch: no end.
	celZeroTime = "0"
)

// celRestrictedRetry is restricted_retry_at: the latest of the
// restriction's end and the full windows' resets.
var celRestrictedRetry = celMax(celMax(celMax(celDayFreeAt, celWeekFreeAt), celMonthFreeAt), "sender.restricted_until")

func celMax(a, b string) string { return "(" + a + " > " + b + " ? " + a + " : " + b + ")" }

var celInvite = []celRule{
	{id: "not_found", when: "recipient == null", message: `"We couldn't find that member. Check the profile URL or email address."`},
	{id: "self_invite", when: "recipient.id == sender.id", message: `"You can't invite yourself."`},
	{id: "sender_not_person", when: `sender.kind != "person"`, message: `"Only individual members can send invitations. Company pages can't connect."`},
	{id: "recipient_not_person", when: `recipient.kind != "person"`, message: `"Company pages can't be invited to connect. Follow the page instead."`},
	{id: "sender_inactive", when: `sender.status in ["deactivated", "closed"]`, message: `"Your account is not active. Reactivate it to send invitations."`},
	{id: "weekly_limit_escalation", reason: "weekly_limit",
		when:    celWeekFull + " && sender.over_limit + 1 >= params.restrict_long_after && sender.restricted_until > now && sender.restricted_until <= now + params.restrict_short",
		message: `"You've made " + string(sender.over_limit + 1) + " attempts past this week's limit of " + string(` + celTier + `.weekly) + " invitations. Sending is paused until " + format_time(` + celWeeklyRetry + `) + "."`,
		retry:   celWeeklyRetry, restrict: celRestrictEnd},
	{id: "sender_restricted", when: "sender.restricted_until > now",
		message: `"Your account can't send invitations until " + format_time(` + celRestrictedRetry + `) + "."`, retry: celRestrictedRetry},
	{id: "recipient_unavailable", when: `recipient.status in ["deactivated", "closed"]`, message: `"This member's account is no longer active."`},
	{id: "already_connected", when: "pair.connected || pair.degree == 1", message: `"You're already connected to this member."`},
	{id: "already_pending", when: "pair.pending >= params.max_pending_per_pair", message: `"You already have an invitation pending with this member. Withdraw it or wait for an answer."`},
	{id: "previously_rejected", when: "pair.rejected", message: `"This member declined your earlier invitation. You can't invite them again."`},
	{id: "resend_never", reason: "resend_cooldown", when: "pair.ignored >= params.ignore_never_after", message: `"You can't send this member another invitation."`},
	{id: "resend_cooldown", when: "pair.ignored >= 1 && now < " + celResendAt,
		message: `"You can invite this member again after " + format_date(` + celResendAt + `) + "."`, retry: celResendAt},
	{id: "withdraw_cooldown", when: "now < " + celWithdrawEnd,
		message: `"You withdrew an invitation to this member recently. Try again after " + format_date(` + celWithdrawEnd + `) + "."`, retry: celWithdrawEnd},
	{id: "blocked", private: true, when: "pair.blocked", message: `"Blocked (either side)."`},
	{id: "recipient_settings", private: true, when: `recipient.settings.invitations == "email_or_contacts" && !(pair.knows_email || pair.in_contacts)
		|| recipient.settings.invitations == "contacts_only" && !pair.in_contacts
		|| recipient.settings.invitations == "mutual" && pair.mutual == 0
		|| recipient.settings.invitations == "second_degree" && !(pair.degree in [1, 2])
		|| recipient.settings.invitations == "third_degree" && pair.degree == 0
		|| (size(recipient.settings.companies) > 0 || size(recipient.settings.schools) > 0 || size(recipient.settings.titles) > 0)
		   && !(sender.company in recipient.settings.companies || sender.school in recipient.settings.schools || sender.title in recipient.settings.titles)`,
		message: `"The recipient's settings don't admit this sender."`},
	{id: "not_close_enough", when: "!(pair.degree in [1, 2] || pair.knows_email)", message: `"You and this member share no connection, and you didn't give their email address. Invite them with their email address, or connect with someone they know first."`},
	{id: "note_too_long", when: "size(note) > params.note_max_chars",
		message: `"Your note is " + string(size(note)) + " characters long; the limit is " + string(params.note_max_chars) + "."`},
	{id: "sender_connection_limit", when: celTier + ".connections > 0 && sender.connections >= " + celTier + ".connections",
		message: `"You've reached your limit of " + string(` + celTier + `.connections) + " connections. Remove some connections or upgrade to Premium to invite more."`},
	{id: "recipient_connection_limit", private: true, when: "params.tiers[recipient.tier].connections > 0 && recipient.connections >= params.tiers[recipient.tier].connections",
		message: `"The recipient is at their connection cap."`},
	{id: "weekly_limit", when: celWeekFull,
		message: `"You've reached this week's limit of " + string(` + celTier + `.weekly) + " invitations. Sending is paused until " + format_time(` + celWeeklyRetry + `) + "."`,
		retry:   celWeeklyRetry, restrict: celRestrictEnd},
	{id: "monthly_limit", when: celMonthFull,
		message: `"You've reached this month's limit of " + string(` + celTier + `.monthly) + " invitations. You can send more from " + format_date(next_month(now)) + "."`,
		retry:   "next_month(now)"},
	{id: "daily_limit", when: celDayFull,
		message: `"You've reached today's limit of " + string(` + celTier + `.daily) + " invitations. You can send more from " + format_time(next_day(now)) + "."`,
		retry:   "next_day(now)"},
	{id: "recipient_busy", when: "recipient.received.day >= params.recipient_daily_max",
		message: `"This member is receiving a lot of invitations right now. Try again tomorrow."`, retry: "next_day(now)"},
	{id: "soft_banned", outcome: "shadow", private: true,
		when:    `sender.status == "soft_banned" && (int(sender.soft_banned_until) == ` + celZeroTime + ` || sender.soft_banned_until > now)`,
		message: `"Soft-banned sender: shown as sent, not delivered."`},
}

// CEL is the invite stage in CEL, run by cel-go: each rule's condition,
// message and retry_after is a program checked and planned once; a
// decision evaluates the conditions in order over the typed facts (Go
// structs through ext.NativeTypes, no conversion) until one holds.
type CEL struct {
	cfg   Config
	rules []celProgram
}

type celProgram struct {
	celRule
	when, message, retry, restrict cel.Program
}

// NewCEL checks and plans every expression of the stage.
func NewCEL(cfg Config) (*CEL, error) {
	cal := cfg.Calendar
	timeFn := func(name string, f func(time.Time) time.Time) cel.EnvOption {
		return cel.Function(name, cel.Overload(name+"_timestamp", []*cel.Type{cel.TimestampType}, cel.TimestampType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				t, ok := v.(types.Timestamp)
				if !ok {
					return types.NewErr("%s: want a timestamp", name)
				}
				return types.Timestamp{Time: f(t.Time)}
			})))
	}
	formatFn := func(name, layout string) cel.EnvOption {
		return cel.Function(name, cel.Overload(name+"_timestamp", []*cel.Type{cel.TimestampType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				t, ok := v.(types.Timestamp)
				if !ok {
					return types.NewErr("%s: want a timestamp", name)
				}
				return types.String(t.In(cal.Loc).Format(layout))
			})))
	}
	opts := []cel.EnvOption{
		ext.NativeTypes(types.ParseStructTag("json"), reflect.TypeFor[rules.Member](), reflect.TypeFor[rules.Pair]()),
		cel.Variable("sender", cel.ObjectType("rules.Member")),
		cel.Variable("recipient", cel.ObjectType("rules.Member")),
		cel.Variable("pair", cel.ObjectType("rules.Pair")),
		cel.Variable("now", cel.TimestampType),
		cel.Variable("note", cel.StringType),
		timeFn("next_day", cal.NextDay), timeFn("next_week", cal.NextWeek), timeFn("next_month", cal.NextMonth),
		formatFn("format_time", timeLayout), formatFn("format_date", dateLayout),
	}
	env, err := cel.NewEnv(append(opts, celParams(cfg.Params)...)...)
	if err != nil {
		return nil, err
	}
	compile := func(id, src string, want *cel.Type) (cel.Program, error) {
		if src == "" {
			return nil, nil
		}
		a, iss := env.Compile(src)
		if iss.Err() != nil {
			return nil, fmt.Errorf("%s: %w", id, iss.Err())
		}
		if !a.OutputType().IsExactType(want) {
			return nil, fmt.Errorf("%s: %s is %s, want %s", id, strings.Join(strings.Fields(src), " "), a.OutputType(), want)
		}
		return env.Program(a, cel.EvalOptions(cel.OptOptimize))
	}
	c := &CEL{cfg: cfg}
	for _, r := range celInvite {
		if r.reason == "" {
			r.reason = r.id
		}
		if r.outcome == "" {
			r.outcome = "deny"
		}
		p := celProgram{celRule: r}
		if p.when, err = compile(r.id, r.when, cel.BoolType); err != nil {
			return nil, err
		}
		if p.message, err = compile(r.id, r.message, cel.StringType); err != nil {
			return nil, err
		}
		if p.retry, err = compile(r.id, r.retry, cel.TimestampType); err != nil {
			return nil, err
		}
		if p.restrict, err = compile(r.id, r.restrict, cel.TimestampType); err != nil {
			return nil, err
		}
		c.rules = append(c.rules, p)
	}
	return c, nil
}

// celParams declares the policy's parameters as constants (params.tiers,
// params.restrict_short, ...) holding CEL values built once, as
// connrules folds params into its programs. Read through a native Go
// struct instead, every access would convert by reflection.
func celParams(p Params) []cel.EnvOption {
	a := types.DefaultTypeAdapter
	tiers := map[ref.Val]ref.Val{}
	for name, t := range p.Tiers {
		tiers[types.String(name)] = types.NewRefValMap(a, map[ref.Val]ref.Val{
			types.String("daily"): types.Int(t.Daily), types.String("weekly"): types.Int(t.Weekly),
			types.String("monthly"): types.Int(t.Monthly), types.String("connections"): types.Int(t.Connections),
		})
	}
	var cooldowns []ref.Val
	for _, d := range p.IgnoreCooldowns {
		cooldowns = append(cooldowns, types.Duration{Duration: d})
	}
	num := func(name string, v int) cel.EnvOption { return cel.Constant("params."+name, cel.IntType, types.Int(v)) }
	dur := func(name string, v time.Duration) cel.EnvOption {
		return cel.Constant("params."+name, cel.DurationType, types.Duration{Duration: v})
	}
	return []cel.EnvOption{
		cel.Constant("params.tiers", cel.MapType(cel.StringType, cel.MapType(cel.StringType, cel.IntType)), types.NewRefValMap(a, tiers)),
		cel.Constant("params.ignore_cooldowns", cel.ListType(cel.DurationType), types.NewRefValList(a, cooldowns)),
		num("max_pending_per_pair", p.MaxPendingPerPair), num("ignore_never_after", p.IgnoreNeverAfter),
		num("note_max_chars", p.NoteMaxChars), num("restrict_long_after", p.RestrictLongAfter),
		num("recipient_daily_max", p.RecipientDailyMax),
		dur("withdraw_cooldown", p.WithdrawCooldown), dur("restrict_short", p.RestrictShort), dur("restrict_long", p.RestrictLong),
	}
}

// celFacts is the activation: the request's facts by name, with no map.
type celFacts struct {
	req *rules.Request
}

func (f *celFacts) ResolveName(name string) (any, bool) {
	switch name {
	case "sender":
		return f.req.Sender, true
	case "recipient":
		return f.req.Recipient, true
	case "pair":
		return &f.req.Pair, true
	case "now":
		return f.req.Now, true
	case "note":
		return f.req.Note, true
	}
	return nil, false
}

func (f *celFacts) Parent() interpreter.Activation { return nil }

// Decide answers one invite request.
func (c *CEL) Decide(req *rules.Request) (Result, error) {
	if r, bad := c.cfg.invalidTier(req); bad {
		return r, nil
	}
	act := &celFacts{req: req}
	for i := range c.rules {
		r := &c.rules[i]
		v, _, err := r.when.Eval(act)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", r.id, err)
		}
		if v != types.True {
			continue
		}
		out := Result{Outcome: r.outcome, Reason: r.reason, Rule: r.id, Private: r.private}
		m, _, err := r.message.Eval(act)
		if err != nil {
			return Result{}, fmt.Errorf("%s message: %w", r.id, err)
		}
		out.Message = string(m.(types.String))
		if r.retry != nil {
			t, _, err := r.retry.Eval(act)
			if err != nil {
				return Result{}, fmt.Errorf("%s retry_after: %w", r.id, err)
			}
			out.RetryAfter = t.(types.Timestamp).Time
		}
		if r.restrict != nil {
			t, _, err := r.restrict.Eval(act)
			if err != nil {
				return Result{}, fmt.Errorf("%s effect: %w", r.id, err)
			}
			out.RestrictUntil = t.(types.Timestamp).Time
		}
		return out, nil
	}
	return Result{Outcome: "allow", Reason: "sent", Message: "Invitation sent."}, nil
}
