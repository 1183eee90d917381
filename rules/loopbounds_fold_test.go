package rules

import (
	"math"
	"math/big"
	"testing"

	"github.com/expr-lang/expr/ast"
)

// bigCheckFold is checkFold as it was written with math/big, the reference
// for the 128-bit arithmetic that replaced it.
func bigCheckFold(lo, hi, c int) bool {
	m, n := big.NewInt(int64(lo)), big.NewInt(int64(hi))
	count := new(big.Int).Sub(n, m)
	count.Add(count, big.NewInt(1))
	s := new(big.Int).Add(m, n)
	s.Mul(s, count)
	s.Abs(s)
	k := big.NewInt(2)
	if v := new(big.Int).Abs(big.NewInt(int64(c))); v.Add(v, big.NewInt(2)).Cmp(k) > 0 {
		k = v
	}
	limit := new(big.Int).Div(big.NewInt(math.MaxInt64), k)
	return s.Cmp(limit) > 0 || count.Cmp(limit) > 0
}

// TestCheckFoldMatchesBig: the fold-overflow check refuses exactly the
// ranges the math/big version refused, at and around every boundary.
func TestCheckFoldMatchesBig(t *testing.T) {
	edges := []int{math.MinInt64, math.MinInt64 + 1, -3037000500, -3037000499, -4294967296, -1000000, -2, -1, 0, 1, 2,
		1000, 1000000, 3037000499, 3037000500, 4294967296, 1 << 62, math.MaxInt64 - 1, math.MaxInt64}
	consts := []int{0, 1, 7, -9, 9000000000000000, math.MaxInt64, math.MinInt64}
	for _, lo := range edges {
		for _, hi := range edges {
			if hi < lo {
				continue
			}
			for _, c := range consts {
				x := &ast.BuiltinNode{Name: "sum", Arguments: []ast.Node{
					&ast.BinaryNode{Operator: "..", Left: &ast.IntegerNode{Value: lo}, Right: &ast.IntegerNode{Value: hi}},
					&ast.BinaryNode{Operator: "*", Left: &ast.PointerNode{}, Right: &ast.IntegerNode{Value: c}},
				}}
				if got, want := checkFold(x) != nil, bigCheckFold(lo, hi, c); got != want {
					t.Errorf("sum(%d..%d, # * %d): refused %v, math/big refused %v", lo, hi, c, got, want)
				}
			}
		}
	}
}

func TestU128(t *testing.T) {
	for _, c := range [][2]uint64{{0, 0}, {0, math.MaxUint64}, {1, 0}, {3, 12345}, {1 << 19, 0}} {
		want := new(big.Int).Lsh(new(big.Int).SetUint64(c[0]), 64)
		want.Add(want, new(big.Int).SetUint64(c[1]))
		if got := u128(c[0], c[1]); got != want.String() {
			t.Errorf("u128(%d, %d) = %s, want %s", c[0], c[1], got, want)
		}
	}
}
