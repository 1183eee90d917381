package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
)

// helperNames are the functions a policy's expressions may call, beside
// expr's builtins. Each is a pure function of its arguments and the
// policy's calendar: none reads the clock.
var helperNames = map[string]string{
	"next_day":     "next_day(t): the start of the day after t, in the policy's time zone",
	"next_week":    "next_week(t): the first week start after t (week_start in the policy)",
	"next_month":   "next_month(t): midnight on the first of the month after t",
	"day_start":    "day_start(t): midnight of t's day",
	"week_start":   "week_start(t): the latest week start at or before t",
	"month_start":  "month_start(t): midnight on the first of t's month",
	"add_months":   "add_months(t, n): t plus n calendar months",
	"days":         "days(n): a duration of n days",
	"weeks":        "weeks(n): a duration of n weeks",
	"hours":        "hours(n): a duration of n hours",
	"format_date":  "format_date(t): t as \"Jan 2, 2006\" in the policy's time zone",
	"format_time":  "format_time(t): t as \"Jan 2, 2006 3:04 PM MST\" in the policy's time zone",
	"contains_any": "contains_any(text, words): whether text contains any of words, ignoring case",
}

func helpers(c Calendar) []expr.Option {
	tt := func(name string, f func(time.Time) time.Time) expr.Option {
		return expr.Function(name, func(p ...any) (any, error) { return f(p[0].(time.Time)), nil }, new(func(time.Time) time.Time))
	}
	dur := func(name string, unit time.Duration) expr.Option {
		return expr.Function(name, func(p ...any) (any, error) { return time.Duration(p[0].(int)) * unit, nil }, new(func(int) time.Duration))
	}
	format := func(name, layout string) expr.Option {
		return expr.Function(name, func(p ...any) (any, error) { return p[0].(time.Time).In(c.Loc).Format(layout), nil }, new(func(time.Time) string))
	}
	return append(boundOptions(),
		tt("next_day", c.NextDay), tt("next_week", c.NextWeek), tt("next_month", c.NextMonth),
		tt("day_start", c.DayStart), tt("week_start", c.WeekStart), tt("month_start", c.MonthStart),
		expr.Function("add_months", func(p ...any) (any, error) { return c.AddMonths(p[0].(time.Time), p[1].(int)), nil }, new(func(time.Time, int) time.Time)),
		dur("days", 24*time.Hour), dur("weeks", 7*24*time.Hour), dur("hours", time.Hour),
		format("format_date", "Jan 2, 2006"), format("format_time", "Jan 2, 2006 3:04 PM MST"),
		expr.Function("contains_any", func(p ...any) (any, error) {
			words, _ := p[1].([]string)
			return containsAnyFold(p[0].(string), words), nil
		}, new(func(string, []string) bool)),
	)
}

// containsAnyFold reports whether text contains any word, ignoring case.
// It allocates nothing, unlike any(words, lower(text) contains #), which
// boxes every word.
func containsAnyFold(text string, words []string) bool {
	for _, w := range words {
		if w == "" {
			return true
		}
		for i := 0; i+len(w) <= len(text); i++ {
			if strings.EqualFold(text[i:i+len(w)], w) {
				return true
			}
		}
	}
	return false
}

// formatValue renders a ${...} hole of a message.
func (p *Policy) formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Time:
		return x.In(p.cal.Loc).Format("Jan 2, 2006 3:04 PM MST")
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Duration:
		return humanDuration(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// humanDuration writes whole days as "N days" and the rest as Go does.
func humanDuration(d time.Duration) string {
	day := 24 * time.Hour
	if d > 0 && d%day == 0 {
		n := int(d / day)
		if n == 1 {
			return "1 day"
		}
		return strconv.Itoa(n) + " days"
	}
	return d.String()
}
