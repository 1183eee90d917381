package peers

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"
)

//go:embed invite.rego
var inviteRego string

// Rego is the invite stage in Rego, run by OPA's Go SDK: prepared once
// (rego.PrepareForEval), then evaluated per request on an input built
// straight as an ast.Value, the SDK's cheapest way in.
type Rego struct {
	q rego.PreparedEvalQuery
}

// NewRego compiles invite.rego with the policy's parameters as a data
// module and the calendar helpers as builtins.
func NewRego(ctx context.Context, cfg Config) (*Rego, error) {
	pj, err := json.Marshal(cfg.Params) // durations marshal as nanoseconds
	if err != nil {
		return nil, err
	}
	gj, _ := json.Marshal(cfg.Generic)
	data := fmt.Sprintf("package connrules.params\n\nparams := %s\n\ngeneric := %s\n", pj, gj)
	cal := cfg.Calendar
	timeFn := func(name string, f func(time.Time) time.Time) func(*rego.Rego) {
		return rego.Function1(&rego.Function{Name: name, Decl: types.NewFunction(types.Args(types.N), types.N)},
			func(_ rego.BuiltinContext, a *ast.Term) (*ast.Term, error) {
				t, err := termTime(a)
				if err != nil {
					return nil, err
				}
				return ast.IntNumberTerm(int(f(t).UnixNano())), nil
			})
	}
	formatFn := func(name, layout string) func(*rego.Rego) {
		return rego.Function1(&rego.Function{Name: name, Decl: types.NewFunction(types.Args(types.N), types.S)},
			func(_ rego.BuiltinContext, a *ast.Term) (*ast.Term, error) {
				t, err := termTime(a)
				if err != nil {
					return nil, err
				}
				return ast.StringTerm(t.In(cal.Loc).Format(layout)), nil
			})
	}
	q, err := rego.New(
		rego.Query("data.connrules.invite.decision"),
		rego.Module("invite.rego", inviteRego),
		rego.Module("params.rego", data),
		timeFn("next_day", cal.NextDay), timeFn("next_week", cal.NextWeek), timeFn("next_month", cal.NextMonth),
		formatFn("format_time", timeLayout), formatFn("format_date", dateLayout),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, err
	}
	return &Rego{q: q}, nil
}

// Decide answers one invite request.
func (r *Rego) Decide(ctx context.Context, req *rules.Request) (Result, error) {
	rs, err := r.q.Eval(ctx, rego.EvalParsedInput(regoInput(req)))
	if err != nil {
		return Result{}, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Result{}, fmt.Errorf("rego: no decision (%d results)", len(rs))
	}
	m, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Result{}, fmt.Errorf("rego: decision is %T", rs[0].Expressions[0].Value)
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	out := Result{Outcome: str("outcome"), Reason: str("reason"), Rule: str("rule"), Message: str("message")}
	out.Private, _ = m["private"].(bool)
	for k, dst := range map[string]*time.Time{"retry_after": &out.RetryAfter, "restrict_until": &out.RestrictUntil} {
		if n, ok := m[k].(json.Number); ok {
			ns, err := n.Int64()
			if err != nil {
				return Result{}, fmt.Errorf("rego: %s %v: %w", k, n, err)
			}
			*dst = time.Unix(0, ns)
		}
	}
	return out, nil
}

func termTime(a *ast.Term) (time.Time, error) {
	n, ok := a.Value.(ast.Number)
	if !ok {
		return time.Time{}, fmt.Errorf("want a time in nanoseconds, got %v", a)
	}
	v, ok := n.Int64()
	if !ok {
		return time.Time{}, fmt.Errorf("time %v out of range", n)
	}
	return time.Unix(0, v), nil
}

// regoInput converts the facts the invite stage reads into an ast.Value.
// A zero time is left out, as the request's JSON leaves it out.
func regoInput(req *rules.Request) ast.Value {
	pair := &req.Pair
	p := ast.NewObject(
		ast.Item(ast.InternedTerm("connected"), ast.InternedTerm(pair.Connected)),
		ast.Item(ast.InternedTerm("degree"), ast.InternedTerm(pair.Degree)),
		ast.Item(ast.InternedTerm("mutual"), ast.InternedTerm(pair.Mutual)),
		ast.Item(ast.InternedTerm("knows_email"), ast.InternedTerm(pair.KnowsEmail)),
		ast.Item(ast.InternedTerm("in_contacts"), ast.InternedTerm(pair.InContacts)),
		ast.Item(ast.InternedTerm("blocked"), ast.InternedTerm(pair.Blocked)),
		ast.Item(ast.InternedTerm("pending"), ast.InternedTerm(pair.Pending)),
		ast.Item(ast.InternedTerm("ignored"), ast.InternedTerm(pair.Ignored)),
		ast.Item(ast.InternedTerm("rejected"), ast.InternedTerm(pair.Rejected)),
	)
	putTime(p, "last_ignored_at", pair.LastIgnoredAt)
	putTime(p, "withdrawn_at", pair.WithdrawnAt)
	recipient := ast.NullTerm()
	if req.Recipient != nil {
		recipient = ast.NewTerm(regoMember(req.Recipient))
	}
	return ast.NewObject(
		ast.Item(ast.InternedTerm("now"), ast.IntNumberTerm(int(req.Now.UnixNano()))),
		ast.Item(ast.InternedTerm("note"), ast.StringTerm(req.Note)),
		ast.Item(ast.InternedTerm("sender"), ast.NewTerm(regoMember(req.Sender))),
		ast.Item(ast.InternedTerm("recipient"), recipient),
		ast.Item(ast.InternedTerm("pair"), ast.NewTerm(p)),
	)
}

func regoMember(m *rules.Member) ast.Object {
	o := ast.NewObject(
		ast.Item(ast.InternedTerm("id"), ast.StringTerm(m.ID)),
		ast.Item(ast.InternedTerm("kind"), ast.StringTerm(m.Kind)),
		ast.Item(ast.InternedTerm("tier"), ast.StringTerm(m.Tier)),
		ast.Item(ast.InternedTerm("status"), ast.StringTerm(m.Status)),
		ast.Item(ast.InternedTerm("connections"), ast.InternedTerm(m.Connections)),
		ast.Item(ast.InternedTerm("company"), ast.StringTerm(m.Company)),
		ast.Item(ast.InternedTerm("school"), ast.StringTerm(m.School)),
		ast.Item(ast.InternedTerm("title"), ast.StringTerm(m.Title)),
		ast.Item(ast.InternedTerm("over_limit"), ast.InternedTerm(m.OverLimit)),
		ast.Item(ast.InternedTerm("sent"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("day"), ast.InternedTerm(m.Sent.Day)),
			ast.Item(ast.InternedTerm("week"), ast.InternedTerm(m.Sent.Week)),
			ast.Item(ast.InternedTerm("month"), ast.InternedTerm(m.Sent.Month)),
		)),
		ast.Item(ast.InternedTerm("received"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("day"), ast.InternedTerm(m.Received.Day)),
		)),
		ast.Item(ast.InternedTerm("settings"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("invitations"), ast.StringTerm(m.Settings.Invitations)),
			ast.Item(ast.InternedTerm("companies"), stringSet(m.Settings.Companies)),
			ast.Item(ast.InternedTerm("schools"), stringSet(m.Settings.Schools)),
			ast.Item(ast.InternedTerm("titles"), stringSet(m.Settings.Titles)),
		)),
	)
	putTime(o, "restricted_until", m.RestrictedUntil)
	putTime(o, "soft_banned_until", m.SoftBannedUntil)
	return o
}

func stringSet(ss []string) *ast.Term {
	ts := make([]*ast.Term, len(ss))
	for i, s := range ss {
		ts[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(ts...)
}

func putTime(o ast.Object, key string, t time.Time) {
	if !t.IsZero() {
		o.Insert(ast.InternedTerm(key), ast.IntNumberTerm(int(t.UnixNano())))
	}
}
