package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
)

// helperExamples shows each helper in use; docs/reference.md prints them
// with their results. A helper without an example fails TestReferenceIsFresh.
var helperExamples = map[string]string{
	"next_day":     "next_day(now)",
	"next_week":    "next_week(now)",
	"next_month":   "next_month(now)",
	"day_start":    "day_start(now)",
	"week_start":   "week_start(now)",
	"month_start":  "month_start(now)",
	"add_months":   "add_months(now, 3)",
	"days":         "now + days(90)",
	"weeks":        "now + weeks(2)",
	"hours":        "now - hours(36)",
	"format_date":  "format_date(now)",
	"format_time":  "format_time(next_day(now))",
	"contains_any": `contains_any("Click HERE for a crypto deal", params.keywords)`,
}

// HelperDoc describes one helper function for documentation and editors.
type HelperDoc struct {
	Name string `json:"name"`
	// Doc is the signature and what it does, e.g. "days(n): a duration of n days".
	Doc string `json:"doc"`
	// Example is an expression using it, and Result what it gives on
	// [ExampleRequest] in the default calendar.
	Example string `json:"example"`
	Result  string `json:"result"`
}

// docEnv is what the helper examples may read: now, and params.keywords
// as a policy's params would give it (a typed list).
type docEnv struct {
	Now    time.Time `expr:"now"`
	Params struct {
		Keywords []string `expr:"keywords"`
	} `expr:"params"`
}

// exampleNow is when the examples run: Monday 2 March 2026, 10:00 in Los
// Angeles.
const exampleNow = "2026-03-02T10:00:00-08:00"

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// HelperDocs lists the helpers, by name, each with an evaluated example.
func HelperDocs() ([]HelperDoc, error) {
	cal := DefaultCalendar()
	var env docEnv
	env.Now = mustTime(exampleNow).In(cal.Loc)
	env.Params.Keywords = []string{"click here", "crypto"}
	names := sortedHelperNames()
	out := make([]HelperDoc, 0, len(names))
	var missing []string
	for _, n := range names {
		ex, ok := helperExamples[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		opts := append([]expr.Option{expr.Env(docEnv{}), expr.DisableBuiltin("now"), expr.DisableBuiltin("date")}, helpers(cal)...)
		prog, err := expr.Compile(ex, opts...)
		if err != nil {
			return nil, fmt.Errorf("example of %s: %v", n, err)
		}
		v, err := expr.Run(prog, env)
		if err != nil {
			return nil, fmt.Errorf("example of %s: %v", n, err)
		}
		p := &Policy{cal: cal}
		out = append(out, HelperDoc{Name: n, Doc: helperNames[n], Example: ex, Result: p.formatValue(v)})
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("helpers without an example in helperExamples: %s", strings.Join(missing, ", "))
	}
	return out, nil
}
