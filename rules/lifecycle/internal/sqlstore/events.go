package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/connrules/connrules/rules/lifecycle"
)

// Append implements [lifecycle.Store]: one INSERT; the database numbers
// the event.
func (s *Store) Append(ctx context.Context, e *lifecycle.Event) error {
	c := *e
	c.Seq = 0
	doc, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("event: %w", err)
	}
	var seq int64
	if err := s.b.QueryRow(ctx, `INSERT INTO events (doc) VALUES (?) RETURNING seq`, string(doc)).Scan(&seq); err != nil {
		return err
	}
	e.Seq = uint64(seq)
	return nil
}

// storedEvent decodes an event with its details kept as the JSON they
// were written as, so that writing the log again gives the same bytes.
type storedEvent struct {
	lifecycle.Event
	Detail map[string]json.RawMessage `json:"detail,omitempty"`
}

// ReadEvents implements [lifecycle.EventReader]: the log in append order.
func (s *Store) ReadEvents(ctx context.Context) ([]lifecycle.Event, error) {
	rows, err := s.b.Query(ctx, `SELECT seq, doc FROM events ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []lifecycle.Event
	for rows.Next() {
		var seq int64
		var doc string
		if err := rows.Scan(&seq, &doc); err != nil {
			return nil, err
		}
		var se storedEvent
		if err := json.Unmarshal([]byte(doc), &se); err != nil {
			return nil, fmt.Errorf("event %d: %w", seq, err)
		}
		e := se.Event
		e.Seq = uint64(seq)
		if se.Detail != nil {
			e.Detail = make(map[string]any, len(se.Detail))
			for k, v := range se.Detail {
				e.Detail[k] = v
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
