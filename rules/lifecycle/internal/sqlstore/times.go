package sqlstore

import (
	"strings"
	"sync"
	"time"
)

// Times are stored as RFC 3339 text followed by the name of their
// location ("2026-03-09T00:00:00-08:00 America/Los_Angeles"), so a time
// read back is in the same zone: adding days to it crosses a daylight
// saving change as the original would, and the event log prints the same.

// timeText is t as stored, or "" for the zero time.
func timeText(t time.Time) (string, error) {
	if t.IsZero() {
		return "", nil
	}
	b, err := t.MarshalText()
	if err != nil {
		return "", err
	}
	if name := locName(t.Location()); name != "" {
		return string(b) + " " + name, nil
	}
	return string(b), nil
}

// locName is the name to store for l: "" when it cannot be loaded back by
// name (a fixed zone), which the offset in the text already describes.
func locName(l *time.Location) string {
	name := l.String()
	if name == "" || name == "UTC" {
		return ""
	}
	if _, err := location(name); err != nil {
		return ""
	}
	return name
}

var locs sync.Map // name -> *time.Location

func location(name string) (*time.Location, error) {
	if l, ok := locs.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locs.Store(name, l)
	return l, nil
}

// parseTime reads timeText's form.
func parseTime(s string) (time.Time, error) {
	var t time.Time
	if s == "" {
		return t, nil
	}
	text, name, _ := strings.Cut(s, " ")
	if err := t.UnmarshalText([]byte(text)); err != nil {
		return t, err
	}
	if name != "" {
		l, err := location(name)
		if err != nil {
			return t, err
		}
		t = t.In(l)
	}
	return t, nil
}
