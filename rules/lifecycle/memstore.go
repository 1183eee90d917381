package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MemStore is the in-memory [Store]. One read-write lock guards the
// records and another the graph; [MemStore.Reserve] holds the first for
// its whole check-and-increment, which is what makes it atomic.
type MemStore struct {
	mu       sync.RWMutex
	members  map[string]*memMember
	byEmail  map[string]string
	pairs    map[pairKey]*PairRecord
	invs     map[string]*Invitation
	pending  map[pairKey][]string // ids of pending invitations, oldest first
	contacts map[string]map[string]struct{}
	blocks   map[pairKey]struct{}
	nextInv  uint64
	events   []Event
	dropLog  bool
	eventSeq uint64

	gmu sync.RWMutex
	ids map[string]int32
	adj [][]int32 // sorted neighbour lists, indexed by interned id
}

type pairKey struct{ from, to string }

type memMember struct {
	m    Member
	seq  uint64
	sent counters
	recv counters
	over winCount // over-limit attempts, in the week window
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
	hour             []int64
}

func (c *counters) read(w Windows) (n [4]int, oldest time.Time) {
	h := w.Hour.UnixNano()
	now := w.Now.UnixNano()
	for _, t := range c.hour {
		if t > h && t <= now {
			if n[0] == 0 {
				oldest = time.Unix(0, t)
			}
			n[0]++
		}
	}
	return [4]int{n[0], c.day.in(w.Day), c.week.in(w.Week), c.month.in(w.Month)}, oldest
}

func (c *counters) add(w Windows) {
	h := w.Hour.UnixNano()
	keep := c.hour[:0]
	for _, t := range c.hour {
		if t > h {
			keep = append(keep, t)
		}
	}
	c.hour = append(keep, w.Now.UnixNano())
	c.day.inc(w.Day)
	c.week.inc(w.Week)
	c.month.inc(w.Month)
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{
		members:  map[string]*memMember{},
		byEmail:  map[string]string{},
		pairs:    map[pairKey]*PairRecord{},
		invs:     map[string]*Invitation{},
		pending:  map[pairKey][]string{},
		contacts: map[string]map[string]struct{}{},
		blocks:   map[pairKey]struct{}{},
		ids:      map[string]int32{},
	}
}

// DiscardEvents makes the store number events but not keep them, for
// long benchmarks. The default keeps every event.
func (s *MemStore) DiscardEvents() {
	s.mu.Lock()
	s.dropLog = true
	s.events = nil
	s.mu.Unlock()
}

func notFound(what, id string) error { return fmt.Errorf("%s %q: %w", what, id, ErrNotFound) }

// Member implements [Store].
func (s *MemStore) Member(_ context.Context, id string) (Member, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mm := s.members[id]
	if mm == nil {
		return Member{}, notFound("member", id)
	}
	return cloneMember(mm.m), nil
}

func cloneMember(m Member) Member {
	m.Settings.Companies = slices.Clone(m.Settings.Companies)
	m.Settings.Schools = slices.Clone(m.Settings.Schools)
	m.Settings.AutoAccept.Companies = slices.Clone(m.Settings.AutoAccept.Companies)
	m.Settings.AutoAccept.Schools = slices.Clone(m.Settings.AutoAccept.Schools)
	return m
}

// MemberByEmail implements [Store].
func (s *MemStore) MemberByEmail(ctx context.Context, email string) (Member, error) {
	s.mu.RLock()
	id, ok := s.byEmail[strings.ToLower(email)]
	s.mu.RUnlock()
	if !ok {
		return Member{}, notFound("member with email", email)
	}
	return s.Member(ctx, id)
}

// PutMember implements [Store].
func (s *MemStore) PutMember(_ context.Context, m Member) error {
	m = cloneMember(m)
	s.mu.Lock()
	mm := s.members[m.ID]
	if mm == nil {
		mm = &memMember{}
		s.members[m.ID] = mm
	} else if mm.m.Email != "" {
		delete(s.byEmail, strings.ToLower(mm.m.Email))
	}
	mm.m = m
	if m.Email != "" {
		s.byEmail[strings.ToLower(m.Email)] = m.ID
	}
	s.mu.Unlock()
	s.node(m.ID)
	return nil
}

// Restrict implements [Store].
func (s *MemStore) Restrict(_ context.Context, id string, until time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mm := s.members[id]
	if mm == nil {
		return time.Time{}, notFound("member", id)
	}
	if until.After(mm.m.RestrictedUntil) {
		mm.m.RestrictedUntil = until
	}
	return mm.m.RestrictedUntil, nil
}

// RecordAnswer implements [Store].
func (s *MemStore) RecordAnswer(_ context.Context, id string, accepted bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mm := s.members[id]
	if mm == nil {
		return notFound("member", id)
	}
	mm.m.Answered++
	if accepted {
		mm.m.Accepted++
	}
	return nil
}

// node interns a member id in the graph.
func (s *MemStore) node(id string) int32 {
	s.gmu.RLock()
	i, ok := s.ids[id]
	s.gmu.RUnlock()
	if ok {
		return i
	}
	s.gmu.Lock()
	defer s.gmu.Unlock()
	if i, ok := s.ids[id]; ok {
		return i
	}
	i = int32(len(s.adj))
	s.ids[id] = i
	s.adj = append(s.adj, nil)
	return i
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
	ia, ib := s.node(a), s.node(b)
	s.gmu.Lock()
	defer s.gmu.Unlock()
	s.adj[ia], _ = insertSorted(s.adj[ia], ib)
	s.adj[ib], _ = insertSorted(s.adj[ib], ia)
	return nil
}

// Disconnect implements [Store].
func (s *MemStore) Disconnect(_ context.Context, a, b string) (bool, error) {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	ia, oka := s.ids[a]
	ib, okb := s.ids[b]
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
	s.gmu.RLock()
	defer s.gmu.RUnlock()
	i, ok := s.ids[id]
	if !ok {
		return 0, nil
	}
	return len(s.adj[i]), nil
}

// Connections lists a member's connections, sorted by id.
func (s *MemStore) Connections(id string) []string {
	s.gmu.RLock()
	defer s.gmu.RUnlock()
	i, ok := s.ids[id]
	if !ok {
		return nil
	}
	names := make([]string, 0, len(s.adj[i]))
	for name, j := range s.ids {
		if _, found := slices.BinarySearch(s.adj[i], j); found {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Relation implements [Store]: a bounded search over sorted adjacency
// lists. Mutual connections are a merge of the two lists. Degree 3 is
// looked for only when there is no mutual connection: from the side with
// fewer connections, each neighbour's list is intersected with the other
// side's list, until one meets it or the budget runs out.
func (s *MemStore) Relation(_ context.Context, a, b string, budget int) (int, int, error) {
	s.gmu.RLock()
	defer s.gmu.RUnlock()
	ia, oka := s.ids[a]
	ib, okb := s.ids[b]
	if !oka || !okb || a == b {
		return 0, 0, nil
	}
	A, B := s.adj[ia], s.adj[ib]
	mutual, cost := intersectCount(A, B)
	budget -= cost
	if _, connected := slices.BinarySearch(A, ib); connected {
		return 1, mutual, nil
	}
	if mutual > 0 {
		return 2, mutual, nil
	}
	if len(A) > len(B) {
		A, B = B, A
	}
	for _, x := range A {
		if budget <= 0 {
			return 0, 0, nil
		}
		n, c := intersectAny(s.adj[x], B)
		budget -= c
		if n {
			return 3, 0, nil
		}
	}
	return 0, 0, nil
}

// intersectCount counts common elements of two sorted lists and returns
// the work done.
func intersectCount(a, b []int32) (n, cost int) {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		cost++
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n, cost
}

// intersectAny reports whether two sorted lists share an element. It
// binary-searches the shorter in the longer when they differ much in size.
func intersectAny(a, b []int32) (bool, int) {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) == 0 {
		return false, 1
	}
	if len(a)*8 < len(b) {
		for _, v := range a {
			if _, ok := slices.BinarySearch(b, v); ok {
				return true, len(a)
			}
		}
		return false, len(a)
	}
	n, cost := intersectCount(a, b)
	return n > 0, cost
}

// AddContacts implements [Store].
func (s *MemStore) AddContacts(_ context.Context, owner string, emails []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.contacts[owner]
	if set == nil {
		set = map[string]struct{}{}
		s.contacts[owner] = set
	}
	for _, e := range emails {
		set[strings.ToLower(e)] = struct{}{}
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
	_, ok := s.contacts[owner][strings.ToLower(email)]
	return ok, nil
}

// SetBlock implements [Store]. A block bumps both members' Seq, so an
// invitation decided before the block cannot commit after it.
func (s *MemStore) SetBlock(_ context.Context, blocker, blocked string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := pairKey{blocker, blocked}
	if on {
		s.blocks[k] = struct{}{}
	} else {
		delete(s.blocks, k)
	}
	for _, id := range []string{blocker, blocked} {
		if mm := s.members[id]; mm != nil {
			mm.seq++
		}
	}
	return nil
}

// Blocked implements [Store].
func (s *MemStore) Blocked(_ context.Context, a, b string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ab := s.blocks[pairKey{a, b}]
	_, ba := s.blocks[pairKey{b, a}]
	return ab || ba, nil
}

// Pair implements [Store].
func (s *MemStore) Pair(_ context.Context, from, to string) (PairRecord, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r := s.pairs[pairKey{from, to}]; r != nil {
		return *r, nil
	}
	return PairRecord{}, nil
}

// UpdatePair implements [Store].
func (s *MemStore) UpdatePair(_ context.Context, from, to string, fn func(*PairRecord)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := pairKey{from, to}
	r := s.pairs[k]
	if r == nil {
		r = &PairRecord{}
		s.pairs[k] = r
	}
	fn(r)
	return nil
}

// Invitation implements [Store].
func (s *MemStore) Invitation(_ context.Context, id string) (Invitation, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	inv := s.invs[id]
	if inv == nil {
		return Invitation{}, notFound("invitation", id)
	}
	return *inv, nil
}

// Pending implements [Store].
func (s *MemStore) Pending(_ context.Context, from, to string) ([]Invitation, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := s.pending[pairKey{from, to}]
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]Invitation, len(ids))
	for i, id := range ids {
		out[i] = *s.invs[id]
	}
	return out, nil
}

// PendingSentBefore implements [Store]. It scans every pending invitation.
func (s *MemStore) PendingSentBefore(_ context.Context, t time.Time) ([]Invitation, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Invitation
	for _, ids := range s.pending {
		for _, id := range ids {
			if inv := s.invs[id]; inv.SentAt.Before(t) {
				out = append(out, *inv)
			}
		}
	}
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
	cur := s.invs[inv.ID]
	if cur == nil {
		return false, notFound("invitation", inv.ID)
	}
	if cur.Status != from {
		return false, nil
	}
	if cur.Status == StatusPending && inv.Status != StatusPending {
		k := pairKey{cur.From, cur.To}
		s.pending[k] = slices.DeleteFunc(s.pending[k], func(id string) bool { return id == inv.ID })
		if len(s.pending[k]) == 0 {
			delete(s.pending, k)
		}
	}
	cur.Status, cur.Delivery, cur.ClosedAt = inv.Status, inv.Delivery, inv.ClosedAt
	return true, nil
}

// Usage implements [Store].
func (s *MemStore) Usage(_ context.Context, id string, w Windows) (Usage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mm := s.members[id]
	if mm == nil {
		return Usage{}, notFound("member", id)
	}
	return mm.usage(w), nil
}

func (mm *memMember) usage(w Windows) Usage {
	sent, oldest := mm.sent.read(w)
	recv, _ := mm.recv.read(w)
	u := Usage{Seq: mm.seq, OverLimit: mm.over.in(w.Week), HourOldest: oldest}
	u.Sent.Hour, u.Sent.Day, u.Sent.Week, u.Sent.Month = sent[0], sent[1], sent[2], sent[3]
	u.Received.Hour, u.Received.Day, u.Received.Week, u.Received.Month = recv[0], recv[1], recv[2], recv[3]
	return u
}

// Reserve implements [Store]: the check of Seq and every write happen
// under one lock.
func (s *MemStore) Reserve(_ context.Context, r Reservation) (Invitation, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := r.Invitation
	mm := s.members[inv.From]
	if mm == nil {
		return Invitation{}, false, notFound("member", inv.From)
	}
	if mm.seq != r.Seq {
		return Invitation{}, false, nil
	}
	mm.seq++
	mm.sent.add(r.Windows)
	if rm := s.members[inv.To]; rm != nil && r.Received {
		rm.recv.add(r.Windows)
	}
	s.nextInv++
	inv.ID = "inv-" + strconv.FormatUint(s.nextInv, 10)
	stored := inv
	s.invs[inv.ID] = &stored
	if inv.Status == StatusPending {
		k := pairKey{inv.From, inv.To}
		s.pending[k] = append(s.pending[k], inv.ID)
	}
	return inv, true, nil
}

// CountOverLimit implements [Store].
func (s *MemStore) CountOverLimit(_ context.Context, id string, seq uint64, w Windows) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mm := s.members[id]
	if mm == nil {
		return false, notFound("member", id)
	}
	if mm.seq != seq {
		return false, nil
	}
	mm.seq++
	mm.over.inc(w.Week)
	return true, nil
}

// Append implements [Store].
func (s *MemStore) Append(_ context.Context, e *Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventSeq++
	e.Seq = s.eventSeq
	if !s.dropLog {
		s.events = append(s.events, *e)
	}
	return nil
}

// Events returns a copy of the log, in append order.
func (s *MemStore) Events() []Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.events)
}
