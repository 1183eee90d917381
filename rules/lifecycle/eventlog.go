package lifecycle

import (
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
