package lifecycle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestHourLog checks the rolling hour across its move from the node's
// inline times to a separate list and back.
func TestHourLog(t *testing.T) {
	var h hourLog
	var want []int64
	add := func(after, at int64) {
		t.Helper()
		h.add(after, at)
		want = slices.DeleteFunc(want, func(x int64) bool { return x <= after })
		want = append(want, at)
		if got := h.times(); !slices.Equal(got, want) {
			t.Fatalf("after add(%d, %d): %v, want %v", after, at, got, want)
		}
	}
	for i := int64(1); i <= 8; i++ { // past hourInline: the separate list
		add(0, i)
	}
	add(6, 9)  // four left: still separate
	add(8, 10) // two left: back inline
	if h.ext != nil {
		t.Fatalf("%d times kept in a separate list", len(h.times()))
	}
	add(100, 101) // everything old dropped
	for i := int64(102); i < 110; i++ {
		add(100, i)
	}
}

// TestIDIndex looks up every id after the table grew many times, and ids
// never stored.
func TestIDIndex(t *testing.T) {
	s := NewMemStore()
	const n = 5000
	for i := range n {
		if got := s.intern(fmt.Sprintf("m%d", i)); got != int32(i) {
			t.Fatalf("intern m%d = %d", i, got)
		}
	}
	for i := range n {
		if got, ok := s.lookup(fmt.Sprintf("m%d", i)); !ok || got != int32(i) {
			t.Fatalf("lookup m%d = %d, %v", i, got, ok)
		}
		if got := s.intern(fmt.Sprintf("m%d", i)); got != int32(i) {
			t.Fatalf("intern m%d again = %d", i, got)
		}
	}
	absent := []string{"", "m-1", fmt.Sprintf("m%d", n), "x"}
	for _, id := range absent {
		if got, ok := s.lookup(id); ok {
			t.Fatalf("lookup %q = %d, want none", id, got)
		}
	}
	for i := 0; i < n; i += 7 {
		a, b := fmt.Sprintf("m%d", i), fmt.Sprintf("m%d", (i*31)%n)
		if ga, gb := s.ids.find2(a, b, s.nodes); ga != int32(i) || gb != int32((i*31)%n) {
			t.Fatalf("find2(%s, %s) = %d, %d", a, b, ga, gb)
		}
		if ga, gb := s.ids.find2(a, absent[i%len(absent)], s.nodes); ga != int32(i) || gb != -1 {
			t.Fatalf("find2(%s, %q) = %d, %d", a, absent[i%len(absent)], ga, gb)
		}
	}
	if len(s.nodes) != n || s.ids.n != n {
		t.Fatalf("%d nodes, %d indexed, want %d", len(s.nodes), s.ids.n, n)
	}
}

// TestPairTable runs random puts and drops against a Go map.
func TestPairTable(t *testing.T) {
	var pt pairTable
	model := map[uint64]int{}
	r := rand.New(rand.NewPCG(5, 6))
	for step := range 200_000 {
		k := uint64(r.IntN(3000)) // keys collide often, so drops shift clusters
		if r.IntN(3) == 0 {
			pt.put(k, memPair{})
			delete(model, k)
		} else {
			pt.put(k, memPair{rec: PairRecord{Ignored: step + 1}})
			model[k] = step + 1
		}
		if step%1000 == 0 || step == 199_999 {
			if pt.n != len(model) {
				t.Fatalf("step %d: %d keys, want %d", step, pt.n, len(model))
			}
			for k := range uint64(3000) {
				p, ok := pt.get(k)
				if want, has := model[k]; ok != has || p.rec.Ignored != want {
					t.Fatalf("step %d: get(%d) = %d, %v; want %d, %v", step, k, p.rec.Ignored, ok, want, has)
				}
			}
			seen := 0
			pt.each(func(*memPair) { seen++ })
			if seen != len(model) {
				t.Fatalf("step %d: each saw %d, want %d", step, seen, len(model))
			}
		}
	}
}
