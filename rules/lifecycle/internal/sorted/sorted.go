// Package sorted holds the sorted-list operations the stores share.
package sorted

import (
	"cmp"
	"slices"
)

// IntersectCount counts the elements common to two sorted lists without
// duplicates, and returns the work done: the number of elements compared,
// which both stores charge to the degree search's budget. When one list
// is much longer it binary-searches the shorter one's elements in it.
func IntersectCount[T cmp.Ordered](a, b []T) (n, cost int) {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a)*8 < len(b) {
		for _, v := range a {
			if _, ok := slices.BinarySearch(b, v); ok {
				n++
			}
		}
		return n, len(a) + 1
	}
	// The merge steps without branches on the comparison: on random
	// lists every such branch is a coin toss the processor mispredicts.
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		cost++
		x, y := a[i], b[j]
		n += b2i(x == y)
		i += b2i(x <= y)
		j += b2i(y <= x)
	}
	return n, cost
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
