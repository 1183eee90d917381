package host

import (
	"math"
	"testing"
)

// TestLoadInfoWithoutIterations: a load answer without "iterations" (a
// module older than the field) reads as a policy whose decisions may be
// long, so they run with the deadline watch; it read as 0, "short".
func TestLoadInfoWithoutIterations(t *testing.T) {
	for _, c := range []struct {
		answer string
		want   uint64
	}{
		{`{"name":"p","rules":3,"tests":0,"public":{"generic":"no"}}`, math.MaxUint64},
		{`{"name":"p","iterations":0}`, 0},
		{`{"name":"p","iterations":6000}`, 6000},
	} {
		p := loadInfo([]byte(c.answer))
		if p.iters != c.want || p.name != "p" {
			t.Errorf("%s: iters %d name %q, want %d", c.answer, p.iters, p.name, c.want)
		}
		if long := p.iters > shortCall; long != (c.want > shortCall) {
			t.Errorf("%s: long %v", c.answer, long)
		}
	}
}
