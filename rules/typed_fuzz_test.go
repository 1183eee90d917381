package rules

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// genExpr writes random well-typed expressions over the facts, params
// and lets of policies.yaml, with the operators whose edges differ most
// between runtimes: overflow, % by zero, / by zero, out-of-range
// indexes, unknown table keys and a nil recipient.
type genExpr struct{ r *rand.Rand }

func (g genExpr) one(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g genExpr) intE(d int) string {
	if d <= 0 || g.r.IntN(3) == 0 {
		return g.one("sender.sent.day", "sender.sent.week", "pair.mutual", "pair.degree", "pair.ignored", "tier.daily",
			"recipient_tier.weekly", "params.recipient_daily_max", "len(note)", "len(recipient.settings.companies)",
			"recipient.connections", "sender.over_limit", "0", "1", "-1", "2", "9223372036854775807", "len(params.ignore_cooldowns)",
			"params.tiers[sender.company].daily", "params.tiers[recipient.tier].monthly")
	}
	switch g.r.IntN(5) {
	case 0:
		return fmt.Sprintf("min(%s, %s)", g.intE(d-1), g.intE(d-1))
	case 1:
		return fmt.Sprintf("(%s ? %s : %s)", g.boolE(d-1), g.intE(d-1), g.intE(d-1))
	case 2:
		return fmt.Sprintf("-(%s)", g.intE(d-1))
	}
	return fmt.Sprintf("(%s %s %s)", g.intE(d-1), g.one("+", "-", "*", "%"), g.intE(d-1))
}

func (g genExpr) floatE(d int) string {
	if d <= 0 || g.r.IntN(2) == 0 {
		return g.one("sender.acceptance_rate", "recipient.acceptance_rate", "0.5", "params.spam.low_acceptance")
	}
	return fmt.Sprintf("(%s %s %s)", g.numE(d-1), g.one("+", "-", "*", "/"), g.numE(d-1))
}

func (g genExpr) numE(d int) string {
	if g.r.IntN(2) == 0 {
		return g.intE(d)
	}
	return g.floatE(d)
}

func (g genExpr) strE(d int) string {
	if d <= 0 || g.r.IntN(2) == 0 {
		return g.one("note", "sender.company", "recipient.company", "recipient.settings.invitations", `"acme"`, `""`,
			"sender.status", "recipient.title", "recipient.settings.companies[0]", "sender.settings.schools[-1]", "stage")
	}
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf("%s(%s)", g.one("trim", "lower", "upper"), g.strE(d-1))
	case 1:
		return fmt.Sprintf("format_date(%s)", g.timeE(d-1))
	case 2:
		return fmt.Sprintf("recipient.settings.schools[%s]", g.intE(d-1))
	}
	return fmt.Sprintf("(%s + %s)", g.strE(d-1), g.strE(d-1))
}

func (g genExpr) durE(d int) string {
	if d <= 0 || g.r.IntN(2) == 0 {
		return g.one("params.withdraw_cooldown", "params.ignore_cooldowns[0]", "params.ignore_cooldowns[pair.ignored]", "days(1)", "hours(sender.sent.hour)")
	}
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("(%s - %s)", g.timeE(d-1), g.timeE(d-1))
	case 1:
		return fmt.Sprintf("(%s * %s)", g.intE(d-1), g.durE(d-1))
	}
	return fmt.Sprintf("%s(%s)", g.one("days", "weeks", "hours"), g.intE(d-1))
}

func (g genExpr) timeE(d int) string {
	if d <= 0 || g.r.IntN(2) == 0 {
		return g.one("now", "pair.last_ignored_at", "pair.withdrawn_at", "recipient.restricted_until", "sender.soft_banned_until", "resend_at", "quota_free_at")
	}
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("%s(%s)", g.one("next_day", "next_week", "next_month", "day_start", "week_start", "month_start"), g.timeE(d-1))
	case 1:
		return fmt.Sprintf("add_months(%s, %s)", g.timeE(d-1), g.intE(d-1))
	}
	return fmt.Sprintf("(%s %s %s)", g.timeE(d-1), g.one("+", "-"), g.durE(d-1))
}

func (g genExpr) boolE(d int) string {
	if d <= 0 || g.r.IntN(4) == 0 {
		return g.one("pair.connected", "recipient == nil", "recipient != nil", "day_full", "soft_banned_now",
			"recipient.settings.require_confirmation", "sender.soft_banned_until.IsZero()", "true")
	}
	switch g.r.IntN(9) {
	case 0:
		return fmt.Sprintf("(%s %s %s)", g.boolE(d-1), g.one("&&", "||", "and", "or", "==", "!="), g.boolE(d-1))
	case 1:
		return fmt.Sprintf("!(%s)", g.boolE(d-1))
	case 2:
		return fmt.Sprintf("(%s %s %s)", g.numE(d-1), g.one("<", "<=", ">", ">=", "==", "!="), g.numE(d-1))
	case 3:
		return fmt.Sprintf("(%s %s %s)", g.strE(d-1), g.one("==", "!=", "<", ">=", "contains", "startsWith", "endsWith"), g.strE(d-1))
	case 4:
		return fmt.Sprintf("(%s %s %s)", g.timeE(d-1), g.one("<", "<=", ">", ">=", "==", "!="), g.timeE(d-1))
	case 5:
		return fmt.Sprintf("(%s %s %s)", g.durE(d-1), g.one("<", ">=", "=="), g.durE(d-1))
	case 6:
		return fmt.Sprintf("(%s in %s)", g.strE(d-1), g.one(`["acme", "Acme", ""]`, "params.spam.keywords", "recipient.settings.companies", `["a","b","c","d","e","f","g","h","i","acme"]`))
	case 7:
		return fmt.Sprintf("%s(%s, %s)", g.one("any", "all", "none", "one"), g.one("recipient.settings.companies", "sender.settings.titles", "params.spam.keywords"), g.one("# == sender.company", "note contains #", "len(#) > "+g.intE(0), `# in ["acme", "x"]`))
	}
	return fmt.Sprintf("contains_any(%s, %s)", g.strE(d-1), g.one("params.spam.keywords", "recipient.settings.titles"))
}

// genPolicy is policies.yaml with its stages replaced by one invite rule
// per expression: as a condition, and when it is a time, as retry_after,
// and as a message hole.
func genPolicy(t testing.TB, whens, holes, times []string) []byte {
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(src), "\nstages:\n")
	var b strings.Builder
	b.WriteString(head + "\nstages:\n  invite:\n    rules:\n")
	for i, w := range whens {
		fmt.Fprintf(&b, "      - id: g%d\n        when: %q\n        outcome: deny\n", i, w)
		if i < len(holes) {
			fmt.Fprintf(&b, "        message: %q\n", "got ${"+holes[i]+"} !")
		}
		if i < len(times) {
			fmt.Fprintf(&b, "        retry_after: %q\n", times[i])
		}
	}
	return []byte(b.String())
}

// diffGenerated loads one rule built from the texts, and if it loads,
// compares the back ends on n random requests.
func diffGenerated(t testing.TB, r *rand.Rand, when, hole, tm string, n int) bool {
	var holes, times []string
	if hole != "" {
		holes = []string{hole}
	}
	if tm != "" {
		times = []string{tm}
	}
	p, err := Load("gen.yaml", genPolicy(t, []string{when}, holes, times))
	if err != nil {
		return false
	}
	for range n {
		diffPolicy(t, "gen "+when, p, diffRequest(r))
	}
	return true
}

func TestTypedMatchesVMGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := genExpr{r}
	exprs := 400
	if testing.Short() {
		exprs = 60
	}
	loaded, typed := 0, 0
	for i := range exprs {
		d := 1 + i%4
		when, hole, tm := g.boolE(d), g.one(g.strE(d), g.intE(d), g.floatE(d), g.durE(d), g.timeE(d)), g.timeE(d)
		p, err := Load("gen.yaml", genPolicy(t, []string{when}, []string{hole}, []string{tm}))
		if err != nil {
			t.Fatalf("generated policy does not load: %v", err)
		}
		loaded++
		if p.stages[StageInvite].typed != nil {
			typed++
		}
		for range 40 {
			diffPolicy(t, "gen "+when, p, diffRequest(r))
		}
	}
	if typed < loaded*9/10 {
		t.Errorf("only %d of %d generated policies run typed: %+v", typed, loaded, loaded)
	}
}

// FuzzTypedVsVM runs an expression, as a condition, a message hole and a
// retry_after, through both back ends on facts drawn from a seed; any
// difference in value or in whether it fails is a bug.
//
//	go test ./rules -run '^$' -fuzz FuzzTypedVsVM -fuzztime 10m
func FuzzTypedVsVM(f *testing.F) {
	for _, p := range repoPolicies(f) {
		for _, st := range p.stages {
			for _, r := range st.rules {
				f.Add(r.when.Source().String(), uint64(len(r.id)))
			}
		}
	}
	g := genExpr{rand.New(rand.NewPCG(5, 6))}
	for i := range 50 {
		f.Add(g.boolE(1+i%4), uint64(i))
		f.Add(g.timeE(1+i%4), uint64(i))
		f.Add(g.intE(1+i%4), uint64(i))
	}
	f.Fuzz(func(t *testing.T, text string, seed uint64) {
		if len(text) > 2000 || strings.ContainsAny(text, "}\x00") {
			return
		}
		r := rand.New(rand.NewPCG(seed, seed>>7))
		diffGenerated(t, r, text, "", "", 8)
		diffGenerated(t, r, "true", text, "", 8)
		diffGenerated(t, r, "true", "", text, 8)
	})
}
