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

// The wire format is a compact, fixed-layout encoding of rules.Request
// that host/ uses instead of JSON (decide flag FlagWire): decoding it
// inside the module costs a fraction of decoding JSON. It carries exactly
// what a JSON round trip carries, so a request decides the same either
// way; the corpus checks it.
//
// A request is a header of wireHeader bytes, every field at a fixed
// place, then the bytes of its strings, which the header points at:
//
//	request  = version(1) string(stage) time(now) string(note) member(sender) member(recipient) pair
//	member   = present(1) string(id) string(kind) string(tier) string(status) time(restricted_until)
//	           int(connections) string(company) string(school) counts(sent) counts(received)
//	           int(over_limit) float(acceptance_rate) settings time(soft_banned_until) string(title)
//	           (an absent member is present 0 and zeros)
//	settings = string(invitations) list(companies) list(schools) bool(require_confirmation)
//	           list(auto_accept.companies) list(auto_accept.schools) list(titles) list(auto_accept.titles)
//	pair     = bool(connected) int(degree) int(mutual) bool(knows_email) bool(in_contacts)
//	           bool(blocked) int(pending) int(ignored) time(last_ignored_at) bool(rejected) time(withdrawn_at)
//	counts   = int(hour) int(day) int(week) int(month)
//	time     = kind(1) int(unix seconds) u32(nanoseconds) i32(offset seconds)
//	           kind 0: offset zero, as "Z" in JSON; 1: with the offset; 2: the zero time
//	string   = u32(offset from the request's first byte) u32(length)
//	list     = u32(0) u32(0) for null | u32(offset of n strings) u32(n+1)
//	int      = 8 bytes;  float = 8 bytes IEEE 754;  all little-endian
//
// Fixed places cost a few hundred bytes more to copy than varints, but
// every read is an inline load, not a call: the Go compiler's wasm output
// pays dearly for calls, and varint readers with a slow path do not
// inline (RATIONALE, "Where does a call's time go in wazero now?").
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

// 2: soft_banned_until, title and the titles lists; 3: time kind 2;
// 4: the fixed layout.
const wireVersion = 4

// Sizes of the fixed layout.
const (
	wireTime    = 1 + 8 + 4 + 4
	wireString  = 8
	wireMember  = 1 + 4*wireString + wireTime + 8 + 2*wireString + 2*4*8 + 8 + 8 + wireString + 6*wireString + 1 + wireTime + wireString
	wirePair    = 1 + 8 + 8 + 1 + 1 + 1 + 8 + 8 + wireTime + 1 + wireTime
	wireHeader  = 1 + wireString + wireTime + wireString + 2*wireMember + wirePair
	maxWireSize = math.MaxUint32
)

var errWire = errors.New("malformed wire request")

// AppendWire appends req in the wire format. It fails where JSON would
// carry the request changed: text that is not UTF-8 (JSON would replace
// the bad bytes) or a zone offset with seconds; the caller then sends
// JSON. Values JSON cannot carry at all (a time past year 9999, a NaN
// acceptance rate) go as they are, and the guest's validation refuses
// them as invalid_request, as a native Decide does.
func AppendWire(b []byte, r *rules.Request) ([]byte, error) {
	base := len(b)
	b = append(b, wireVersion)
	b = append(b, make([]byte, wireHeader-1)...)
	w := fixedEnc{b: b, base: base, o: base + 1}
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
	if w.o != base+wireHeader {
		panic("guest: the wire header's size is wrong") // a bug in this file; TestWire* catch it
	}
	if w.err == nil && len(w.b)-base > maxWireSize {
		w.err = errors.New("request too large for the wire format")
	}
	if w.err != nil {
		return b[:base], w.err
	}
	return w.b, nil
}

// fixedEnc writes the header at o and the strings at the end of b.
type fixedEnc struct {
	b       []byte
	base, o int
	err     error
}

func (w *fixedEnc) u32(v uint32) {
	binary.LittleEndian.PutUint32(w.b[w.o:], v)
	w.o += 4
}

func (w *fixedEnc) int(v int) {
	binary.LittleEndian.PutUint64(w.b[w.o:], uint64(v))
	w.o += 8
}

func (w *fixedEnc) bool(v bool) {
	if v {
		w.b[w.o] = 1
	}
	w.o++
}

func (w *fixedEnc) str(s string) {
	if !utf8.ValidString(s) {
		w.err = errors.New("text is not valid UTF-8")
	}
	w.ref(len(w.b)-w.base, len(s))
	w.b = append(w.b, s...)
}

func (w *fixedEnc) ref(off, n int) {
	w.u32(uint32(off))
	w.u32(uint32(n))
}

func (w *fixedEnc) time(t time.Time) {
	_, off := t.Zone()
	if off%60 != 0 {
		// RFC 3339 drops the seconds of an offset (local mean time
		// before 1883, say), and with them JSON moves the instant.
		w.err = errors.New("a zone offset with seconds")
	}
	switch {
	case off == 0 && t.IsZero():
		w.b[w.o] = 2 // the rest stays zero
		w.o += wireTime
		return
	case off != 0:
		w.b[w.o] = 1
	}
	w.o++
	w.int(int(t.Unix()))
	w.u32(uint32(t.Nanosecond()))
	w.u32(uint32(int32(off)))
}

func (w *fixedEnc) list(s []string) {
	if s == nil {
		w.ref(0, 0)
		return
	}
	at := len(w.b)
	w.ref(at-w.base, len(s)+1)
	w.b = append(w.b, make([]byte, wireString*len(s))...)
	o := w.o
	w.o = at
	for _, x := range s {
		w.str(x) // the refs at at, the bytes at the end
	}
	w.o = o
}

func (w *fixedEnc) member(m *rules.Member) {
	if m == nil {
		w.o += wireMember
		return
	}
	w.bool(true)
	w.str(m.ID)
	w.str(m.Kind)
	w.str(m.Tier)
	w.str(m.Status)
	w.time(m.RestrictedUntil)
	w.int(m.Connections)
	w.str(m.Company)
	w.str(m.School)
	for _, c := range []*rules.Counts{&m.Sent, &m.Received} {
		w.int(c.Hour)
		w.int(c.Day)
		w.int(c.Week)
		w.int(c.Month)
	}
	w.int(m.OverLimit)
	binary.LittleEndian.PutUint64(w.b[w.o:], math.Float64bits(m.AcceptanceRate))
	w.o += 8
	s := &m.Settings
	w.str(s.Invitations)
	w.list(s.Companies)
	w.list(s.Schools)
	w.list(s.AutoAccept.Companies)
	w.list(s.AutoAccept.Schools)
	w.list(nilIfEmpty(s.Titles)) // JSON omits an empty titles list
	w.list(nilIfEmpty(s.AutoAccept.Titles))
	w.bool(s.RequireConfirmation)
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
	if len(b) < wireHeader || b[0] != wireVersion {
		return errWire
	}
	d := fixedDec{b: b, c: c}
	h := (*[wireHeader]byte)(b)
	r.Stage = d.str(h[hStage:])
	r.Now = d.time(h[hNow:])
	r.Note = d.str(h[hNote:])
	r.Sender = d.member((*[wireMember]byte)(h[hSender:]), 0)
	r.Recipient = d.member((*[wireMember]byte)(h[hRecipient:]), 1)
	p := (*[wirePair]byte)(h[hPair:])
	r.Pair = rules.Pair{
		Connected:     p[pConnected] == 1,
		Degree:        le64(p[pDegree:]),
		Mutual:        le64(p[pMutual:]),
		KnowsEmail:    p[pKnowsEmail] == 1,
		InContacts:    p[pInContacts] == 1,
		Blocked:       p[pBlocked] == 1,
		Pending:       le64(p[pPending:]),
		Ignored:       le64(p[pIgnored:]),
		LastIgnoredAt: d.time(p[pLastIgnored:]),
		Rejected:      p[pRejected] == 1,
		WithdrawnAt:   d.time(p[pWithdrawn:]),
	}
	if d.bad {
		return errWire
	}
	return nil
}

// Where each field is, in the header, a member and the pair: what
// AppendWire writes in order. Reads at constant places compile to single
// loads with no bounds checks.
const (
	hStage     = 1
	hNow       = hStage + wireString
	hNote      = hNow + wireTime
	hSender    = hNote + wireString
	hRecipient = hSender + wireMember
	hPair      = hRecipient + wireMember

	mID                  = 1 // after present
	mKind                = mID + wireString
	mTier                = mKind + wireString
	mStatus              = mTier + wireString
	mRestricted          = mStatus + wireString
	mConnections         = mRestricted + wireTime
	mCompany             = mConnections + 8
	mSchool              = mCompany + wireString
	mSent                = mSchool + wireString
	mReceived            = mSent + 4*8
	mOverLimit           = mReceived + 4*8
	mRate                = mOverLimit + 8
	mInvitations         = mRate + 8
	mLists               = mInvitations + wireString
	mRequireConfirmation = mLists + 6*wireString
	mSoftBanned          = mRequireConfirmation + 1
	mTitle               = mSoftBanned + wireTime
	mEnd                 = mTitle + wireString

	pConnected   = 0
	pDegree      = 1
	pMutual      = pDegree + 8
	pKnowsEmail  = pMutual + 8
	pInContacts  = pKnowsEmail + 1
	pBlocked     = pInContacts + 1
	pPending     = pBlocked + 1
	pIgnored     = pPending + 8
	pLastIgnored = pIgnored + 8
	pRejected    = pLastIgnored + wireTime
	pWithdrawn   = pRejected + 1
	pEnd         = pWithdrawn + wireTime
)

// The places add up to the sizes (a compile error otherwise).
var _ = [1]struct{}{}[mEnd-wireMember]
var _ = [1]struct{}{}[pEnd-wirePair]
var _ = [1]struct{}{}[hPair+wirePair-wireHeader]

func le64(b []byte) int    { return int(binary.LittleEndian.Uint64(b)) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// fixedDec reads a request's strings and lists out of b.
type fixedDec struct {
	b   []byte
	s   string // b as a string, made once on the first string that needs it (c == nil)
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

// str reads the string whose reference starts p.
func (d *fixedDec) str(p []byte) string { return d.strAt(le32(p), le32(p[4:])) }

func (d *fixedDec) strAt(off, n uint32) string {
	if n == 0 {
		return ""
	}
	end := uint64(off) + uint64(n)
	if end > uint64(len(d.b)) {
		d.bad = true
		return ""
	}
	if d.c != nil {
		return unsafe.String(&d.b[off], int(n)) // see decodeWire
	}
	// One allocation for all of a request's strings: they share the
	// copy of the whole request, which lives no longer than they do.
	if d.s == "" {
		d.s = string(d.b)
	}
	return d.s[off:end]
}

// time reads the time that starts p; the zero time, the usual one, inline.
func (d *fixedDec) time(p []byte) time.Time {
	if p[0] == 2 {
		return time.Time{}
	}
	return d.timeSet(p)
}

func (d *fixedDec) timeSet(p []byte) time.Time {
	p = p[:wireTime]
	sec, nsec, off := int64(le64(p[1:])), int64(le32(p[9:])), int(int32(le32(p[13:])))
	switch p[0] {
	case 0:
		if sec == -62135596800 && nsec == 0 {
			return time.Time{}
		}
		return time.Unix(sec, nsec).UTC()
	case 1:
		if off == 0 {
			break // kind 1 is for an offset; AppendWire writes no other
		}
		t := time.Unix(sec, nsec)
		// As time.Parse does for RFC 3339: the local zone when its
		// offset matches, else a fixed zone.
		if !localIsUTC {
			if _, lo := t.In(time.Local).Zone(); lo == off {
				return t.In(time.Local)
			}
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

// listSet decodes a list that is not null (member reads null ones inline),
// into the storage of ls[j] when there is a cache (ls is nil without one).
func (d *fixedDec) listSet(ls *[6][]string, j int, off, n uint32) []string {
	n--
	if uint64(off)+uint64(n)*wireString > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	var s []string
	if ls != nil {
		s = ls[j][:0]
	}
	if s == nil {
		s = make([]string, 0, n) // a list that is set but empty is not nil
	}
	for k := range n {
		at := off + k*wireString
		s = append(s, d.strAt(binary.LittleEndian.Uint32(d.b[at:]), binary.LittleEndian.Uint32(d.b[at+4:])))
	}
	if ls != nil {
		ls[j] = s
	}
	return s
}

func (d *fixedDec) member(p *[wireMember]byte, k int) *rules.Member {
	if p[0] != 1 {
		return nil
	}
	var m *rules.Member
	var ls *[6][]string
	if d.c != nil {
		m, ls = &d.c.ms[k], &d.c.lists[k]
	} else {
		m = &rules.Member{}
	}
	// Every field: no separate clearing of the reused member.
	*m = rules.Member{
		ID:              d.str(p[mID:]),
		Kind:            d.str(p[mKind:]),
		Tier:            d.str(p[mTier:]),
		Status:          d.str(p[mStatus:]),
		RestrictedUntil: d.time(p[mRestricted:]),
		SoftBannedUntil: d.time(p[mSoftBanned:]),
		Connections:     le64(p[mConnections:]),
		Company:         d.str(p[mCompany:]),
		School:          d.str(p[mSchool:]),
		Title:           d.str(p[mTitle:]),
		Sent:            rules.Counts{Hour: le64(p[mSent:]), Day: le64(p[mSent+8:]), Week: le64(p[mSent+16:]), Month: le64(p[mSent+24:])},
		Received:        rules.Counts{Hour: le64(p[mReceived:]), Day: le64(p[mReceived+8:]), Week: le64(p[mReceived+16:]), Month: le64(p[mReceived+24:])},
		OverLimit:       le64(p[mOverLimit:]),
		AcceptanceRate:  math.Float64frombits(uint64(le64(p[mRate:]))),
		Settings: rules.Settings{
			Invitations:         d.str(p[mInvitations:]),
			RequireConfirmation: p[mRequireConfirmation] == 1,
		},
	}
	s := &m.Settings
	for j, l := range [6]*[]string{&s.Companies, &s.Schools, &s.AutoAccept.Companies, &s.AutoAccept.Schools, &s.Titles, &s.AutoAccept.Titles} {
		q := p[mLists+j*wireString:]
		if n := le32(q[4:]); n != 0 {
			*l = d.listSet(ls, j, le32(q), n)
		}
	}
	return m
}

// The varint encoding below is a decision's (wireout.go): a decision is
// short, and the host, not the guest, decodes it.

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

// rawStr is str without the UTF-8 check (see appendWireDecision).
func (w *wireEnc) rawStr(s string) {
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

type wireDec struct {
	b   []byte
	s   string // b as a string, made once on the first string that needs it
	i   int
	bad bool
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
		if _, lo := t.In(time.Local).Zone(); lo == off {
			return t.In(time.Local)
		}
		return t.In(time.FixedZone("", off))
	}
	d.bad = true
	return time.Time{}
}

func nilIfEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}
