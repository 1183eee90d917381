package replay

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints the report for people: what was compared, the flips by
// transition and by rule with examples, and the members most affected.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	switch r.Mode {
	case "simulate":
		fmt.Fprintf(&b, "simulate: %s against %s: the recorded actions re-run through the lifecycle on a fresh store\n", r.Policy, r.Baseline)
	default:
		fmt.Fprintf(&b, "replay: %s against %s: each decision re-decided on its recorded facts (what-if on the same inputs)\n", r.Policy, r.Baseline)
	}
	fmt.Fprintf(&b, "events: %d read, %d decisions compared\n", r.Events, r.Decisions)
	if s := r.Simulation; s != nil {
		fmt.Fprintf(&b, "actions: %d re-run%s%s\n", s.Actions, counts("; not re-run", s.NotRerun), counts("; only under the new policy", s.NewOnly))
	}
	fmt.Fprintf(&b, "flips: %d of %d decisions (%s)", r.Flips, r.Decisions, pct(r.Flips, r.Decisions))
	if r.Reworded > 0 {
		fmt.Fprintf(&b, "; %d more changed only message or retry_after", r.Reworded)
	}
	b.WriteString("\n")
	for _, s := range r.Stages {
		if s.Decisions > 0 {
			fmt.Fprintf(&b, "  %-8s %d of %d\n", s.Stage, s.Flips, s.Decisions)
		}
	}
	if r.Flips == 0 {
		b.WriteString("no decision changes.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}

	b.WriteString("\nold outcome/reason -> new outcome/reason\n")
	for _, t := range r.Transitions {
		fmt.Fprintf(&b, "%8d  %s -> %s\n", t.Count, t.From, t.To)
	}
	for _, t := range r.Transitions {
		fmt.Fprintf(&b, "  %s -> %s, e.g.\n", t.From, t.To)
		for _, ex := range t.Examples {
			writeExample(&b, ex)
		}
	}

	b.WriteString("\nby deciding rule (+ now decides, - no longer decides)\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, rc := range r.Rules {
		fmt.Fprintf(tw, "  %s\t%s\t+%d\t-%d\n", rc.Stage, ruleName(rc.Rule), rc.Gained, rc.Lost)
	}
	tw.Flush()

	b.WriteString("\nmembers most affected (flips: as sender, as recipient)\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, m := range r.Members {
		fmt.Fprintf(tw, "  %s\t%d\t(%d, %d)\n", m.Member, m.Flips, m.AsSender, m.AsRecipient)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

func writeExample(b *strings.Builder, ex Example) {
	to := ""
	if ex.Recipient != "" {
		to = " -> " + ex.Recipient
	}
	fmt.Fprintf(b, "    line %d (seq %d) %s %s %s%s: %s -> %s\n", ex.Line, ex.Seq, ex.At.Format(time.RFC3339), ex.Stage,
		ex.Sender, to, ruleName(ex.Old.Rule), ruleName(ex.New.Rule))
}

func ruleName(id string) string {
	if id == "" {
		return "(default)"
	}
	return id
}

func pct(n, of int) string {
	if of == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(of))
}

func counts(label string, m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return label + ": " + strings.Join(parts, ", ")
}
