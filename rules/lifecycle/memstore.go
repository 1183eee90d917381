package lifecycle

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/connrules/connrules/rules/lifecycle/internal/sorted"
)

// MemStore is the in-memory [Store]. Member ids are interned: each member
// (and each id a connection names) gets a dense int32 node number once,
// and everything else (counters, adjacency lists, pair records, pending
// invitations, blocks) is reached by node number, not by hashing strings.
// On a network larger than the processor's cache, an invitation's cost is
// mostly cache misses, so the layout counts them: the id index reads one
// slot per id, a node holds its rolling hour inline, and Snapshot fetches
// both members' nodes at once (see RATIONALE.md, "Why does MemStore
// count cache misses?").
//
// One read-write lock guards the state: reads, [MemStore.Snapshot]
// included, share it, and every conditional write ([MemStore.Reserve],
// [MemStore.AcceptInvitation], [MemStore.CloseInvitation],
// [MemStore.CountOverLimit], [MemStore.UpdateInvitation],
// [MemStore.PutMember]) holds it exclusively for its whole check
// and write, which is what makes each one atomic. The event log has a lock
// of its own.
type MemStore struct {
	mu      sync.RWMutex
	ids     idIndex
	nodes   []memNode
	adj     [][]int32 // adj[i]: sorted node numbers of node i's connections
	byEmail map[string]int32
	pairs   pairTable
	// invs holds the invitations in chunks of invChunk, so that storing
	// the millionth never copies the first: invitation k (0-based), named
	// "inv-<k+1>", is invs[k/invChunk][k%invChunk].
	invs  [][]Invitation
	ninvs int
	// prevSent, chunked like invs, holds for invitation k 1 + the index of
	// its sender's previous invitation (0 if none): a list per sender that
	// costs no allocation per invitation.
	prevSent [][]int32
	// idBuf holds the bytes of invitation ids and slab the first entry of
	// pairs' pending lists, handed out in pieces so that storing an
	// invitation allocates nothing of its own (see newID and one).
	idBuf []byte
	slab  []int32

	emu      sync.Mutex
	events   []Event
	dropLog  atomic.Bool
	eventSeq uint64

	bits sync.Pool // *[]uint64 scratch bitsets for the degree search
}

// memNode is one interned id: a member once PutMember stored one, plus its
// counters, connections and imported contacts.
type memNode struct {
	exists bool // first, on the cache line of m.ID, which a lookup reads
	// pairsTo has the bit pairBit(to) set for every pair record from this
	// node (it is never cleared): a clear bit spares Snapshot a lookup in
	// the pairs table.
	pairsTo uint64
	m       Member
	email   string // m.Email, lower case
	seq     uint64
	recvSeq uint64
	sent    counters
	recv    counters
	over    winCount // over-limit attempts, in the week window
	blocks  int      // blocks this member made or received
	// contacts are imported emails, lower case.
	contacts map[string]struct{}
	// lastSent is 1 + the index into invs of the member's latest
	// invitation, 0 if none; prevSent chains it to the earlier ones.
	lastSent int32
}

// touch reads one word of each cache line of the node. Its loads do not
// depend on each other, so the processor fetches the lines together: on
// a network larger than the cache, reading the node field by field would
// wait for one miss after another. Callers pass the sum to
// runtime.KeepAlive, so the compiler keeps the loads.
func (nd *memNode) touch() uint64 {
	p := unsafe.Pointer(nd)
	var x uint64
	for off := uintptr(0); off+8 <= unsafe.Sizeof(*nd); off += 64 {
		x += *(*uint64)(unsafe.Add(p, off))
	}
	return x
}

// touchList reads the first and the last entry of l, like touch: the
// mutual count reads both adjacency lists next.
func touchList(l []int32) uint64 {
	if len(l) == 0 {
		return 0
	}
	return uint64(l[0]) + uint64(l[len(l)-1])
}

// memPair is the state of an ordered pair of nodes.
type memPair struct {
	rec     PairRecord
	blocked bool    // from blocked to
	pending []int32 // indexes into invs of pending invitations, oldest first
	// hidden are the indexes of invitations closed out of the sender's
	// sight that the sender has not withdrawn, oldest first.
	hidden []int32
}

func (p *memPair) empty() bool {
	return !p.blocked && len(p.pending) == 0 && len(p.hidden) == 0 && p.rec == PairRecord{}
}

func pairOf(from, to int32) uint64 { return uint64(uint32(from))<<32 | uint64(uint32(to)) }

// pairBit is to's bit in a node's pairsTo.
func pairBit(to int32) uint64 { return 1 << (uint32(to) * 0x9e3779b1 >> 26) }

// setPair stores the pair record of k, or drops it when it is empty.
// s.mu must be held for writing.
func (s *MemStore) setPair(k uint64, p memPair) {
	s.nodes[int32(k>>32)].pairsTo |= pairBit(int32(uint32(k)))
	s.pairs.put(k, p)
}

type winCount struct {
	start int64 // UnixNano of the window start
	n     int
}

func (c winCount) in(start time.Time) int {
	if c.start == start.UnixNano() {
		return c.n
	}
	return 0
}

// ahead reports whether the counter holds a window later than start: a
// write in start would make it go back.
func (c winCount) ahead(start time.Time) bool { return c.n > 0 && c.start > start.UnixNano() }

func (c *winCount) inc(start time.Time) {
	s := start.UnixNano()
	if c.start != s {
		c.start, c.n = s, 0
	}
	c.n++
}

// counters are one direction's counts. The rolling hour keeps the send
// times inside the hour.
type counters struct {
	day, week, month winCount
	hour             hourLog
}

// hourInline is how many send times of the rolling hour a counter keeps
// inside its node. A member rarely sends more in an hour, so reading the
// hour costs no pointer chase (a cache miss on a large network).
const hourInline = 3

// hourLog is the send times inside the rolling hour, oldest first: in
// inl[:n], or all in ext once there are more than hourInline.
type hourLog struct {
	n   int32
	inl [hourInline]int64
	ext []int64
}

func (h *hourLog) times() []int64 {
	if h.ext != nil {
		return h.ext
	}
	return h.inl[:h.n]
}

// add drops the times not after after and appends t.
func (h *hourLog) add(after, t int64) {
	if h.ext == nil {
		k := 0
		for _, x := range h.inl[:h.n] {
			if x > after {
				h.inl[k] = x
				k++
			}
		}
		if k < hourInline {
			h.inl[k], h.n = t, int32(k+1)
			return
		}
		h.ext, h.n = append(make([]int64, 0, 2*hourInline+2), h.inl[:k]...), 0
	} else {
		keep := h.ext[:0]
		for _, x := range h.ext {
			if x > after {
				keep = append(keep, x)
			}
		}
		if len(keep) < hourInline {
			h.n, h.ext = int32(copy(h.inl[:], keep)), nil
			h.inl[h.n] = t
			h.n++
			return
		}
		h.ext = keep
	}
	h.ext = append(h.ext, t)
}

func (c *counters) read(w Windows) (n [4]int, oldest time.Time) {
	h := w.Hour.UnixNano()
	now := w.Now.UnixNano()
	for _, t := range c.hour.times() {
		if t > h && t <= now {
			if n[0] == 0 {
				oldest = time.Unix(0, t)
			}
			n[0]++
		}
	}
	return [4]int{n[0], c.day.in(w.Day), c.week.in(w.Week), c.month.in(w.Month)}, oldest
}

// ahead reports whether a day, week or month counter holds a window later
// than w's.
func (c *counters) ahead(w Windows) bool {
	return c.day.ahead(w.Day) || c.week.ahead(w.Week) || c.month.ahead(w.Month)
}

func (c *counters) add(w Windows) {
	c.hour.add(w.Hour.UnixNano(), w.Now.UnixNano())
	c.day.inc(w.Day)
	c.week.inc(w.Week)
	c.month.inc(w.Month)
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{
		byEmail: map[string]int32{},
	}
}

// DiscardEvents makes the store keep no events, for long benchmarks: a
// [Network] then builds none (see [EventDiscarder]), and events appended
// anyway are numbered and dropped. The default keeps every event.
func (s *MemStore) DiscardEvents() {
	s.emu.Lock()
	s.dropLog.Store(true)
	s.events = nil
	s.emu.Unlock()
}

// DiscardsEvents implements [EventDiscarder].
func (s *MemStore) DiscardsEvents() bool { return s.dropLog.Load() }

func notFound(what, id string) error { return fmt.Errorf("%s %q: %w", what, id, ErrNotFound) }

// member returns the node of a stored member. s.mu must be held.
func (s *MemStore) member(id string) (int32, bool) {
	i, ok := s.lookup(id)
	if !ok || !s.nodes[i].exists {
		return -1, false
	}
	return i, true
}

// lookup returns the node of id, a member or an id a connection named.
// s.mu must be held.
func (s *MemStore) lookup(id string) (int32, bool) {
	i := s.ids.find(id, s.nodes)
	return i, i >= 0
}

// intern returns the node of id, creating it. s.mu must be held for writing.
func (s *MemStore) intern(id string) int32 {
	if i, ok := s.lookup(id); ok {
		return i
	}
	i := int32(len(s.nodes))
	s.nodes = append(s.nodes, memNode{m: Member{ID: id}})
	s.ids.add(id, i, s.nodes)
	s.adj = append(s.adj, nil)
	return i
}

// Member implements [Store].
func (s *MemStore) Member(_ context.Context, id string) (Member, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.member(id)
	if !ok {
		return Member{}, notFound("member", id)
	}
	return cloneMember(s.nodes[i].m), nil
}

func cloneMember(m Member) Member {
	m.Settings.Companies = slices.Clone(m.Settings.Companies)
	m.Settings.Schools = slices.Clone(m.Settings.Schools)
	m.Settings.AutoAccept.Companies = slices.Clone(m.Settings.AutoAccept.Companies)
	m.Settings.AutoAccept.Schools = slices.Clone(m.Settings.AutoAccept.Schools)
	m.Settings.Titles = slices.Clone(m.Settings.Titles)
	m.Settings.AutoAccept.Titles = slices.Clone(m.Settings.AutoAccept.Titles)
	return m
}

// MemberByEmail implements [Store].
func (s *MemStore) MemberByEmail(_ context.Context, email string) (Member, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.byEmail[strings.ToLower(email)]
	if !ok {
		return Member{}, notFound("member with email", email)
	}
	return cloneMember(s.nodes[i].m), nil
}

// PutMember implements [Store].
func (s *MemStore) PutMember(_ context.Context, m Member) error {
	m = cloneMember(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	var stored uint64
	if i, ok := s.member(m.ID); ok {
		stored = s.nodes[i].m.Version
	}
	if m.Version != 0 && m.Version != stored {
		return fmt.Errorf("member %q: version %d, stored %d: %w", m.ID, m.Version, stored, ErrConflict)
	}
	i := s.intern(m.ID)
	nd := &s.nodes[i]
	if nd.exists {
		if nd.email != "" && s.byEmail[nd.email] == i {
			delete(s.byEmail, nd.email)
		}
		m.RestrictedUntil, m.Answered, m.Accepted = nd.m.RestrictedUntil, nd.m.Answered, nd.m.Accepted
	}
	m.Version = stored + 1
	nd.m, nd.exists, nd.email = m, true, strings.ToLower(m.Email)
	if nd.email != "" {
		s.byEmail[nd.email] = i
	}
	return nil
}

// Restrict implements [Store].
func (s *MemStore) Restrict(_ context.Context, id string, until time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.member(id)
	if !ok {
		return time.Time{}, notFound("member", id)
	}
	m := &s.nodes[i].m
	if until.After(m.RestrictedUntil) {
		m.RestrictedUntil = until
	}
	return m.RestrictedUntil, nil
}

func (nd *memNode) recordAnswer(accepted bool) {
	nd.m.Answered++
	if accepted {
		nd.m.Accepted++
	}
}

func insertSorted(l []int32, v int32) ([]int32, bool) {
	i, found := slices.BinarySearch(l, v)
	if found {
		return l, false
	}
	return slices.Insert(l, i, v), true
}

func removeSorted(l []int32, v int32) ([]int32, bool) {
	i, found := slices.BinarySearch(l, v)
	if !found {
		return l, false
	}
	return slices.Delete(l, i, i+1), true
}

// Connect implements [Store].
func (s *MemStore) Connect(_ context.Context, a, b string) error {
	if a == b {
		return fmt.Errorf("connect %q to itself", a)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connect(s.intern(a), s.intern(b))
	return nil
}

func (s *MemStore) connect(ia, ib int32) {
	s.adj[ia], _ = insertSorted(s.adj[ia], ib)
	s.adj[ib], _ = insertSorted(s.adj[ib], ia)
}

// Disconnect implements [Store].
func (s *MemStore) Disconnect(_ context.Context, a, b string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ia, oka := s.lookup(a)
	ib, okb := s.lookup(b)
	if !oka || !okb {
		return false, nil
	}
	var had bool
	s.adj[ia], had = removeSorted(s.adj[ia], ib)
	s.adj[ib], _ = removeSorted(s.adj[ib], ia)
	return had, nil
}

// ConnectionCount implements [Store].
func (s *MemStore) ConnectionCount(_ context.Context, id string) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.lookup(id)
	if !ok {
		return 0, nil
	}
	return len(s.adj[i]), nil
}

// Connections lists a member's connections, sorted by id.
func (s *MemStore) Connections(id string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.lookup(id)
	if !ok {
		return nil
	}
	names := make([]string, 0, len(s.adj[i]))
	for _, j := range s.adj[i] {
		names = append(names, s.nodes[j].m.ID)
	}
	sort.Strings(names)
	return names
}

// Relation implements [Store].
func (s *MemStore) Relation(_ context.Context, a, b string, budget int) (int, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ia, oka := s.lookup(a)
	ib, okb := s.lookup(b)
	if !oka || !okb {
		return 0, 0, nil
	}
	d, m := s.relation(ia, ib, budget)
	return d, m, nil
}

// relation is a bounded search over sorted adjacency lists. Mutual
// connections are the intersection of the two lists. Degree 3 is looked
// for only when there is no mutual connection: the larger side's
// connections are marked in a bitset (one bit per node, 12.5 KB for 100k
// members, so it stays in the L1 cache), then the connections of each of
// the smaller side's connections are checked against it, until one is
// marked or the budget of adjacency entries runs out. s.mu must be held.
func (s *MemStore) relation(ia, ib int32, budget int) (degree, mutual int) {
	if ia == ib {
		return 0, 0
	}
	A, B := s.adj[ia], s.adj[ib]
	mutual, cost := sorted.IntersectCount(A, B)
	budget -= cost
	if _, connected := slices.BinarySearch(A, ib); connected {
		return 1, mutual
	}
	if mutual > 0 {
		return 2, mutual
	}
	if len(A) > len(B) {
		A, B = B, A
	}
	if len(A) == 0 || budget <= 0 {
		return 0, 0
	}
	bp := s.bitset()
	bits := *bp
	for _, y := range B {
		bits[y>>6] |= 1 << (uint32(y) & 63)
	}
	budget -= len(B)
	found := false
	for _, x := range A {
		if budget <= 0 {
			break
		}
		l := s.adj[x]
		budget -= len(l)
		for _, z := range l {
			if bits[z>>6]&(1<<(uint32(z)&63)) != 0 {
				found = true
				break
			}
		}
		if found {
			break
		}
	}
	for _, y := range B {
		bits[y>>6] = 0
	}
	s.bits.Put(bp)
	if found {
		return 3, 0
	}
	return 0, 0
}

// bitset returns a cleared scratch bitset with a bit for every node.
// s.mu must be held (the node count must not change while it is used).
func (s *MemStore) bitset() *[]uint64 {
	words := (len(s.nodes) + 63) / 64
	if bp, _ := s.bits.Get().(*[]uint64); bp != nil && len(*bp) >= words {
		return bp
	}
	b := make([]uint64, words+words/4)
	return &b
}

// AddContacts implements [Store].
func (s *MemStore) AddContacts(_ context.Context, owner string, emails []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	nd := &s.nodes[s.intern(owner)]
	if nd.contacts == nil {
		nd.contacts = map[string]struct{}{}
	}
	for _, e := range emails {
		nd.contacts[strings.ToLower(e)] = struct{}{}
	}
	return nil
}

// HasContact implements [Store].
func (s *MemStore) HasContact(_ context.Context, owner, email string) (bool, error) {
	if email == "" {
		return false, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.lookup(owner)
	if !ok {
		return false, nil
	}
	_, ok = s.nodes[i].contacts[strings.ToLower(email)]
	return ok, nil
}

// SetBlock implements [Store]. A block bumps both members' Seq, so an
// invitation decided before the block cannot commit after it.
func (s *MemStore) SetBlock(_ context.Context, blocker, blocked string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, b := s.intern(blocker), s.intern(blocked)
	k := pairOf(a, b)
	p, _ := s.pairs.get(k)
	if p.blocked != on {
		d := 1
		if !on {
			d = -1
		}
		s.nodes[a].blocks += d
		s.nodes[b].blocks += d
	}
	p.blocked = on
	s.setPair(k, p)
	s.nodes[a].seq++
	s.nodes[b].seq++
	return nil
}

// Blocked implements [Store].
func (s *MemStore) Blocked(_ context.Context, a, b string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ia, oka := s.lookup(a)
	ib, okb := s.lookup(b)
	if !oka || !okb {
		return false, nil
	}
	return s.blocked(ia, ib), nil
}

func (s *MemStore) blocked(a, b int32) bool {
	if s.nodes[a].blocks == 0 || s.nodes[b].blocks == 0 {
		return false
	}
	ab, _ := s.pairs.get(pairOf(a, b))
	ba, _ := s.pairs.get(pairOf(b, a))
	return ab.blocked || ba.blocked
}

// Pair implements [Store].
func (s *MemStore) Pair(_ context.Context, from, to string) (PairRecord, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, oka := s.lookup(from)
	b, okb := s.lookup(to)
	if !oka || !okb {
		return PairRecord{}, nil
	}
	p, _ := s.pairs.get(pairOf(a, b))
	return p.rec, nil
}

const invChunk = 4096

// inv returns invitation k (0-based). s.mu must be held.
func (s *MemStore) inv(k int) *Invitation { return &s.invs[k/invChunk][k%invChunk] }

// invIndex parses "inv-k" into k-1, its index (see MemStore.invs).
func (s *MemStore) invIndex(id string) (int, bool) {
	if !strings.HasPrefix(id, "inv-") {
		return 0, false
	}
	k, err := strconv.ParseUint(id[4:], 10, 63)
	if err != nil || k == 0 || k > uint64(s.ninvs) || s.inv(int(k-1)).ID != id {
		return 0, false
	}
	return int(k - 1), true
}

// Invitation implements [Store].
func (s *MemStore) Invitation(_ context.Context, id string) (Invitation, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.invIndex(id)
	if !ok {
		return Invitation{}, notFound("invitation", id)
	}
	return *s.inv(k), nil
}

// Pending implements [Store].
func (s *MemStore) Pending(_ context.Context, from, to string) ([]Invitation, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, oka := s.lookup(from)
	b, okb := s.lookup(to)
	if !oka || !okb {
		return nil, nil
	}
	return s.pending(a, b), nil
}

func (s *MemStore) pending(a, b int32) []Invitation {
	p, _ := s.pairs.get(pairOf(a, b))
	return s.invList(p.pending)
}

// invList copies the invitations with indexes ks. s.mu must be held.
func (s *MemStore) invList(ks []int32) []Invitation {
	if len(ks) == 0 {
		return nil
	}
	out := make([]Invitation, len(ks))
	for i, k := range ks {
		out[i] = *s.inv(int(k))
	}
	return out
}

// SentBy implements [Store].
func (s *MemStore) SentBy(_ context.Context, from string) ([]Invitation, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.lookup(from)
	if !ok {
		return nil, nil
	}
	var out []Invitation
	for k := s.nodes[i].lastSent - 1; k >= 0; k = s.prevSent[k/invChunk][k%invChunk] - 1 {
		out = append(out, *s.inv(int(k)))
	}
	slices.Reverse(out)
	return out, nil
}

// PendingSentBefore implements [Store]. It scans every pending invitation.
func (s *MemStore) PendingSentBefore(_ context.Context, t time.Time) ([]Invitation, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Invitation
	s.pairs.each(func(p *memPair) {
		for _, k := range p.pending {
			if inv := s.inv(int(k)); inv.SentAt.Before(t) {
				out = append(out, *inv)
			}
		}
	})
	sort.Slice(out, func(i, j int) bool {
		if !out[i].SentAt.Equal(out[j].SentAt) {
			return out[i].SentAt.Before(out[j].SentAt)
		}
		return invNum(out[i].ID) < invNum(out[j].ID)
	})
	return out, nil
}

func invNum(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "inv-"))
	return n
}

// UpdateInvitation implements [Store].
func (s *MemStore) UpdateInvitation(_ context.Context, inv Invitation, from string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.invIndex(inv.ID)
	if !ok {
		return false, notFound("invitation", inv.ID)
	}
	if s.inv(k).Status != from {
		return false, nil
	}
	s.setStatus(k, inv)
	return true, nil
}

// setStatus stores inv's status, delivery and closing time in invitation k,
// dropping it from its pair's pending list when it closes. s.mu must be
// held for writing.
func (s *MemStore) setStatus(k int, inv Invitation) {
	cur := s.inv(k)
	if cur.Status == StatusPending && inv.Status != StatusPending {
		a, b := s.ids.find(cur.From, s.nodes), s.ids.find(cur.To, s.nodes)
		pk := pairOf(a, b)
		p, _ := s.pairs.get(pk)
		p.pending = slices.DeleteFunc(p.pending, func(j int32) bool { return int(j) == k })
		if len(p.pending) == 0 {
			p.pending = nil
		}
		s.setPair(pk, p)
	}
	cur.Status, cur.Delivery, cur.ClosedAt = inv.Status, inv.Delivery, inv.ClosedAt
}

// CloseInvitation implements [Store]: the status check and every write
// happen under one lock.
func (s *MemStore) CloseInvitation(_ context.Context, c Closing) (Invitation, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.invIndex(c.ID)
	if !ok {
		return Invitation{}, false, notFound("invitation", c.ID)
	}
	cur := s.inv(k)
	if cur.Status != c.From || !cur.SenderWithdrawnAt.IsZero() {
		return *cur, false, nil
	}
	is, ir := s.ids.find(cur.From, s.nodes), s.ids.find(cur.To, s.nodes)
	pk := pairOf(is, ir)
	if c.SenderWithdrew {
		cur.SenderWithdrawnAt = c.At
		p, _ := s.pairs.get(pk)
		p.hidden = slices.DeleteFunc(p.hidden, func(j int32) bool { return int(j) == k })
		s.setPair(pk, p)
	} else {
		s.setStatus(k, Invitation{Status: c.Status, Delivery: cur.Delivery, ClosedAt: c.At})
		cur.Private = c.Private
		if cur.hidden() {
			p, _ := s.pairs.get(pk)
			p.hidden, _ = insertSorted(p.hidden, int32(k)) // oldest first, whatever the closing order
			s.setPair(pk, p)
		}
	}
	p, _ := s.pairs.get(pk)
	if c.Ignore {
		p.rec.Ignored++
		p.rec.LastIgnoredAt = c.At
	}
	if c.Reject {
		p.rec.Rejected = true
	}
	if c.Withdraw {
		p.rec.WithdrawnAt = c.At
	}
	if len(p.hidden) == 0 {
		p.hidden = nil
	}
	s.setPair(pk, p)
	sn := &s.nodes[is]
	if c.Answered {
		sn.recordAnswer(false)
	}
	sn.seq++
	return *cur, true, nil
}

// Usage implements [Store].
func (s *MemStore) Usage(_ context.Context, id string, w Windows) (Usage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.member(id)
	if !ok {
		return Usage{}, notFound("member", id)
	}
	return s.nodes[i].usage(w), nil
}

func (nd *memNode) usage(w Windows) Usage {
	sent, oldest := nd.sent.read(w)
	recv, _ := nd.recv.read(w)
	u := Usage{Seq: nd.seq, RecvSeq: nd.recvSeq, OverLimit: nd.over.in(w.Week), HourOldest: oldest}
	u.Sent.Hour, u.Sent.Day, u.Sent.Week, u.Sent.Month = sent[0], sent[1], sent[2], sent[3]
	u.Received.Hour, u.Received.Day, u.Received.Week, u.Received.Month = recv[0], recv[1], recv[2], recv[3]
	return u
}

// Snapshot implements [Store]: every fact under one read lock, the
// members found by two map lookups and everything else by node number.
// Both members are found before either is read: on a large network each
// lookup and each node is a cache miss, and the processor overlaps
// misses it meets close together.
func (s *MemStore) Snapshot(_ context.Context, q SnapshotQuery) (snap Snapshot, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	is, ir := int32(-1), int32(-1)
	if q.Email == "" && q.To != "" {
		is, ir = s.ids.find2(q.From, q.To, s.nodes)
	} else {
		is = s.ids.find(q.From, s.nodes)
	}
	if is < 0 || !s.nodes[is].exists {
		return snap, notFound("member", q.From)
	}
	rok := false
	switch {
	case q.Email != "":
		ir, rok = s.byEmail[strings.ToLower(q.Email)]
	case q.To != "":
		rok = ir >= 0 && s.nodes[ir].exists
	}
	sn := &s.nodes[is]
	if !rok {
		snap.Sender, snap.SenderUsage, snap.SenderConnections = cloneMember(sn.m), sn.usage(q.Windows), len(s.adj[is])
		return snap, nil
	}
	rn := &s.nodes[ir]
	runtime.KeepAlive(sn.touch() + rn.touch() + touchList(s.adj[is]) + touchList(s.adj[ir]) + s.pairs.touch(pairOf(is, ir)))
	snap.Sender, snap.SenderUsage, snap.SenderConnections = cloneMember(sn.m), sn.usage(q.Windows), len(s.adj[is])
	snap.RecipientFound = true
	snap.Recipient, snap.RecipientUsage, snap.RecipientConnections = cloneMember(rn.m), rn.usage(q.Windows), len(s.adj[ir])
	snap.Degree, snap.Mutual = s.relation(is, ir, q.Budget)
	if rn.email != "" {
		_, snap.SenderHasContact = sn.contacts[rn.email]
	}
	if sn.email != "" {
		_, snap.RecipientHasContact = rn.contacts[sn.email]
	}
	snap.Blocked = s.blocked(is, ir)
	if sn.pairsTo&pairBit(ir) == 0 {
		return snap, nil
	}
	if p, ok := s.pairs.get(pairOf(is, ir)); ok {
		snap.Pair = p.rec
		snap.Pending = s.invList(p.pending)
		snap.Hidden = s.invList(p.hidden)
	}
	return snap, nil
}

// Reserve implements [Store]: the checks of Seq and RecvSeq and every
// write happen under one lock.
func (s *MemStore) Reserve(_ context.Context, r Reservation) (Invitation, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := r.Invitation
	is, ok := s.member(inv.From)
	if !ok {
		return Invitation{}, false, notFound("member", inv.From)
	}
	sn := &s.nodes[is]
	if sn.seq != r.Seq || sn.sent.ahead(r.Windows) {
		return Invitation{}, false, nil
	}
	ir, rok := s.member(inv.To)
	if r.Received && rok && (s.nodes[ir].recvSeq != r.RecipientSeq || s.nodes[ir].recv.ahead(r.Windows)) {
		return Invitation{}, false, nil
	}
	sn.seq++
	sn.sent.add(r.Windows)
	if r.Received && rok {
		rn := &s.nodes[ir]
		rn.recvSeq++
		rn.recv.add(r.Windows)
	}
	k := s.ninvs
	inv.ID = s.newID(k + 1)
	if k%invChunk == 0 {
		s.invs = append(s.invs, make([]Invitation, invChunk))
		s.prevSent = append(s.prevSent, make([]int32, invChunk))
	}
	*s.inv(k) = inv
	s.ninvs++
	s.prevSent[k/invChunk][k%invChunk] = sn.lastSent
	sn.lastSent = int32(k + 1)
	if inv.Status == StatusPending {
		if !rok {
			ir = s.intern(inv.To)
		}
		pk := pairOf(is, ir)
		p, _ := s.pairs.get(pk)
		if p.pending == nil {
			p.pending = s.one(int32(k))
		} else {
			p.pending = append(p.pending, int32(k))
		}
		s.setPair(pk, p)
	}
	return inv, true, nil
}

// newID returns "inv-k", its bytes cut from a shared buffer that is never
// written again. s.mu must be held for writing.
func (s *MemStore) newID(k int) string {
	if cap(s.idBuf)-len(s.idBuf) < 24 {
		s.idBuf = make([]byte, 0, 16<<10)
	}
	start := len(s.idBuf)
	s.idBuf = strconv.AppendInt(append(s.idBuf, "inv-"...), int64(k), 10)
	return unsafe.String(&s.idBuf[start], len(s.idBuf)-start)
}

// one returns the list [k] with capacity 1, cut from a shared slab: a
// later append copies it out, so lists never overlap. s.mu must be held
// for writing.
func (s *MemStore) one(k int32) []int32 {
	if len(s.slab) == 0 {
		s.slab = make([]int32, 4096)
	}
	l := s.slab[:1:1]
	s.slab = s.slab[1:]
	l[0] = k
	return l
}

// AcceptInvitation implements [Store]: the status check, the count checks
// and every write happen under one lock.
func (s *MemStore) AcceptInvitation(_ context.Context, a Acceptance) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.invIndex(a.Invitation.ID)
	if !ok {
		return false, notFound("invitation", a.Invitation.ID)
	}
	cur := *s.inv(k)
	if cur.Status != StatusPending {
		return false, fmt.Errorf("invitation %s (%s): %w", cur.ID, cur.Status, ErrNotPending)
	}
	is, ir := s.ids.find(cur.From, s.nodes), s.ids.find(cur.To, s.nodes)
	if len(s.adj[is]) != a.SenderConnections || len(s.adj[ir]) != a.RecipientConnections {
		return false, nil
	}
	s.setStatus(k, a.Invitation)
	s.connect(is, ir)
	s.nodes[is].recordAnswer(true)
	s.nodes[is].seq++
	return true, nil
}

// CountOverLimit implements [Store].
func (s *MemStore) CountOverLimit(_ context.Context, id string, seq uint64, w Windows) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.member(id)
	if !ok {
		return false, notFound("member", id)
	}
	nd := &s.nodes[i]
	if nd.seq != seq || nd.over.ahead(w.Week) {
		return false, nil
	}
	nd.seq++
	nd.over.inc(w.Week)
	return true, nil
}

// Append implements [Store].
func (s *MemStore) Append(_ context.Context, e *Event) error {
	s.emu.Lock()
	defer s.emu.Unlock()
	s.eventSeq++
	e.Seq = s.eventSeq
	if !s.dropLog.Load() {
		s.events = append(s.events, *e)
	}
	return nil
}

// Events returns a copy of the log, in append order.
func (s *MemStore) Events() []Event {
	s.emu.Lock()
	defer s.emu.Unlock()
	return slices.Clone(s.events)
}
