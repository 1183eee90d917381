package rules_test

import (
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

func TestCalendarWindows(t *testing.T) {
	c := rules.DefaultCalendar()
	la := c.Loc
	d := func(y int, m time.Month, day, h, min int) time.Time { return time.Date(y, m, day, h, min, 0, 0, la) }
	cases := []struct {
		name string
		f    func(time.Time) time.Time
		in   time.Time
		want time.Time
	}{
		{"next day", c.NextDay, d(2026, 3, 2, 10, 0), d(2026, 3, 3, 0, 0)},
		{"next day across spring forward", c.NextDay, d(2026, 3, 7, 23, 30), d(2026, 3, 8, 0, 0)},
		{"day after spring forward is 23h", c.NextDay, d(2026, 3, 8, 0, 0), d(2026, 3, 9, 0, 0)},
		{"day start on fall back", c.DayStart, d(2026, 11, 1, 23, 0), d(2026, 11, 1, 0, 0)},
		{"week start on Monday 00:01", c.WeekStart, d(2026, 3, 2, 0, 1), d(2026, 3, 2, 0, 1)},
		{"Monday 00:00 is still last week", c.WeekStart, d(2026, 3, 2, 0, 0), d(2026, 2, 23, 0, 1)},
		{"Sunday belongs to the week before", c.WeekStart, d(2026, 3, 8, 12, 0), d(2026, 3, 2, 0, 1)},
		{"next week across spring forward", c.NextWeek, d(2026, 3, 6, 9, 0), d(2026, 3, 9, 0, 1)},
		{"next week across fall back", c.NextWeek, d(2026, 10, 31, 9, 0), d(2026, 11, 2, 0, 1)},
		{"next week from the reset instant", c.NextWeek, d(2026, 3, 2, 0, 1), d(2026, 3, 9, 0, 1)},
		{"month start", c.MonthStart, d(2026, 3, 31, 23, 59), d(2026, 3, 1, 0, 0)},
		{"next month from Jan 31", c.NextMonth, d(2026, 1, 31, 12, 0), d(2026, 2, 1, 0, 0)},
		{"next month from Feb 28", c.NextMonth, d(2026, 2, 28, 23, 59), d(2026, 3, 1, 0, 0)},
		{"next month in a leap year", c.NextMonth, d(2028, 2, 29, 0, 0), d(2028, 3, 1, 0, 0)},
		{"next month from December", c.NextMonth, d(2026, 12, 31, 23, 59), d(2027, 1, 1, 0, 0)},
		{"UTC input, Pacific window", c.NextDay, time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC), d(2026, 3, 3, 0, 0)},
	}
	for _, tc := range cases {
		if got := tc.f(tc.in); !got.Equal(tc.want) {
			t.Errorf("%s: %v -> %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
	// The week across spring forward is an hour short; across fall back an hour long.
	if got := c.NextWeek(d(2026, 3, 4, 0, 0)).Sub(c.WeekStart(d(2026, 3, 4, 0, 0))); got != 167*time.Hour {
		t.Errorf("DST week is %v, want 167h", got)
	}
	if got := c.NextWeek(d(2026, 10, 28, 0, 0)).Sub(c.WeekStart(d(2026, 10, 28, 0, 0))); got != 169*time.Hour {
		t.Errorf("fall-back week is %v, want 169h", got)
	}
}

func TestCalendarWeekStartConfigurable(t *testing.T) {
	c := rules.Calendar{Loc: time.UTC, WeekDay: time.Sunday, WeekClock: 0}
	in := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC) // Wednesday
	if got, want := c.WeekStart(in), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"90d": 90 * day, "1w": 7 * day, "2w": 14 * day, "36h": 36 * time.Hour, "1d12h": 36 * time.Hour,
		"0d": 0, "1.5d": 36 * time.Hour, "30m": 30 * time.Minute, "-1d": -day,
	} {
		got, err := rules.ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "90", "d", "90days", "3mo", "1y", "1d-"} {
		if _, err := rules.ParseDuration(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestContainsAny(t *testing.T) {
	src := `
version: 1
params: {words: ["crypto", "Click Here"]}
stages:
  invite:
    default: {outcome: allow}
    rules:
      - id: spam
        when: contains_any(note, params.words)
        outcome: deny
  deliver: {default: {outcome: inbox}}
  accept: {default: {outcome: allow}}
`
	pol, err := rules.Load("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for note, want := range map[string]string{
		"": "allow", "hello": "allow", "CRYPTO!": "deny", "please click here": "deny", "click her": "allow", "crypt": "allow", "Ünïcode crypto": "deny",
	} {
		req := baseRequest("")
		req.Note = note
		if got := pol.Decide(req).Outcome; got != want {
			t.Errorf("%q: %s, want %s", note, got, want)
		}
	}
}
