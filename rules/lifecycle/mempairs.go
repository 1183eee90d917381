package lifecycle

// pairChunk is how many pair records one chunk of a pairTable holds.
const pairChunk = 4096

// pairTable holds the pair records: a map from a pair's key to the index
// of its record in chunked storage. The map's slots are 16 bytes instead
// of a record's 120, so with hundreds of thousands of pairs it stays a few
// MB, mostly in cache: looking up a pair with no record yet, as every
// first invitation between two members does, then costs no trip to main
// memory. Freed records are reused.
type pairTable struct {
	idx    map[uint64]int32
	chunks [][]memPair
	free   []int32
	n      int32 // records handed out, freed ones included
}

func (t *pairTable) at(i int32) *memPair { return &t.chunks[i/pairChunk][i%pairChunk] }

// get returns the record of k, or an empty one and false.
func (t *pairTable) get(k uint64) (memPair, bool) {
	i, ok := t.idx[k]
	if !ok {
		return memPair{}, false
	}
	return *t.at(i), true
}

// put stores the record of k, or drops it when p is empty.
func (t *pairTable) put(k uint64, p memPair) {
	i, ok := t.idx[k]
	if p.empty() {
		if ok {
			*t.at(i) = memPair{}
			delete(t.idx, k)
			t.free = append(t.free, i)
		}
		return
	}
	if !ok {
		if n := len(t.free); n > 0 {
			i, t.free = t.free[n-1], t.free[:n-1]
		} else {
			i = t.n
			t.n++
			if int(i)%pairChunk == 0 {
				t.chunks = append(t.chunks, make([]memPair, pairChunk))
			}
		}
		if t.idx == nil {
			t.idx = map[uint64]int32{}
		}
		t.idx[k] = i
	}
	*t.at(i) = p
}

// each calls fn with every record, in no order.
func (t *pairTable) each(fn func(p *memPair)) {
	for _, i := range t.idx {
		fn(t.at(i))
	}
}
