package guest

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
	"unicode/utf8"
	"unsafe"

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
// come back in the zone a JSON round trip would give them. The strings are
// copies: r does not alias b.
func DecodeWire(b []byte, r *rules.Request) error {
	return decodeWire(b, r, nil)
}

// decodeWire is DecodeWire that, when c is not nil, reuses c from one
// request to the next instead of allocating: the sender and the recipient
// are c's members, lists reuse c's slices, the last fixed zone is kept,
// and strings alias b instead of copying it. A decision ends before the
// engine's next call, which is the only thing that writes b again, and
// nothing keeps a request or its strings past its decision (the guest
// engine encodes the decision before it returns), so the aliases never
// see b change; the wazero corpus, which decides every request of the
// corpus in one reused buffer, checks the answers. A decode in the engine
// allocates nothing.
func decodeWire(b []byte, r *rules.Request, c *wireCache) error {
	d := wireDec{b: b, c: c}
	if len(b) == 0 || b[0] != wireVersion {
		return errors.New("wire request: unknown version")
	}
	d.i = 1
	r.Stage = d.str()
	r.Now = d.time()
	r.Note = d.str()
	r.Sender = d.member(0)
	r.Recipient = d.member(1)
	r.Pair = rules.Pair{
		Connected:     d.bool(),
		Degree:        d.int(),
		Mutual:        d.int(),
		KnowsEmail:    d.bool(),
		InContacts:    d.bool(),
		Blocked:       d.bool(),
		Pending:       d.int(),
		Ignored:       d.int(),
		LastIgnoredAt: d.time(),
		Rejected:      d.bool(),
		WithdrawnAt:   d.time(),
	}
	if d.bad || d.i != len(d.b) {
		return errWire
	}
	return nil
}

type wireDec struct {
	b   []byte
	s   string // b as a string, made once on the first string that needs it (c == nil)
	i   int
	bad bool
	c   *wireCache // nil: allocate everything
}

// wireCache is what an Engine reuses from one wire request to the next.
type wireCache struct {
	ms    [2]rules.Member
	lists [2][6][]string // each member's lists, reused
	zone  *time.Location // the last fixed zone made, of offset off
	off   int
}

func (d *wireDec) byte() byte {
	if d.i < len(d.b) {
		c := d.b[d.i]
		d.i++
		return c
	}
	d.bad = true
	return 0
}

// uvarint and int read one-byte values inline: nearly every value is
// one, and a call costs more than the read inside wazero.
func (d *wireDec) uvarint() uint64 {
	if i := d.i; uint(i) < uint(len(d.b)) {
		if u := d.b[i]; u < 0x80 {
			d.i = i + 1
			return uint64(u)
		}
	}
	return d.uvarintSlow()
}

func (d *wireDec) uvarintSlow() uint64 {
	v, n := binary.Uvarint(d.b[min(d.i, len(d.b)):])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return v
}

func (d *wireDec) int() int {
	if i := d.i; uint(i) < uint(len(d.b)) {
		if u := d.b[i]; u < 0x80 {
			d.i = i + 1
			return int(u>>1) ^ -int(u&1)
		}
	}
	return d.intSlow()
}

func (d *wireDec) intSlow() int {
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
	if n == 0 {
		return ""
	}
	return d.strN(n)
}

func (d *wireDec) strN(n uint64) string {
	if n > uint64(len(d.b)-d.i) {
		d.bad = true
		return ""
	}
	i := d.i
	d.i += int(n)
	if d.c != nil {
		return unsafe.String(&d.b[i], int(n)) // see decodeWire
	}
	// One allocation for all of a request's strings: they share the
	// copy of the whole request, which lives no longer than they do.
	if d.s == "" {
		d.s = string(d.b)
	}
	return d.s[i:d.i]
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

// list decodes a list, into the storage of ls[j] when there is a cache
// (ls is nil without one).
func (d *wireDec) list(ls *[6][]string, j int) []string {
	n := d.uvarint()
	if n == 0 || d.bad {
		return nil
	}
	if n-1 > uint64(len(d.b)-d.i) {
		d.bad = true
		return nil
	}
	var s []string
	if ls != nil {
		s = ls[j][:0]
	}
	if s == nil {
		s = make([]string, 0, n-1) // a list that is set but empty is not nil
	}
	for range n - 1 {
		s = append(s, d.str())
	}
	if ls != nil {
		ls[j] = s
	}
	return s
}

func (d *wireDec) member(k int) *rules.Member {
	if d.byte() == 0 {
		return nil
	}
	var m *rules.Member
	var ls *[6][]string
	if d.c != nil {
		m, ls = &d.c.ms[k], &d.c.lists[k]
	} else {
		m = &rules.Member{}
	}
	// Every field, in the wire's order (a composite literal's calls run
	// left to right): no separate clearing of the reused member.
	*m = rules.Member{
		ID:              d.str(),
		Kind:            d.str(),
		Tier:            d.str(),
		Status:          d.str(),
		RestrictedUntil: d.time(),
		Connections:     d.int(),
		Company:         d.str(),
		School:          d.str(),
		Sent:            rules.Counts{Hour: d.int(), Day: d.int(), Week: d.int(), Month: d.int()},
		Received:        rules.Counts{Hour: d.int(), Day: d.int(), Week: d.int(), Month: d.int()},
		OverLimit:       d.int(),
		AcceptanceRate:  d.float(),
	}
	s := &m.Settings
	s.Invitations = d.str()
	s.Companies = d.list(ls, 0)
	s.Schools = d.list(ls, 1)
	s.RequireConfirmation = d.bool()
	s.AutoAccept.Companies = d.list(ls, 2)
	s.AutoAccept.Schools = d.list(ls, 3)
	s.Titles = d.list(ls, 4)
	s.AutoAccept.Titles = d.list(ls, 5)
	m.SoftBannedUntil = d.time()
	m.Title = d.str()
	return m
}

func (d *wireDec) float() float64 {
	if d.i+8 > len(d.b) {
		d.bad = true
		return 0
	}
	d.i += 8
	return math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.i-8:]))
}

func nilIfEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}
