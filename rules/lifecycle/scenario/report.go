package scenario

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// TextPrinter prints a readable report as step results arrive: one line
// per step, a repeated step summarised on one line with a count of each
// result, and every failed expectation under its step with the line of the
// scenario file.
type TextPrinter struct {
	W io.Writer
	// Loc is the zone times are shown in; the policy's, normally.
	Loc   *time.Location
	group []StepResult
}

// Header prints the scenario's name, file, policy and engine.
func (p *TextPrinter) Header(rep *Report, engine string) {
	p.Loc = rep.Location
	name := rep.Name
	if name == "" {
		name = rep.File
	}
	fmt.Fprintf(p.W, "scenario: %s\n  file %s · policy %s · engine %s\n", name, rep.File, rep.Policy, engine)
}

// Step takes one result; results of one step are printed together.
func (p *TextPrinter) Step(res StepResult) {
	if len(p.group) > 0 && p.group[0].Step != res.Step {
		p.flush()
	}
	p.group = append(p.group, res)
}

// Footer prints what is left and the totals.
func (p *TextPrinter) Footer(rep *Report) {
	p.flush()
	verdict := "PASS"
	if !rep.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(p.W, "%s: %d step results ok, %d failed\n", verdict, rep.Passed, rep.Failed)
}

func (p *TextPrinter) flush() {
	g := p.group
	p.group = nil
	if len(g) == 0 {
		return
	}
	ok := true
	for _, r := range g {
		ok = ok && r.OK
	}
	mark := "ok  "
	if !ok {
		mark = "FAIL"
	}
	first := g[0]
	label := first.Label
	if first.Name != "" {
		label = first.Name + ": " + label
	}
	var out string
	if len(g) == 1 {
		out = summary(first, p.Loc)
	} else {
		// Group repetitions by their outcome without times, and show the
		// last one in full.
		var order []string
		counts := map[string]int{}
		for _, r := range g {
			s := shortSummary(r)
			if counts[s] == 0 {
				order = append(order, s)
			}
			counts[s]++
		}
		parts := make([]string, len(order))
		for i, s := range order {
			parts[i] = fmt.Sprintf("%d× %s", counts[s], s)
		}
		label = fmt.Sprintf("%s … (%d results)", label, len(g))
		out = strings.Join(parts, "; ")
		if last := summary(g[len(g)-1], p.Loc); last != shortSummary(g[len(g)-1]) {
			out += "\n             last: " + last
		}
	}
	fmt.Fprintf(p.W, "%s %3d  %s  %s\n", mark, first.Step, fmtTime(first.At, p.Loc), label)
	if out != "" {
		fmt.Fprintf(p.W, "             %s\n", out)
	}
	shown := 0
	for _, r := range g {
		for _, f := range r.Failures {
			if shown == 10 {
				fmt.Fprintf(p.W, "             … more failures\n")
				return
			}
			where := fmt.Sprintf("line %d", r.Line)
			if r.Of > 0 || len(g) > 1 {
				where += fmt.Sprintf(" (%s)", r.Label)
			}
			fmt.Fprintf(p.W, "      ✗ %s: %s\n", where, f)
			shown++
		}
	}
}

// summary is one result in words.
func summary(r StepResult, loc *time.Location) string {
	var parts []string
	if d := r.Decision; d != nil {
		s := d.Outcome + " (" + d.Reason + ")"
		if r.Action == "invite" && r.Invitation != nil {
			if r.Invitation.Delivery != "" {
				s += " → " + r.Invitation.Delivery
			}
			s += ", " + r.Invitation.Status
		} else if r.Action == "accept" && r.Status != "" {
			s += ", " + r.Status
		}
		parts = append(parts, s)
		if !d.RetryAfter.IsZero() {
			parts = append(parts, "retry after "+fmtTime(d.RetryAfter, loc))
		}
		if !r.RestrictedUntil.IsZero() {
			parts = append(parts, "restricted until "+fmtTime(r.RestrictedUntil, loc))
		}
		if r.Public != nil && (d.Private || d.Outcome == "shadow") {
			parts = append(parts, fmt.Sprintf("sender sees %s %q", r.Public.Outcome, r.Public.Message))
		}
	} else if r.Status != "" {
		parts = append(parts, r.Status)
	}
	if len(r.Withdrawn) > 0 {
		parts = append(parts, "withdrew "+strings.Join(r.Withdrawn, ", "))
	}
	if r.Action == "advance" || r.Action == "advance_to" {
		parts = append(parts, "now "+fmtTime(r.At, loc))
	}
	if len(r.Expired) > 0 {
		parts = append(parts, "expired "+strings.Join(r.Expired, ", "))
	}
	if r.Action == "import_contacts" {
		parts = append(parts, fmt.Sprintf("matched %d: %s", len(r.Matched), strings.Join(r.Matched, ", ")))
	}
	if r.Meter != nil {
		parts = append(parts, meterLine(r.Meter, loc))
	}
	if r.Error != "" {
		parts = append(parts, "error: "+r.Error)
	}
	return strings.Join(parts, " · ")
}

func meterLine(m *lifecycle.Meter, loc *time.Location) string {
	w := func(name string, x lifecycle.WindowMeter) string {
		if x.Limit == 0 {
			return fmt.Sprintf("%s %d", name, x.Used)
		}
		return fmt.Sprintf("%s %d/%d", name, x.Used, x.Limit)
	}
	s := fmt.Sprintf("meter %s: %s, %s, %s, %s; over limit %d", m.Member,
		w("hour", m.Hour), w("day", m.Day), w("week", m.Week), w("month", m.Month), m.OverLimit)
	if !m.RestrictedUntil.IsZero() {
		s += "; restricted until " + fmtTime(m.RestrictedUntil, loc)
	}
	return s
}

// shortSummary is a result without times, for grouping repetitions.
func shortSummary(r StepResult) string {
	switch {
	case r.Error != "":
		return "error: " + r.Error
	case r.Decision != nil:
		s := r.Decision.Outcome + " (" + r.Decision.Reason + ")"
		if r.Action == "invite" && r.Invitation != nil {
			if r.Invitation.Delivery != "" {
				s += " → " + r.Invitation.Delivery
			}
			s += ", " + r.Invitation.Status
		}
		return s
	case r.Action == "import_contacts":
		return fmt.Sprintf("matched %d", len(r.Matched))
	}
	return r.Status
}
