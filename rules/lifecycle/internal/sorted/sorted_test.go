package sorted

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// naive is the definition: the elements of a also in b.
func naive[T comparable](a, b []T) int {
	n := 0
	for _, x := range a {
		if slices.Contains(b, x) {
			n++
		}
	}
	return n
}

func TestIntersectCount(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	list := func(n, max int) []int32 {
		seen := map[int32]bool{}
		var l []int32
		for len(l) < n {
			v := int32(r.IntN(max))
			if !seen[v] {
				seen[v] = true
				l = append(l, v)
			}
		}
		slices.Sort(l)
		return l
	}
	for _, sz := range [][2]int{{0, 0}, {0, 5}, {1, 1}, {5, 5}, {20, 20}, {3, 100}, {100, 3}, {50, 60}} {
		for range 20 {
			a, b := list(sz[0], 300), list(sz[1], 300)
			n, cost := IntersectCount(a, b)
			if want := naive(a, b); n != want {
				t.Fatalf("IntersectCount(%v, %v) = %d, want %d", a, b, n, want)
			}
			if m, _ := IntersectCount(b, a); m != n {
				t.Fatalf("not symmetric: %d and %d", n, m)
			}
			if cost > len(a)+len(b)+1 {
				t.Fatalf("cost %d over %d+%d+1", cost, len(a), len(b))
			}
			sa, sb := strs(a), strs(b)
			slices.Sort(sa)
			slices.Sort(sb)
			if m, _ := IntersectCount(sa, sb); m != n {
				t.Fatalf("strings: %d, ints: %d", m, n)
			}
		}
	}
}

func strs(l []int32) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = fmt.Sprint(v)
	}
	return out
}

func BenchmarkIntersectCount(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	mk := func() []int32 {
		l := make([]int32, 20)
		for i := range l {
			l[i] = int32(r.IntN(1000))
		}
		slices.Sort(l)
		return slices.Compact(l)
	}
	pairs := make([][2][]int32, 1024)
	for i := range pairs {
		pairs[i] = [2][]int32{mk(), mk()}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := pairs[i%len(pairs)]
		IntersectCount(p[0], p[1])
	}
}
