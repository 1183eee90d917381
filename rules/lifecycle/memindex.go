package lifecycle

import (
	"hash/maphash"
	"runtime"
)

// idIndex finds a member id's node number. It is an open-addressing table
// of 8-byte slots, each 32 bits of the id's hash over 1 + the node
// number (0 is an empty slot), at most half full. A lookup reads one
// slot (the table for 100k ids is 2 MB, so it mostly stays in cache) and
// confirms the id on the node, whose line the caller reads next anyway.
// A Go map reads its control word, then the slot, then the key's bytes
// wherever they were allocated: on a large network each is a cache miss,
// and they were the largest cost of an invitation. Ids are never removed.
type idIndex struct {
	seed  maphash.Seed
	slots []uint64
	n     int
}

func (x *idIndex) hash(id string) uint64 { return maphash.String(x.seed, id) }

// find returns the node of id, or -1; nodes holds the interned ids.
func (x *idIndex) find(id string, nodes []memNode) int32 {
	if len(x.slots) == 0 {
		return -1
	}
	return x.findHash(id, x.hash(id), nodes)
}

// find2 is find of two ids, whose nodes it fetches together: the first
// slot of each id most likely names its node, and reading those two nodes
// one after the other would wait for one cache miss, then the other.
func (x *idIndex) find2(a, b string, nodes []memNode) (int32, int32) {
	if len(x.slots) == 0 {
		return -1, -1
	}
	mask := uint64(len(x.slots) - 1)
	ha, hb := x.hash(a), x.hash(b)
	va, vb := x.slots[ha&mask], x.slots[hb&mask]
	var t uint64
	if va != 0 {
		t += uint64(len(nodes[int32(uint32(va))-1].m.ID))
	}
	if vb != 0 {
		t += uint64(len(nodes[int32(uint32(vb))-1].m.ID))
	}
	runtime.KeepAlive(t) // keeps the loads
	return x.findHash(a, ha, nodes), x.findHash(b, hb, nodes)
}

func (x *idIndex) findHash(id string, h uint64, nodes []memNode) int32 {
	fp := h >> 32
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		v := x.slots[i]
		if v == 0 {
			return -1
		}
		if v>>32 == fp {
			if n := int32(uint32(v)) - 1; nodes[n].m.ID == id {
				return n
			}
		}
	}
}

// add records that id is node n; id must not be in the index.
func (x *idIndex) add(id string, n int32, nodes []memNode) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow(nodes)
	}
	x.put(x.hash(id), n)
	x.n++
}

func (x *idIndex) put(h uint64, n int32) {
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = h>>32<<32 | uint64(uint32(n+1))
}

// grow doubles the table and puts every node back, hashing the ids again.
func (x *idIndex) grow(nodes []memNode) {
	if x.slots == nil {
		x.seed = maphash.MakeSeed()
	}
	x.slots = make([]uint64, max(2*len(x.slots), 64))
	for i := range x.n {
		x.put(x.hash(nodes[i].m.ID), int32(i))
	}
}
