package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// MaxLineBytes bounds one line of the log: a longer line is an error, not
// an allocation of whatever size the file claims.
const MaxLineBytes = 1 << 20

// event is the part of a [lifecycle.Event] replay reads. The request is
// kept raw and decoded with the engine's own fast decoder.
type event struct {
	V          int             `json:"v"`
	Seq        uint64          `json:"seq"`
	At         time.Time       `json:"at"`
	Action     string          `json:"action"`
	Actor      string          `json:"actor"`
	Subject    string          `json:"subject"`
	Invitation string          `json:"invitation"`
	Request    json.RawMessage `json:"request"`
	Decision   *rules.Decision `json:"decision"`
	Result     string          `json:"result"`
	Detail     json.RawMessage `json:"detail"`
}

// lineReader reads a log line by line, through gzip when the input starts
// with gzip's magic bytes.
type lineReader struct {
	sc   *bufio.Scanner
	gz   *gzip.Reader
	line int
}

func newLineReader(r io.Reader) (*lineReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	lr := &lineReader{}
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		lr.gz = gz
		lr.sc = bufio.NewScanner(gz)
	} else {
		lr.sc = bufio.NewScanner(br)
	}
	lr.sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	return lr, nil
}

// next returns the next non-blank line and its number; the bytes are
// valid until the following call. It returns io.EOF at the end.
func (lr *lineReader) next() ([]byte, int, error) {
	for lr.sc.Scan() {
		lr.line++
		b := bytes.TrimSpace(lr.sc.Bytes())
		if len(b) > 0 {
			return b, lr.line, nil
		}
	}
	if err := lr.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, lr.line + 1, fmt.Errorf("line %d is longer than %d bytes", lr.line+1, MaxLineBytes)
		}
		return nil, lr.line, err
	}
	return nil, lr.line, io.EOF
}

// decodeEvent parses one line. The request, when there is one, is decoded
// into req (which must be zero) but not validated: facts the engine would
// refuse are re-decided like any others (they fail closed, as they did when
// recorded). Malformed JSON is an error naming the line.
func decodeEvent(b []byte, line int, ev *event, req *rules.Request) (hasReq bool, err error) {
	if !parseEnvelope(b, ev) {
		*ev = event{}
		if err := json.Unmarshal(b, ev); err != nil {
			return false, fmt.Errorf("line %d: %v", line, err)
		}
	}
	if ev.V > lifecycle.EventVersion {
		return false, fmt.Errorf("line %d: event format v%d is newer than this replay reads (v%d)", line, ev.V, lifecycle.EventVersion)
	}
	if len(ev.Request) == 0 || string(ev.Request) == "null" {
		return false, nil
	}
	if err := rules.UnmarshalRequest(ev.Request, req); err != nil {
		return false, fmt.Errorf("line %d: request: %v", line, err)
	}
	return true, nil
}
