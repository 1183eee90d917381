package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // wasm has no system zoneinfo; decisions must not depend on the host's.
)

// Calendar computes window boundaries in a policy's time zone. Days and
// months start at midnight; weeks start at a configured weekday and time
// (by default Monday 00:01). All methods are pure functions of their input.
type Calendar struct {
	Loc       *time.Location
	WeekDay   time.Weekday
	WeekClock time.Duration // offset of the week start from midnight
}

// DefaultCalendar is Monday 00:01 in America/Los_Angeles, the reset the
// seeds describe.
func DefaultCalendar() Calendar {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil { // unreachable: tzdata is embedded
		loc = time.UTC
	}
	return Calendar{Loc: loc, WeekDay: time.Monday, WeekClock: time.Minute}
}

func (c Calendar) midnight(t time.Time, addDays int) time.Time {
	t = t.In(c.Loc)
	return time.Date(t.Year(), t.Month(), t.Day()+addDays, 0, 0, 0, 0, c.Loc)
}

// DayStart is the start of t's day.
func (c Calendar) DayStart(t time.Time) time.Time { return c.midnight(t, 0) }

// NextDay is the start of the day after t's.
func (c Calendar) NextDay(t time.Time) time.Time { return c.midnight(t, 1) }

// WeekStart is the latest week start at or before t.
func (c Calendar) WeekStart(t time.Time) time.Time {
	lt := t.In(c.Loc)
	back := (int(lt.Weekday()) - int(c.WeekDay) + 7) % 7
	h, m := int(c.WeekClock/time.Hour), int(c.WeekClock%time.Hour/time.Minute)
	start := time.Date(lt.Year(), lt.Month(), lt.Day()-back, h, m, 0, 0, c.Loc)
	if start.After(t) {
		start = time.Date(lt.Year(), lt.Month(), lt.Day()-back-7, h, m, 0, 0, c.Loc)
	}
	return start
}

// NextWeek is the first week start after t.
func (c Calendar) NextWeek(t time.Time) time.Time {
	s := c.WeekStart(t)
	h, m := int(c.WeekClock/time.Hour), int(c.WeekClock%time.Hour/time.Minute)
	return time.Date(s.Year(), s.Month(), s.Day()+7, h, m, 0, 0, c.Loc)
}

// MonthStart is midnight on the first of t's month.
func (c Calendar) MonthStart(t time.Time) time.Time {
	t = t.In(c.Loc)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, c.Loc)
}

// NextMonth is midnight on the first of the month after t's.
func (c Calendar) NextMonth(t time.Time) time.Time {
	t = t.In(c.Loc)
	return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, c.Loc)
}

// AddMonths adds calendar months to t in the calendar's zone.
func (c Calendar) AddMonths(t time.Time, n int) time.Time {
	return t.In(c.Loc).AddDate(0, n, 0)
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// parseClock reads "HH:MM" as an offset from midnight.
func parseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		return 0, fmt.Errorf("bad time of day %q: want HH:MM, e.g. \"00:01\"", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// ParseDuration reads a duration: Go's units (h, m, s, ms) plus d (24h) and
// w (7d), e.g. "90d", "1w", "36h", "1d12h". Months are not durations; use
// add_months in expressions.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	if s == "" {
		return 0, fmt.Errorf("bad duration %q", orig)
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		j := i
		for j < len(s) && (s[j] < '0' || s[j] > '9') && s[j] != '.' {
			j++
		}
		if i == 0 || j == i {
			return 0, fmt.Errorf("bad duration %q: want a number and a unit (w, d, h, m, s), e.g. \"90d\"", orig)
		}
		num, unit := s[:i], s[i:j]
		var part time.Duration
		switch unit {
		case "d", "w":
			n, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("bad duration %q", orig)
			}
			day := 24 * time.Hour
			if unit == "w" {
				day *= 7
			}
			part = time.Duration(n * float64(day))
		default:
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, fmt.Errorf("bad duration %q: unknown unit %q (use w, d, h, m, s)", orig, unit)
			}
			part = d
		}
		total += part
		s = s[j:]
	}
	if neg {
		total = -total
	}
	return total, nil
}
