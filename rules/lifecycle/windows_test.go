package lifecycle_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// windowFixture sends invitations from alice to fresh recipients at given
// times and reads the meter.
type windowFixture struct {
	*fixture
	next int
}

func newWindowFixture(t *testing.T, start time.Time, replace ...string) *windowFixture {
	f := newFixture(t, policy(t, replace...), start)
	f.hub("premium", 0)
	return &windowFixture{fixture: f}
}

func (w *windowFixture) sendAt(at time.Time) string {
	w.t.Helper()
	w.clock.Set(at)
	w.next++
	id := fmt.Sprintf("w%d", w.next)
	w.member(lifecycle.Member{ID: id})
	w.connect("carol", id)
	res := w.invite("alice", id)
	if res.Invite.Outcome != "allow" {
		w.t.Fatalf("invitation at %s: %+v", at, res.Invite)
	}
	return res.Deliver.Outcome
}

func (w *windowFixture) meterAt(at time.Time) lifecycle.Meter {
	w.t.Helper()
	w.clock.Set(at)
	return w.meter("alice")
}

func pt(y int, mo time.Month, d, h, mi int) time.Time { return time.Date(y, mo, d, h, mi, 0, 0, la) }

func TestWeekStartsMonday0001PacificAcrossDSTStart(t *testing.T) {
	// DST starts Sunday 8 March 2026: the week from Monday 2 March 00:01
	// PST to Monday 9 March 00:01 PDT lasts 167 hours.
	w := newWindowFixture(t, pt(2026, 3, 2, 0, 1))
	w.sendAt(pt(2026, 3, 2, 0, 1)) // the first minute of the week
	w.sendAt(pt(2026, 3, 9, 0, 0)) // the last minute of the week
	m := w.meterAt(pt(2026, 3, 9, 0, 0))
	wantReset := time.Date(2026, 3, 9, 7, 1, 0, 0, time.UTC) // 00:01 PDT
	if m.Week.Used != 2 || !m.Week.ResetsAt.Equal(wantReset) {
		t.Fatalf("week before reset: used %d, resets %s; want 2, %s", m.Week.Used, m.Week.ResetsAt, wantReset)
	}
	// 30 minutes into the new week; a count over fixed 168-hour weeks
	// would still be in the old one until 01:01 PDT.
	if m := w.meterAt(pt(2026, 3, 9, 0, 30)); m.Week.Used != 0 {
		t.Fatalf("week after the reset: used %d", m.Week.Used)
	}
	if got := w.meterAt(pt(2026, 3, 9, 0, 30)).Week.ResetsAt; !got.Equal(pt(2026, 3, 16, 0, 1)) {
		t.Fatalf("next reset %s", got)
	}
}

func TestWeekAcrossDSTEnd(t *testing.T) {
	// DST ends Sunday 1 November 2026: the week from Monday 26 October
	// 00:01 PDT lasts 169 hours, to Monday 2 November 00:01 PST.
	w := newWindowFixture(t, pt(2026, 10, 26, 0, 1))
	w.sendAt(pt(2026, 10, 26, 0, 1))
	// 23:30 PST on Sunday is 168h29m after the start: a fixed 168-hour
	// week would already have reset.
	w.sendAt(pt(2026, 11, 1, 23, 30))
	if m := w.meterAt(pt(2026, 11, 2, 0, 0)); m.Week.Used != 2 {
		t.Fatalf("week used %d, want 2", m.Week.Used)
	}
	if m := w.meterAt(pt(2026, 11, 2, 0, 1)); m.Week.Used != 0 || !m.Week.ResetsAt.Equal(pt(2026, 11, 9, 0, 1)) {
		t.Fatalf("after the reset: %+v", m.Week)
	}
}

func TestDayWindowsAcrossDST(t *testing.T) {
	// 8 March 2026 is 23 hours long in Los Angeles.
	w := newWindowFixture(t, pt(2026, 3, 8, 0, 0))
	w.sendAt(pt(2026, 3, 8, 0, 0))
	w.sendAt(pt(2026, 3, 8, 23, 30)) // 22h30m after midnight
	m := w.meterAt(pt(2026, 3, 8, 23, 59))
	if m.Day.Used != 2 || !m.Day.ResetsAt.Equal(time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("day: %+v", m.Day)
	}
	if m := w.meterAt(pt(2026, 3, 9, 0, 0)); m.Day.Used != 0 {
		t.Fatalf("new day used %d", m.Day.Used)
	}

	// 1 November 2026 is 25 hours long: 01:30 happens twice, same day.
	w = newWindowFixture(t, pt(2026, 11, 1, 0, 0))
	first := time.Date(2026, 11, 1, 8, 30, 0, 0, time.UTC)  // 01:30 PDT
	second := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC) // 01:30 PST
	w.sendAt(first)
	w.sendAt(second)
	w.sendAt(pt(2026, 11, 1, 23, 59))
	m = w.meterAt(pt(2026, 11, 1, 23, 59))
	if m.Day.Used != 3 || !m.Day.ResetsAt.Equal(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("25-hour day: %+v", m.Day)
	}
}

func TestMonthEnds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		last      time.Time // the last minute of a month
		nextStart time.Time
	}{
		{"31-day January", pt(2026, 1, 31, 23, 59), pt(2026, 2, 1, 0, 0)},
		{"28-day February", pt(2026, 2, 28, 23, 59), pt(2026, 3, 1, 0, 0)},
		{"leap February", pt(2028, 2, 29, 23, 59), pt(2028, 3, 1, 0, 0)},
		{"30-day April", pt(2026, 4, 30, 23, 59), pt(2026, 5, 1, 0, 0)},
		{"year end", pt(2026, 12, 31, 23, 59), pt(2027, 1, 1, 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindowFixture(t, tc.last.Add(-48*time.Hour))
			w.sendAt(tc.last.Add(-24 * time.Hour))
			w.sendAt(tc.last)
			m := w.meterAt(tc.last)
			if m.Month.Used != 2 || !m.Month.ResetsAt.Equal(tc.nextStart) {
				t.Fatalf("month: %+v, want 2 used, reset %s", m.Month, tc.nextStart)
			}
			if m := w.meterAt(tc.nextStart); m.Month.Used != 0 {
				t.Fatalf("new month used %d", m.Month.Used)
			}
		})
	}
}

func TestMonthlyLimitRefusesUntilTheFirst(t *testing.T) {
	// The default policy has monthly: 0 (off); seed 004's monthly quota,
	// scaled down to 3 so that it binds before the daily one.
	w := newWindowFixture(t, pt(2026, 1, 30, 9, 0),
		"premium: {daily: 100, weekly: 500, monthly: 0,", "premium: {daily: 100, weekly: 500, monthly: 3,")
	w.sendAt(pt(2026, 1, 30, 9, 0))
	w.sendAt(pt(2026, 1, 31, 9, 0))
	w.sendAt(pt(2026, 1, 31, 23, 58))
	w.clock.Set(pt(2026, 1, 31, 23, 59))
	w.member(lifecycle.Member{ID: "late"})
	w.connect("carol", "late")
	res := w.invite("alice", "late")
	if res.Invite.Reason != "monthly_limit" || !res.Invite.RetryAfter.Equal(pt(2026, 2, 1, 0, 0)) {
		t.Fatalf("4th this month: %+v", res.Invite)
	}
	if m := w.meter("alice"); m.Month.Remaining != 0 || m.Month.Limit != 3 || m.Available != 0 {
		t.Fatalf("meter: %+v", m)
	}
	w.clock.Set(pt(2026, 2, 1, 0, 0))
	if res := w.invite("alice", "late"); res.Invite.Outcome != "allow" {
		t.Fatalf("on the first: %+v", res.Invite)
	}
}

func TestRollingHour(t *testing.T) {
	w := newWindowFixture(t, pt(2026, 3, 2, 9, 0))
	start := pt(2026, 3, 2, 9, 0)
	for i := 0; i < 20; i++ {
		if got := w.sendAt(start.Add(time.Duration(i) * time.Minute)); got != "inbox" {
			t.Fatalf("invitation %d delivered to %s", i+1, got)
		}
	}
	// The 21st inside the hour trips the deliver stage's spam_burst.
	if got := w.sendAt(start.Add(30 * time.Minute)); got != "spam" {
		t.Fatalf("21st in the hour delivered to %s", got)
	}
	m := w.meterAt(start.Add(30 * time.Minute))
	if m.Hour.Used != 21 || !m.Hour.ResetsAt.Equal(start.Add(time.Hour)) {
		t.Fatalf("hour: %+v", m.Hour)
	}
	// One hour after the first, it has left the window.
	if m := w.meterAt(start.Add(time.Hour)); m.Hour.Used != 20 {
		t.Fatalf("hour after the first left: %+v", m.Hour)
	}
	if m := w.meterAt(start.Add(2 * time.Hour)); m.Hour.Used != 0 || !m.Hour.ResetsAt.IsZero() || m.Day.Used != 21 {
		t.Fatalf("two hours later: %+v", m)
	}
}
