package lifecycle

import (
	"context"
	"time"

	"github.com/connrules/connrules/rules"
)

// Meter is a member's quota at one instant: for each window, how many
// invitations were sent, the limit, how many remain and when the window
// resets. LinkedIn does not show this; connrules does.
type Meter struct {
	Member string    `json:"member"`
	Tier   string    `json:"tier"`
	At     time.Time `json:"at"`
	// Hour is the rolling hour. The policy sets no hourly quota (the
	// deliver stage's spam_burst reads it), so its Limit is 0.
	Hour  WindowMeter `json:"hour"`
	Day   WindowMeter `json:"day"`
	Week  WindowMeter `json:"week"`
	Month WindowMeter `json:"month"`
	// Available is how many more invitations the quotas admit now: the
	// least Remaining of the limited windows, 0 while restricted, -1 when
	// no window is limited.
	Available int `json:"available"`
	// OverLimit counts refused attempts past the weekly limit this week.
	OverLimit int `json:"over_limit"`
	// RestrictedUntil is the end of a restriction in force; zero if none.
	RestrictedUntil time.Time `json:"restricted_until,omitzero"`
	// Received counts invitations delivered to the member, per window
	// (shadowed ones are never delivered, so never counted here).
	Received    rules.Counts `json:"received"`
	Connections int          `json:"connections"`
	// ConnectionLimit is the tier's cap on connections; 0 is none.
	ConnectionLimit int `json:"connection_limit"`
}

// WindowMeter is one window of a [Meter].
type WindowMeter struct {
	Used int `json:"used"`
	// Limit is 0 when the window has no limit.
	Limit int `json:"limit"`
	// Remaining is Limit-Used, never below 0; -1 when there is no limit.
	Remaining int `json:"remaining"`
	// ResetsAt is when the window's count next drops: the next day, week
	// or month start, or for the rolling hour when the oldest send in it
	// leaves (zero when the hour is empty).
	ResetsAt time.Time `json:"resets_at,omitzero"`
}

func windowMeter(used, limit int, resets time.Time) WindowMeter {
	w := WindowMeter{Used: used, Limit: limit, Remaining: -1, ResetsAt: resets}
	if limit > 0 {
		w.Remaining = max(limit-used, 0)
	}
	return w
}

// Meter reads a member's quota meter at the clock's time. Limits come
// from the policy's params.tiers table.
func (n *Network) Meter(ctx context.Context, id string) (Meter, error) {
	now := n.clock.Now()
	snap, err := n.store.Snapshot(ctx, SnapshotQuery{From: id, Windows: WindowsAt(n.cal, now)})
	if err != nil {
		return Meter{}, err
	}
	m, u, conns := &snap.Sender, &snap.SenderUsage, snap.SenderConnections
	lim := n.limits[m.Tier]
	mt := Meter{Member: id, Tier: m.Tier, At: now, OverLimit: u.OverLimit, Received: u.Received, Connections: conns, ConnectionLimit: lim.Connections}
	var hourReset time.Time
	if !u.HourOldest.IsZero() {
		hourReset = u.HourOldest.Add(time.Hour)
	}
	mt.Hour = windowMeter(u.Sent.Hour, 0, hourReset)
	mt.Day = windowMeter(u.Sent.Day, lim.Daily, n.cal.NextDay(now))
	mt.Week = windowMeter(u.Sent.Week, lim.Weekly, n.cal.NextWeek(now))
	mt.Month = windowMeter(u.Sent.Month, lim.Monthly, n.cal.NextMonth(now))
	mt.Available = -1
	for _, wm := range []WindowMeter{mt.Day, mt.Week, mt.Month} {
		if wm.Remaining >= 0 && (mt.Available < 0 || wm.Remaining < mt.Available) {
			mt.Available = wm.Remaining
		}
	}
	if m.RestrictedUntil.After(now) {
		mt.RestrictedUntil = m.RestrictedUntil
		mt.Available = 0
	}
	return mt, nil
}
