package lifecycle

// pairChunk is how many pair records one chunk of a pairTable holds.
const pairChunk = 4096

// pairTable holds the pair records: an open-addressing table from a
// pair's key to the index of its record in chunked storage. Snapshot
// fetches the slot of its pair together with the two members' nodes
// (see touch), so the lookup there and the insert in Reserve, as every
// first invitation between two members makes, find it in the cache; a Go
// map gives no way to fetch its slot early. Freed records are reused.
type pairTable struct {
	// slots use linear probing over a power-of-two table at most half
	// full; a slot with idx 0 is empty.
	slots  []pairSlot
	n      int // keys in slots
	chunks [][]memPair
	free   []int32
	next   int32 // records handed out, freed ones included
}

// pairSlot maps key to record idx-1.
type pairSlot struct {
	key uint64
	idx int32
}

func (t *pairTable) at(i int32) *memPair { return &t.chunks[i/pairChunk][i%pairChunk] }

// home is the slot where k's probe starts.
func (t *pairTable) home(k uint64) int {
	return int((k * 0x9e3779b97f4a7c15) >> 32 & uint64(len(t.slots)-1))
}

// slot returns the index of k's slot, or -1.
func (t *pairTable) slot(k uint64) int {
	if t.n == 0 {
		return -1
	}
	mask := len(t.slots) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		switch sl := &t.slots[i]; {
		case sl.idx == 0:
			return -1
		case sl.key == k:
			return i
		}
	}
}

// touch reads k's home slot, like memNode.touch.
func (t *pairTable) touch(k uint64) uint64 {
	if len(t.slots) == 0 {
		return 0
	}
	return t.slots[t.home(k)].key
}

// get returns the record of k, or an empty one and false.
func (t *pairTable) get(k uint64) (memPair, bool) {
	i := t.slot(k)
	if i < 0 {
		return memPair{}, false
	}
	return *t.at(t.slots[i].idx - 1), true
}

// put stores the record of k, or drops it when p is empty.
func (t *pairTable) put(k uint64, p memPair) {
	i := t.slot(k)
	if p.empty() {
		if i >= 0 {
			r := t.slots[i].idx - 1
			*t.at(r) = memPair{}
			t.free = append(t.free, r)
			t.remove(i)
		}
		return
	}
	if i >= 0 {
		*t.at(t.slots[i].idx - 1) = p
		return
	}
	var r int32
	if n := len(t.free); n > 0 {
		r, t.free = t.free[n-1], t.free[:n-1]
	} else {
		r = t.next
		t.next++
		if int(r)%pairChunk == 0 {
			t.chunks = append(t.chunks, make([]memPair, pairChunk))
		}
	}
	*t.at(r) = p
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	t.insert(k, r+1)
	t.n++
}

func (t *pairTable) insert(k uint64, idx int32) {
	mask := len(t.slots) - 1
	i := t.home(k)
	for t.slots[i].idx != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = pairSlot{key: k, idx: idx}
}

func (t *pairTable) grow() {
	old := t.slots
	t.slots = make([]pairSlot, max(2*len(old), 64))
	for _, sl := range old {
		if sl.idx != 0 {
			t.insert(sl.key, sl.idx)
		}
	}
}

// remove empties slot i, moving back the later slots of its cluster that
// may not be found past an empty slot.
func (t *pairTable) remove(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].idx != 0; j = (j + 1) & mask {
		// The key at j may fill the hole at i if i lies on its probe path,
		// that is between its home and j.
		if h := t.home(t.slots[j].key); (i-h)&mask < (j-h)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = pairSlot{}
	t.n--
}

// each calls fn with every record, in no order.
func (t *pairTable) each(fn func(p *memPair)) {
	for _, sl := range t.slots {
		if sl.idx != 0 {
			fn(t.at(sl.idx - 1))
		}
	}
}
