package lifecycle

import (
	"context"
	"encoding/json"
	"io"
)

// WriteEvents writes events as JSON lines, one object per line, in order.
// Each line carries its format version in "v".
func WriteEvents(w io.Writer, events []Event) error {
	enc := json.NewEncoder(w)
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			return err
		}
	}
	return nil
}

// EventReader is implemented by a [Store] whose event log can be read
// back, in append order: [MemStore] and the SQL stores.
type EventReader interface {
	ReadEvents(ctx context.Context) ([]Event, error)
}

// ReadEvents implements [EventReader].
func (s *MemStore) ReadEvents(context.Context) ([]Event, error) { return s.Events(), nil }
