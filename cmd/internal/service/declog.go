package service

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/connrules/connrules/rules"
)

// decisionLog writes one JSON line per decision. Notes and email
// addresses are masked unless the config says otherwise.
type decisionLog struct {
	mu        sync.Mutex
	w         io.Writer
	keepNotes bool
	keepEmail bool
}

// DecisionRecord is one line of the decision log.
type DecisionRecord struct {
	Time       time.Time      `json:"time"`
	RequestID  string         `json:"request_id"`
	Route      string         `json:"route"`
	PolicyHash string         `json:"policy_hash"`
	Email      string         `json:"email,omitempty"`
	Facts      *rules.Request `json:"facts"`
	Decision   rules.Decision `json:"decision"`
}

func (l *decisionLog) write(rec DecisionRecord) {
	if l == nil || l.w == nil {
		return
	}
	if rec.Facts != nil && !l.keepNotes && rec.Facts.Note != "" {
		f := *rec.Facts
		f.Note = maskNote(f.Note)
		rec.Facts = &f
	}
	if !l.keepEmail && rec.Email != "" {
		rec.Email = maskEmail(rec.Email)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(append(b, '\n'))
}

// maskNote keeps only the length: enough to debug note_too_long.
func maskNote(s string) string {
	return "[masked " + itoa(len([]rune(s))) + " chars]"
}

// maskEmail keeps the first letter and the domain: a***@example.com.
func maskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return "***"
	}
	return s[:1] + "***" + s[at:]
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
