package sqlstore

import (
	"encoding/json"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// window is one fixed window's count: its start (UnixNano) and count.
type window [2]int64

func (c window) in(start time.Time) int {
	if c[0] == start.UnixNano() {
		return int(c[1])
	}
	return 0
}

// inc counts one more in the window starting at start. A count never goes
// back to an earlier window: a late writer with an older window leaves a
// newer count alone.
func (c *window) inc(start time.Time) {
	s := start.UnixNano()
	switch {
	case c[0] == s:
		c[1]++
	case c[0] < s:
		*c = window{s, 1}
	}
}

// ahead reports whether the count holds a window later than start: a
// write in start would make it go back.
func (c window) ahead(start time.Time) bool { return c[1] > 0 && c[0] > start.UnixNano() }

// direction is one direction's counts; Hour holds the send times
// (UnixNano) inside the rolling hour.
type direction struct {
	Hour  []int64 `json:"h,omitempty"`
	Day   window  `json:"d"`
	Week  window  `json:"w"`
	Month window  `json:"m"`
}

// counters is a member's window counters, stored as one small JSON
// document in members.counters and rewritten under the row's lock.
type counters struct {
	Sent direction `json:"s"`
	Recv direction `json:"r"`
}

func decodeCounters(s string) (counters, error) {
	var c counters
	if s == "" || s == "{}" {
		return c, nil
	}
	err := json.Unmarshal([]byte(s), &c)
	return c, err
}

func (c *counters) encode() string {
	b, _ := json.Marshal(c) // plain ints and slices: cannot fail
	return string(b)
}

func (d *direction) read(w lifecycle.Windows) (n [4]int, oldest time.Time) {
	h, now := w.Hour.UnixNano(), w.Now.UnixNano()
	for _, t := range d.Hour {
		if t > h && t <= now {
			if n[0] == 0 {
				oldest = time.Unix(0, t)
			}
			n[0]++
		}
	}
	return [4]int{n[0], d.Day.in(w.Day), d.Week.in(w.Week), d.Month.in(w.Month)}, oldest
}

// ahead reports whether a day, week or month count holds a window later
// than w's: w is stale.
func (d *direction) ahead(w lifecycle.Windows) bool {
	return d.Day.ahead(w.Day) || d.Week.ahead(w.Week) || d.Month.ahead(w.Month)
}

func (d *direction) add(w lifecycle.Windows) {
	h := w.Hour.UnixNano()
	keep := d.Hour[:0]
	for _, t := range d.Hour {
		if t > h {
			keep = append(keep, t)
		}
	}
	d.Hour = append(keep, w.Now.UnixNano())
	d.Day.inc(w.Day)
	d.Week.inc(w.Week)
	d.Month.inc(w.Month)
}

func (c *counters) usage(w lifecycle.Windows) lifecycle.Usage {
	sent, oldest := c.Sent.read(w)
	recv, _ := c.Recv.read(w)
	u := lifecycle.Usage{HourOldest: oldest}
	u.Sent.Hour, u.Sent.Day, u.Sent.Week, u.Sent.Month = sent[0], sent[1], sent[2], sent[3]
	u.Received.Hour, u.Received.Day, u.Received.Week, u.Received.Month = recv[0], recv[1], recv[2], recv[3]
	return u
}
