package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file is a JSON codec for the engine's two wire types, written by
// hand for the WebAssembly guest, where encoding/json's reflection costs
// more than the decision itself. It never disagrees with encoding/json:
// the decoder takes a fast path only for input it fully understands and
// hands anything else (escapes it does not handle, unknown or mis-cased
// keys, duplicate keys, null where a field cannot be null, wrong types,
// syntax errors, trailing data) to encoding/json and checkStrict, so
// results and error messages are the same by construction. The tests compare both on every
// corpus request and on a table of odd inputs.

// DecodeRequestFast is [DecodeRequest] without reflection on the common
// path: the same request for the same input, and the same errors.
func DecodeRequestFast(data []byte) (*Request, error) {
	r := new(Request)
	if err := UnmarshalRequest(data, r); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// UnmarshalRequest decodes a request into r without validating it. On a
// malformed request the error is a [*FactsError] and r holds whatever
// encoding/json decoded before it gave up, so a known r.Stage can still
// pick the stage's fail-closed outcome. r should be zero on entry.
func UnmarshalRequest(data []byte, r *Request) error {
	if err := checkRequestSize(data); err != nil {
		return err
	}
	d := fastDec{b: data}
	if d.request(r) {
		return nil
	}
	*r = Request{}
	return unmarshalRequestSlow(data, r)
}

// checkRequestSize refuses a request over [MaxRequestBytes] before it is parsed.
func checkRequestSize(data []byte) error {
	if len(data) > MaxRequestBytes {
		return &FactsError{Msg: fmt.Sprintf("the request is %d bytes, over the limit of %d", len(data), MaxRequestBytes)}
	}
	return nil
}

// unmarshalRequestSlow is DecodeRequest's decoding half.
func unmarshalRequestSlow(data []byte, r *Request) error {
	if err := checkRequestSize(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return &FactsError{Field: ute.Field, Msg: fmt.Sprintf("expected %s, got JSON %s", ute.Type, ute.Value)}
		}
		return &FactsError{Msg: err.Error()}
	}
	return checkStrict(data)
}

// fastDec is a cursor over one JSON document. Every method returns false
// when the input leaves the fast path; the caller then starts over with
// encoding/json.
type fastDec struct {
	b []byte
	i int
}

func (d *fastDec) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDec) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *fastDec) eat(c byte) bool {
	if d.peek() == c {
		d.i++
		return true
	}
	return false
}

// null consumes a null literal if one is next.
func (d *fastDec) null() bool {
	if d.peek() == 'n' && bytes.HasPrefix(d.b[d.i:], []byte("null")) && d.delim(d.i+4) {
		d.i += 4
		return true
	}
	return false
}

// delim reports whether a literal or number may end before b[i].
func (d *fastDec) delim(i int) bool {
	if i >= len(d.b) {
		return true
	}
	switch d.b[i] {
	case ' ', '\t', '\n', '\r', ',', '}', ']':
		return true
	}
	return false
}

// key reads the next key of an object whose '{' was consumed. done is true
// at the closing '}'.
func (d *fastDec) key(first *bool) (key []byte, done, ok bool) {
	c := d.peek()
	if c == '}' {
		d.i++
		return nil, true, true
	}
	if !*first {
		if c != ',' {
			return nil, false, false
		}
		d.i++
	}
	*first = false
	k, ok := d.rawStr()
	if !ok || !d.eat(':') {
		return nil, false, false
	}
	return k, false, true
}

// rawStr reads a string without escapes and returns its bytes in place.
func (d *fastDec) rawStr() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		c := d.b[j]
		switch {
		case c == '"':
			s := d.b[start:j]
			d.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			// Invalid UTF-8 becomes U+FFFD in encoding/json: leave it that path.
			r, size := utf8.DecodeRune(d.b[j:])
			if r == utf8.RuneError && size == 1 {
				return nil, false
			}
			j += size - 1
		}
	}
	return nil, false
}

// str reads a string value, unescaping the short escapes. \u escapes
// leave the fast path.
func (d *fastDec) str() (string, bool) {
	if d.peek() != '"' {
		return "", false
	}
	start := d.i + 1
	j := start
	for ; j < len(d.b); j++ {
		c := d.b[j]
		if c == '"' {
			s := intern(d.b[start:j])
			d.i = j + 1
			return s, true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	// The slow lane of the fast path: escapes and non-ASCII text.
	buf := make([]byte, 0, j-start+16)
	buf = append(buf, d.b[start:j]...)
	for j < len(d.b) {
		c := d.b[j]
		switch {
		case c == '"':
			d.i = j + 1
			return string(buf), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if j+1 >= len(d.b) {
				return "", false
			}
			switch e := d.b[j+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			default:
				return "", false
			}
			j += 2
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.b[j:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			buf = append(buf, d.b[j:j+size]...)
			j += size
		default:
			buf = append(buf, c)
			j++
		}
	}
	return "", false
}

// intern returns the enumerated values requests repeat as constants, so
// decoding them does not allocate.
func intern(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case StageInvite:
		return StageInvite
	case StageDeliver:
		return StageDeliver
	case StageAccept:
		return StageAccept
	case "person":
		return "person"
	case "company":
		return "company"
	case "free":
		return "free"
	case "premium":
		return "premium"
	case "active":
		return "active"
	case "restricted":
		return "restricted"
	case "soft_banned":
		return "soft_banned"
	case "deactivated":
		return "deactivated"
	case "closed":
		return "closed"
	case "everyone":
		return "everyone"
	case "email_or_contacts":
		return "email_or_contacts"
	case "contacts_only":
		return "contacts_only"
	case "mutual":
		return "mutual"
	case "second_degree":
		return "second_degree"
	case "third_degree":
		return "third_degree"
	case "nobody":
		return "nobody"
	}
	return string(b)
}

// number reads a JSON number and returns its text.
func (d *fastDec) number() ([]byte, bool) {
	d.ws()
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if !d.delim(i) {
		return nil, false
	}
	d.i = i
	return b[start:i], true
}

// int reads an integer; a fraction, an exponent or a null leaves the fast
// path (encoding/json refuses the first two and skips the third).
func (d *fastDec) int(v *int) bool {
	n, ok := d.number()
	if !ok || len(n) > 18 {
		return false
	}
	neg := n[0] == '-'
	if neg {
		n = n[1:]
	}
	x := 0
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
		x = x*10 + int(c-'0')
	}
	if neg {
		x = -x
	}
	*v = x
	return true
}

func (d *fastDec) float(v *float64) bool {
	n, ok := d.number()
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return false
	}
	*v = f
	return true
}

func (d *fastDec) bool(v *bool) bool {
	switch d.peek() {
	case 't':
		if bytes.HasPrefix(d.b[d.i:], []byte("true")) && d.delim(d.i+4) {
			d.i += 4
			*v = true
			return true
		}
	case 'f':
		if bytes.HasPrefix(d.b[d.i:], []byte("false")) && d.delim(d.i+5) {
			d.i += 5
			*v = false
			return true
		}
	}
	return false
}

// time reads an RFC 3339 time as time.Time.UnmarshalJSON does; null keeps
// the old value.
func (d *fastDec) time(t *time.Time) bool {
	if d.null() {
		return true
	}
	s, ok := d.rawStr()
	if !ok {
		return false
	}
	return t.UnmarshalText(s) == nil
}

func (d *fastDec) string(v *string) bool {
	s, ok := d.str()
	if ok {
		*v = s
	}
	return ok
}

// strings reads a list of strings, reusing v as encoding/json does: null
// empties it, [] makes it empty but not nil.
func (d *fastDec) strings(v *[]string) bool {
	if d.null() {
		*v = nil
		return true
	}
	if !d.eat('[') {
		return false
	}
	s := (*v)[:0]
	if s == nil {
		s = []string{}
	}
	if d.eat(']') {
		*v = s
		return true
	}
	for {
		e, ok := d.str()
		if !ok {
			return false
		}
		s = append(s, e)
		if d.eat(']') {
			*v = s
			return true
		}
		if !d.eat(',') {
			return false
		}
	}
}

func (d *fastDec) request(r *Request) bool {
	if !d.eat('{') {
		return false
	}
	first := true
	var seen uint32 // keys met so far: a duplicate leaves the fast path
	for {
		k, done, ok := d.key(&first)
		if !ok {
			return false
		}
		if done {
			break
		}
		switch string(k) {
		case "stage":
			ok = once(&seen, 0) && d.string(&r.Stage)
		case "now":
			ok = once(&seen, 1) && d.peek() != 'n' && d.time(&r.Now)
		case "note":
			ok = once(&seen, 2) && d.string(&r.Note)
		case "sender":
			ok = once(&seen, 3) && d.member(&r.Sender)
		case "recipient":
			ok = once(&seen, 4) && d.member(&r.Recipient)
		case "pair":
			ok = once(&seen, 5) && d.pair(&r.Pair)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	d.ws()
	return d.i == len(d.b)
}

func (d *fastDec) member(mp **Member) bool {
	if d.null() {
		*mp = nil
		return true
	}
	if !d.eat('{') {
		return false
	}
	if *mp == nil {
		*mp = new(Member)
	}
	m := *mp
	first := true
	var seen uint32 // keys met so far: a duplicate leaves the fast path
	for {
		k, done, ok := d.key(&first)
		if !ok {
			return false
		}
		if done {
			return true
		}
		switch string(k) {
		case "id":
			ok = once(&seen, 0) && d.string(&m.ID)
		case "kind":
			ok = once(&seen, 1) && d.string(&m.Kind)
		case "tier":
			ok = once(&seen, 2) && d.string(&m.Tier)
		case "status":
			ok = once(&seen, 3) && d.string(&m.Status)
		case "restricted_until":
			ok = once(&seen, 4) && d.time(&m.RestrictedUntil)
		case "soft_banned_until":
			ok = once(&seen, 13) && d.time(&m.SoftBannedUntil)
		case "connections":
			ok = once(&seen, 5) && d.int(&m.Connections)
		case "company":
			ok = once(&seen, 6) && d.string(&m.Company)
		case "school":
			ok = once(&seen, 7) && d.string(&m.School)
		case "title":
			ok = once(&seen, 14) && d.string(&m.Title)
		case "sent":
			ok = once(&seen, 8) && d.counts(&m.Sent)
		case "received":
			ok = once(&seen, 9) && d.counts(&m.Received)
		case "over_limit":
			ok = once(&seen, 10) && d.int(&m.OverLimit)
		case "acceptance_rate":
			ok = once(&seen, 11) && d.float(&m.AcceptanceRate)
		case "settings":
			ok = once(&seen, 12) && d.settings(&m.Settings)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
}

func (d *fastDec) counts(c *Counts) bool {
	if !d.eat('{') {
		return false
	}
	first := true
	var seen uint32 // keys met so far: a duplicate leaves the fast path
	for {
		k, done, ok := d.key(&first)
		if !ok {
			return false
		}
		if done {
			return true
		}
		switch string(k) {
		case "hour":
			ok = once(&seen, 0) && d.int(&c.Hour)
		case "day":
			ok = once(&seen, 1) && d.int(&c.Day)
		case "week":
			ok = once(&seen, 2) && d.int(&c.Week)
		case "month":
			ok = once(&seen, 3) && d.int(&c.Month)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
}

func (d *fastDec) settings(s *Settings) bool {
	if !d.eat('{') {
		return false
	}
	first := true
	var seen uint32 // keys met so far: a duplicate leaves the fast path
	for {
		k, done, ok := d.key(&first)
		if !ok {
			return false
		}
		if done {
			return true
		}
		switch string(k) {
		case "invitations":
			ok = once(&seen, 0) && d.string(&s.Invitations)
		case "companies":
			ok = once(&seen, 1) && d.strings(&s.Companies)
		case "schools":
			ok = once(&seen, 2) && d.strings(&s.Schools)
		case "titles":
			ok = once(&seen, 5) && d.strings(&s.Titles)
		case "require_confirmation":
			ok = once(&seen, 3) && d.bool(&s.RequireConfirmation)
		case "auto_accept":
			ok = once(&seen, 4) && d.autoAccept(&s.AutoAccept)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
}

func (d *fastDec) autoAccept(a *AutoAccept) bool {
	if !d.eat('{') {
		return false
	}
	first := true
	var seen uint32 // keys met so far: a duplicate leaves the fast path
	for {
		k, done, ok := d.key(&first)
		if !ok {
			return false
		}
		if done {
			return true
		}
		switch string(k) {
		case "companies":
			ok = once(&seen, 0) && d.strings(&a.Companies)
		case "schools":
			ok = once(&seen, 1) && d.strings(&a.Schools)
		case "titles":
			ok = once(&seen, 2) && d.strings(&a.Titles)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
}

func (d *fastDec) pair(p *Pair) bool {
	if !d.eat('{') {
		return false
	}
	first := true
	var seen uint32 // keys met so far: a duplicate leaves the fast path
	for {
		k, done, ok := d.key(&first)
		if !ok {
			return false
		}
		if done {
			return true
		}
		switch string(k) {
		case "connected":
			ok = once(&seen, 0) && d.bool(&p.Connected)
		case "degree":
			ok = once(&seen, 1) && d.int(&p.Degree)
		case "mutual":
			ok = once(&seen, 2) && d.int(&p.Mutual)
		case "knows_email":
			ok = once(&seen, 3) && d.bool(&p.KnowsEmail)
		case "in_contacts":
			ok = once(&seen, 4) && d.bool(&p.InContacts)
		case "blocked":
			ok = once(&seen, 5) && d.bool(&p.Blocked)
		case "pending":
			ok = once(&seen, 6) && d.int(&p.Pending)
		case "ignored":
			ok = once(&seen, 7) && d.int(&p.Ignored)
		case "last_ignored_at":
			ok = once(&seen, 8) && d.time(&p.LastIgnoredAt)
		case "rejected":
			ok = once(&seen, 9) && d.bool(&p.Rejected)
		case "withdrawn_at":
			ok = once(&seen, 10) && d.time(&p.WithdrawnAt)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
}

// once marks key i of an object as seen and reports whether it was new.
func once(seen *uint32, i uint) bool {
	if *seen&(1<<i) != 0 {
		return false
	}
	*seen |= 1 << i
	return true
}

// AppendJSON appends the decision as compact JSON, byte for byte what
// [Decision.JSON] returns, without reflection.
func (d Decision) AppendJSON(b []byte) []byte {
	b0 := len(b)
	b = append(b, `{"outcome":`...)
	b = appendString(b, d.Outcome)
	b = append(b, `,"reason":`...)
	b = appendString(b, d.Reason)
	b = append(b, `,"rule":`...)
	b = appendString(b, d.Rule)
	b = append(b, `,"message":`...)
	b = appendString(b, d.Message)
	if d.Private {
		b = append(b, `,"private":true`...)
	}
	ok := true
	if !d.RetryAfter.IsZero() {
		b = append(b, `,"retry_after":`...)
		if b, ok = appendTime(b, d.RetryAfter); !ok {
			return append(b[:b0], d.JSON()...)
		}
	}
	if len(d.Effects) > 0 {
		b = append(b, `,"effects":[`...)
		for i, e := range d.Effects {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"kind":`...)
			b = appendString(b, e.Kind)
			b = append(b, `,"subject":`...)
			b = appendString(b, e.Subject)
			if !e.Until.IsZero() {
				b = append(b, `,"until":`...)
				if b, ok = appendTime(b, e.Until); !ok {
					return append(b[:b0], d.JSON()...)
				}
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(d.Trace) > 0 {
		b = append(b, `,"trace":[`...)
		for i, t := range d.Trace {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"rule":`...)
			b = appendString(b, t.Rule)
			b = append(b, `,"held":`...)
			b = strconv.AppendBool(b, t.Held)
			if t.Error != "" {
				b = append(b, `,"error":`...)
				b = appendString(b, t.Error)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(d.Diagnostics) > 0 {
		b = append(b, `,"diagnostics":[`...)
		for i, g := range d.Diagnostics {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"rule":`...)
			b = appendString(b, g.Rule)
			b = append(b, `,"message":`...)
			b = appendString(b, g.Message)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// AppendJSON appends the request as compact JSON, byte for byte what
// json.Marshal returns. It fails where json.Marshal does: on a time that
// RFC 3339 cannot represent, or an acceptance rate that is not a number.
func (r *Request) AppendJSON(b []byte) ([]byte, error) {
	b0 := len(b)
	ok := true
	b = append(b, `{"stage":`...)
	b = appendString(b, r.Stage)
	b = append(b, `,"now":`...)
	if b, ok = appendTime(b, r.Now); !ok {
		return b[:b0], errors.New("json: now: time out of the RFC 3339 range")
	}
	b = append(b, `,"note":`...)
	b = appendString(b, r.Note)
	b = append(b, `,"sender":`...)
	if b, ok = appendMember(b, r.Sender); !ok {
		return b[:b0], errors.New("json: sender: a time or acceptance_rate JSON cannot represent")
	}
	b = append(b, `,"recipient":`...)
	if b, ok = appendMember(b, r.Recipient); !ok {
		return b[:b0], errors.New("json: recipient: a time or acceptance_rate JSON cannot represent")
	}
	p := &r.Pair
	b = append(b, `,"pair":{"connected":`...)
	b = strconv.AppendBool(b, p.Connected)
	b = append(b, `,"degree":`...)
	b = strconv.AppendInt(b, int64(p.Degree), 10)
	b = append(b, `,"mutual":`...)
	b = strconv.AppendInt(b, int64(p.Mutual), 10)
	b = append(b, `,"knows_email":`...)
	b = strconv.AppendBool(b, p.KnowsEmail)
	b = append(b, `,"in_contacts":`...)
	b = strconv.AppendBool(b, p.InContacts)
	b = append(b, `,"blocked":`...)
	b = strconv.AppendBool(b, p.Blocked)
	b = append(b, `,"pending":`...)
	b = strconv.AppendInt(b, int64(p.Pending), 10)
	b = append(b, `,"ignored":`...)
	b = strconv.AppendInt(b, int64(p.Ignored), 10)
	if !p.LastIgnoredAt.IsZero() {
		b = append(b, `,"last_ignored_at":`...)
		if b, ok = appendTime(b, p.LastIgnoredAt); !ok {
			return b[:b0], errors.New("json: pair.last_ignored_at: time out of the RFC 3339 range")
		}
	}
	b = append(b, `,"rejected":`...)
	b = strconv.AppendBool(b, p.Rejected)
	if !p.WithdrawnAt.IsZero() {
		b = append(b, `,"withdrawn_at":`...)
		if b, ok = appendTime(b, p.WithdrawnAt); !ok {
			return b[:b0], errors.New("json: pair.withdrawn_at: time out of the RFC 3339 range")
		}
	}
	return append(b, "}}"...), nil
}

func appendMember(b []byte, m *Member) ([]byte, bool) {
	if m == nil {
		return append(b, "null"...), true
	}
	ok := true
	b = append(b, `{"id":`...)
	b = appendString(b, m.ID)
	b = append(b, `,"kind":`...)
	b = appendString(b, m.Kind)
	b = append(b, `,"tier":`...)
	b = appendString(b, m.Tier)
	b = append(b, `,"status":`...)
	b = appendString(b, m.Status)
	if !m.RestrictedUntil.IsZero() {
		b = append(b, `,"restricted_until":`...)
		if b, ok = appendTime(b, m.RestrictedUntil); !ok {
			return b, false
		}
	}
	if !m.SoftBannedUntil.IsZero() {
		b = append(b, `,"soft_banned_until":`...)
		if b, ok = appendTime(b, m.SoftBannedUntil); !ok {
			return b, false
		}
	}
	b = append(b, `,"connections":`...)
	b = strconv.AppendInt(b, int64(m.Connections), 10)
	b = append(b, `,"company":`...)
	b = appendString(b, m.Company)
	b = append(b, `,"school":`...)
	b = appendString(b, m.School)
	if m.Title != "" {
		b = append(b, `,"title":`...)
		b = appendString(b, m.Title)
	}
	b = append(b, `,"sent":`...)
	b = appendCounts(b, m.Sent)
	b = append(b, `,"received":`...)
	b = appendCounts(b, m.Received)
	b = append(b, `,"over_limit":`...)
	b = strconv.AppendInt(b, int64(m.OverLimit), 10)
	b = append(b, `,"acceptance_rate":`...)
	if b, ok = appendFloat(b, m.AcceptanceRate); !ok {
		return b, false
	}
	s := &m.Settings
	b = append(b, `,"settings":{"invitations":`...)
	b = appendString(b, s.Invitations)
	b = append(b, `,"companies":`...)
	b = appendStrings(b, s.Companies)
	b = append(b, `,"schools":`...)
	b = appendStrings(b, s.Schools)
	if len(s.Titles) > 0 {
		b = append(b, `,"titles":`...)
		b = appendStrings(b, s.Titles)
	}
	b = append(b, `,"require_confirmation":`...)
	b = strconv.AppendBool(b, s.RequireConfirmation)
	b = append(b, `,"auto_accept":{"companies":`...)
	b = appendStrings(b, s.AutoAccept.Companies)
	b = append(b, `,"schools":`...)
	b = appendStrings(b, s.AutoAccept.Schools)
	if len(s.AutoAccept.Titles) > 0 {
		b = append(b, `,"titles":`...)
		b = appendStrings(b, s.AutoAccept.Titles)
	}
	return append(b, "}}}"...), true
}

func appendCounts(b []byte, c Counts) []byte {
	b = append(b, `{"hour":`...)
	b = strconv.AppendInt(b, int64(c.Hour), 10)
	b = append(b, `,"day":`...)
	b = strconv.AppendInt(b, int64(c.Day), 10)
	b = append(b, `,"week":`...)
	b = strconv.AppendInt(b, int64(c.Week), 10)
	b = append(b, `,"month":`...)
	b = strconv.AppendInt(b, int64(c.Month), 10)
	return append(b, '}')
}

func appendStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, x)
	}
	return append(b, ']')
}

// appendFloat writes a float64 as encoding/json does.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendTime writes a quoted RFC 3339 time as time.Time.MarshalJSON does.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	b = append(b, '"')
	out, err := t.AppendText(b)
	if err != nil {
		return b[:len(b)-1], false
	}
	return append(out, '"'), true
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping on:
// <, > and & become \u003c and friends, invalid UTF-8 becomes \ufffd, and
// U+2028 and U+2029 are escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// UnmarshalDecision decodes a decision's JSON, as from [Decision.JSON] or
// [Decision.AppendJSON], into d, which should be zero. It is
// json.Unmarshal without reflection on the common path, for hosts that
// read decisions from the WebAssembly module.
func UnmarshalDecision(data []byte, d *Decision) error {
	dec := fastDec{b: data}
	if dec.decision(d) {
		return nil
	}
	*d = Decision{}
	return json.Unmarshal(data, d)
}

func (d *fastDec) decision(v *Decision) bool {
	if !d.eat('{') {
		return false
	}
	first := true
	for {
		k, done, ok := d.key(&first)
		if !ok {
			return false
		}
		if done {
			break
		}
		switch string(k) {
		case "outcome":
			ok = d.string(&v.Outcome)
		case "reason":
			ok = d.string(&v.Reason)
		case "rule":
			ok = d.string(&v.Rule)
		case "message":
			ok = d.string(&v.Message)
		case "private":
			ok = d.bool(&v.Private)
		case "retry_after":
			ok = d.time(&v.RetryAfter)
		case "effects":
			ok = d.list(func() bool {
				var e Effect
				if !d.effect(&e) {
					return false
				}
				v.Effects = append(v.Effects, e)
				return true
			})
		case "trace":
			ok = d.list(func() bool {
				var t TraceEntry
				if !d.traceEntry(&t) {
					return false
				}
				v.Trace = append(v.Trace, t)
				return true
			})
		case "diagnostics":
			ok = d.list(func() bool {
				var g Diagnostic
				if !d.diagnostic(&g) {
					return false
				}
				v.Diagnostics = append(v.Diagnostics, g)
				return true
			})
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	d.ws()
	return d.i == len(d.b)
}

// list reads a non-empty array, calling elem for each element.
func (d *fastDec) list(elem func() bool) bool {
	if !d.eat('[') || d.peek() == ']' {
		return false
	}
	for {
		if !elem() {
			return false
		}
		if d.eat(']') {
			return true
		}
		if !d.eat(',') {
			return false
		}
	}
}

func (d *fastDec) effect(e *Effect) bool {
	if !d.eat('{') {
		return false
	}
	first := true
	for {
		k, done, ok := d.key(&first)
		if !ok {
			return false
		}
		if done {
			return true
		}
		switch string(k) {
		case "kind":
			ok = d.string(&e.Kind)
		case "subject":
			ok = d.string(&e.Subject)
		case "until":
			ok = d.time(&e.Until)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
}

func (d *fastDec) traceEntry(t *TraceEntry) bool {
	if !d.eat('{') {
		return false
	}
	first := true
	for {
		k, done, ok := d.key(&first)
		if !ok {
			return false
		}
		if done {
			return true
		}
		switch string(k) {
		case "rule":
			ok = d.string(&t.Rule)
		case "held":
			ok = d.bool(&t.Held)
		case "error":
			ok = d.string(&t.Error)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
}

func (d *fastDec) diagnostic(g *Diagnostic) bool {
	if !d.eat('{') {
		return false
	}
	first := true
	for {
		k, done, ok := d.key(&first)
		if !ok {
			return false
		}
		if done {
			return true
		}
		switch string(k) {
		case "rule":
			ok = d.string(&g.Rule)
		case "message":
			ok = d.string(&g.Message)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
}
