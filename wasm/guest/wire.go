package guest

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
	"unicode/utf8"

	"github.com/connrules/connrules/rules"
)

// The wire format is a compact, positional encoding of rules.Request
// that host/ uses instead of JSON (decide flag FlagWire): decoding it
// inside the module costs a fraction of decoding JSON. It carries exactly
// what a JSON round trip carries, so a request decides the same either
// way; the corpus checks it.
//
//	request  = version(1) string(stage) time(now) string(note) member(sender) member(recipient) pair
//	member   = 0 | 1 string(id) string(kind) string(tier) string(status) time(restricted_until)
//	           int(connections) string(company) string(school) counts(sent) counts(received)
//	           int(over_limit) float(acceptance_rate) settings time(soft_banned_until) string(title)
//	settings = string(invitations) list(companies) list(schools) bool(require_confirmation)
//	           list(auto_accept.companies) list(auto_accept.schools) list(titles) list(auto_accept.titles)
//	pair     = bool(connected) int(degree) int(mutual) bool(knows_email) bool(in_contacts)
//	           bool(blocked) int(pending) int(ignored) time(last_ignored_at) bool(rejected) time(withdrawn_at)
//	counts   = int(hour) int(day) int(week) int(month)
//	time     = 0 int(unix seconds) uvarint(nanoseconds)    offset zero, as "Z" in JSON
//	         | 1 int(unix seconds) uvarint(nanoseconds) int(offset seconds)
//	         | 2                                           the zero time
//	list     = uvarint(0) for null | uvarint(n+1) string*n
//	string   = uvarint(len) bytes;  int = zigzag varint;  float = 8 bytes IEEE 754, little-endian
//
// A batch (decide_batch with FlagWire) is uvarint(n) then n times
// uvarint(len) request.

// Decide flags.
const (
	FlagExplain = 1 << 0
	FlagWire    = 1 << 1
	// FlagWireOut asks decide (not decide_batch) to answer a decision
	// without a trace in the wire format (wireout.go).
	FlagWireOut = 1 << 2
)

// 2: soft_banned_until, title and the titles lists; 3: time kind 2.
const wireVersion = 3

var errWire = errors.New("malformed wire request")

// AppendWire appends req in the wire format. It fails where JSON would
// carry the request changed: text that is not UTF-8 (JSON would replace
// the bad bytes) or a zone offset with seconds; the caller then sends
// JSON. Values JSON cannot carry at all (a time past year 9999, a NaN
// acceptance rate) go as they are, and the guest's validation refuses
// them as invalid_request, as a native Decide does.
func AppendWire(b []byte, r *rules.Request) ([]byte, error) {
	w := wireEnc{b: append(b, wireVersion)}
	w.str(r.Stage)
	w.time(r.Now)
	w.str(r.Note)
	w.member(r.Sender)
	w.member(r.Recipient)
	p := &r.Pair
	w.bool(p.Connected)
	w.int(p.Degree)
	w.int(p.Mutual)
	w.bool(p.KnowsEmail)
	w.bool(p.InContacts)
	w.bool(p.Blocked)
	w.int(p.Pending)
	w.int(p.Ignored)
	w.time(p.LastIgnoredAt)
	w.bool(p.Rejected)
	w.time(p.WithdrawnAt)
	if w.err != nil {
		return b, w.err
	}
	return w.b, nil
}

type wireEnc struct {
	b   []byte
	err error
}

func (w *wireEnc) str(s string) {
	if !utf8.ValidString(s) {
		w.err = errors.New("text is not valid UTF-8")
	}
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *wireEnc) int(v int) { w.b = binary.AppendVarint(w.b, int64(v)) }

func (w *wireEnc) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *wireEnc) time(t time.Time) {
	_, off := t.Zone()
	if off%60 != 0 {
		// RFC 3339 drops the seconds of an offset (local mean time
		// before 1883, say), and with them JSON moves the instant.
		w.err = errors.New("a zone offset with seconds")
	}
	if off == 0 && t.IsZero() {
		w.b = append(w.b, 2) // most times are unset: one byte, not seven
		return
	}
	if off == 0 {
		w.b = append(w.b, 0)
	} else {
		w.b = append(w.b, 1)
	}
	w.b = binary.AppendVarint(w.b, t.Unix())
	w.b = binary.AppendUvarint(w.b, uint64(t.Nanosecond()))
	if off != 0 {
		w.b = binary.AppendVarint(w.b, int64(off))
	}
}

func (w *wireEnc) list(s []string) {
	if s == nil {
		w.b = append(w.b, 0)
		return
	}
	w.b = binary.AppendUvarint(w.b, uint64(len(s))+1)
	for _, x := range s {
		w.str(x)
	}
}

func (w *wireEnc) counts(c rules.Counts) {
	w.int(c.Hour)
	w.int(c.Day)
	w.int(c.Week)
	w.int(c.Month)
}

func (w *wireEnc) member(m *rules.Member) {
	if m == nil {
		w.b = append(w.b, 0)
		return
	}
	w.b = append(w.b, 1)
	w.str(m.ID)
	w.str(m.Kind)
	w.str(m.Tier)
	w.str(m.Status)
	w.time(m.RestrictedUntil)
	w.int(m.Connections)
	w.str(m.Company)
	w.str(m.School)
	w.counts(m.Sent)
	w.counts(m.Received)
	w.int(m.OverLimit)
	w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(m.AcceptanceRate))
	s := &m.Settings
	w.str(s.Invitations)
	w.list(s.Companies)
	w.list(s.Schools)
	w.bool(s.RequireConfirmation)
	w.list(s.AutoAccept.Companies)
	w.list(s.AutoAccept.Schools)
	w.list(nilIfEmpty(s.Titles)) // JSON omits an empty titles list
	w.list(nilIfEmpty(s.AutoAccept.Titles))
	w.time(m.SoftBannedUntil)
	w.str(m.Title)
}

// DecodeWire decodes a wire request into r, which should be zero. Times
// come back in the zone a JSON round trip would give them.
func DecodeWire(b []byte, r *rules.Request) error {
	return decodeWire(b, r, nil)
}

// decodeWire is DecodeWire that, when c is not nil, decodes the sender
// and the recipient into c's members instead of allocating them (the
// engine reuses them from one request to the next: nothing keeps a
// request past its decision) and reuses the last fixed zone.
func decodeWire(b []byte, r *rules.Request, c *wireCache) error {
	d := wireDec{b: b, c: c}
	if d.byte() != wireVersion {
		return errors.New("wire request: unknown version")
	}
	r.Stage = d.str()
	r.Now = d.time()
	r.Note = d.str()
	r.Sender = d.member(0)
	r.Recipient = d.member(1)
	p := &r.Pair
	p.Connected = d.bool()
	p.Degree = d.int()
	p.Mutual = d.int()
	p.KnowsEmail = d.bool()
	p.InContacts = d.bool()
	p.Blocked = d.bool()
	p.Pending = d.int()
	p.Ignored = d.int()
	p.LastIgnoredAt = d.time()
	p.Rejected = d.bool()
	p.WithdrawnAt = d.time()
	if d.bad || d.i != len(d.b) {
		return errWire
	}
	return nil
}

type wireDec struct {
	b   []byte
	s   string // b as a string, made once on the first string that needs it
	i   int
	bad bool
	c   *wireCache // nil: allocate everything
}

// wireCache is what an Engine reuses from one wire request to the next.
type wireCache struct {
	ms   [2]rules.Member
	zone *time.Location // the last fixed zone made, of offset off
	off  int
}

func (d *wireDec) byte() byte {
	if d.i >= len(d.b) {
		d.bad = true
		return 0
	}
	c := d.b[d.i]
	d.i++
	return c
}

// uvarint and int read one-byte values inline: nearly every value is
// one, and a call costs more than the read inside wazero.
func (d *wireDec) uvarint() uint64 {
	if d.i < len(d.b) && d.b[d.i] < 0x80 {
		d.i++
		return uint64(d.b[d.i-1])
	}
	v, n := binary.Uvarint(d.b[min(d.i, len(d.b)):])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return v
}

func (d *wireDec) int() int {
	if d.i < len(d.b) && d.b[d.i] < 0x80 {
		u := d.b[d.i]
		d.i++
		return int(u>>1) ^ -int(u&1)
	}
	v, n := binary.Varint(d.b[min(d.i, len(d.b)):])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return int(v)
}

func (d *wireDec) bool() bool { return d.byte() == 1 }

func (d *wireDec) str() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)-d.i) {
		d.bad = true
		return ""
	}
	i := d.i
	d.i += int(n)
	if s, ok := internWire(d.b[i:d.i]); ok {
		return s
	}
	// One allocation for all of a request's strings: they share the
	// copy of the whole request, which lives no longer than they do.
	if d.s == "" {
		d.s = string(d.b)
	}
	return d.s[i:d.i]
}

// internWire returns the enumerated values as constants, without allocating.
func internWire(b []byte) (string, bool) {
	switch string(b) {
	case "":
		return "", true
	case rules.StageInvite:
		return rules.StageInvite, true
	case rules.StageDeliver:
		return rules.StageDeliver, true
	case rules.StageAccept:
		return rules.StageAccept, true
	case "person":
		return "person", true
	case "free":
		return "free", true
	case "premium":
		return "premium", true
	case "active":
		return "active", true
	case "everyone":
		return "everyone", true
	}
	return "", false
}

func (d *wireDec) time() time.Time {
	kind := d.byte()
	if kind == 2 {
		return time.Time{}
	}
	sec := int64(d.int())
	nsec := int64(d.uvarint())
	switch kind {
	case 0:
		if sec == -62135596800 && nsec == 0 {
			return time.Time{}
		}
		return time.Unix(sec, nsec).UTC()
	case 1:
		off := d.int()
		t := time.Unix(sec, nsec)
		// As time.Parse does for RFC 3339: the local zone when its
		// offset matches, else a fixed zone.
		if _, lo := t.In(time.Local).Zone(); lo == off {
			return t.In(time.Local)
		}
		if d.c == nil {
			return t.In(time.FixedZone("", off))
		}
		if d.c.zone == nil || d.c.off != off {
			d.c.zone, d.c.off = time.FixedZone("", off), off
		}
		return t.In(d.c.zone)
	}
	d.bad = true
	return time.Time{}
}

func (d *wireDec) list() []string {
	n := d.uvarint()
	if n == 0 || d.bad {
		return nil
	}
	if n-1 > uint64(len(d.b)-d.i) {
		d.bad = true
		return nil
	}
	s := make([]string, 0, n-1)
	for range n - 1 {
		s = append(s, d.str())
	}
	return s
}

func (d *wireDec) counts() rules.Counts {
	return rules.Counts{Hour: d.int(), Day: d.int(), Week: d.int(), Month: d.int()}
}

func (d *wireDec) member(k int) *rules.Member {
	if d.byte() == 0 {
		return nil
	}
	var m *rules.Member
	if d.c != nil {
		m = &d.c.ms[k]
		*m = rules.Member{}
	} else {
		m = &rules.Member{}
	}
	m.ID = d.str()
	m.Kind = d.str()
	m.Tier = d.str()
	m.Status = d.str()
	m.RestrictedUntil = d.time()
	m.Connections = d.int()
	m.Company = d.str()
	m.School = d.str()
	m.Sent = d.counts()
	m.Received = d.counts()
	m.OverLimit = d.int()
	if d.i+8 > len(d.b) {
		d.bad = true
		return m
	}
	m.AcceptanceRate = math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.i:]))
	d.i += 8
	s := &m.Settings
	s.Invitations = d.str()
	s.Companies = d.list()
	s.Schools = d.list()
	s.RequireConfirmation = d.bool()
	s.AutoAccept.Companies = d.list()
	s.AutoAccept.Schools = d.list()
	s.Titles = d.list()
	s.AutoAccept.Titles = d.list()
	m.SoftBannedUntil = d.time()
	m.Title = d.str()
	return m
}

func nilIfEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}
