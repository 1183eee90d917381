package rules

import (
	"reflect"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Operand sources. A fused node (a comparison, an `in`, an arithmetic
// step) reads its operands through a src: a constant, a fact field at a
// fixed offset, or a column of a params table chosen by a fact field, all
// read inline with a switch, and only any other operand through a
// closure. An indirect call per node was most of the typed allow's time.

// Roots a field offset counts from.
const (
	rootReq uint8 = iota
	rootSender
	rootRecipient
)

// leaf is a fact field: a fixed offset from the request or one of its
// members. Offsets come from reflect at load, from the expr tags.
type leaf struct {
	root uint8
	off  uintptr
}

// base is the struct the offset counts from; nil for a missing member,
// which fails as expr does.
func (l leaf) base(q *Request) unsafe.Pointer {
	switch l.root {
	case rootSender:
		return unsafe.Pointer(q.Sender)
	case rootRecipient:
		return unsafe.Pointer(q.Recipient)
	}
	return unsafe.Pointer(q)
}

// Source modes.
const (
	sFn     uint8 = iota // any other expression: a closure
	sConst               // a constant
	sField               // a fact field (leaf)
	sTable               // params.table[string field].column
	sMember              // sender or recipient itself (only its nil test is fused)
	sLen                 // len of a list field (only its comparisons are fused)
	sRunes               // len of a string field, in runes (likewise)
)

// srcDesc is what a compiled node keeps for fusing: how to read it
// without its closure. col is the table column, a []T.
type srcDesc struct {
	mode uint8
	lf   leaf
	keys []string
	col  any
}

// src reads an operand of type T.
type src[T any] struct {
	mode uint8
	lf   leaf
	c    T
	keys []string
	col  []T
	fn   func(*Request, string) (T, error)
}

// srcOf turns a compiled node into a source of type T; k is the kind of
// T, and fn the node's closure of that kind.
func srcOf[T any](v tval, k tkind, fn func(*Request, string) (T, error)) src[T] {
	if v.k != k {
		return src[T]{mode: sFn, fn: fn}
	}
	if v.isC {
		if c, ok := v.c.(T); ok {
			return src[T]{mode: sConst, c: c}
		}
	}
	if d := v.sd; d != nil && (d.mode == sField || d.mode == sTable) {
		s := src[T]{mode: d.mode, lf: d.lf, keys: d.keys, fn: fn}
		if d.col != nil {
			col, ok := d.col.([]T)
			if !ok {
				return src[T]{mode: sFn, fn: fn}
			}
			s.col = col
		}
		return s
	}
	return src[T]{mode: sFn, fn: fn}
}

// get reads the operand.
func (s *src[T]) get(q *Request, e string) (T, error) {
	switch s.mode {
	case sConst:
		return s.c, nil
	case sField:
		if p := s.lf.base(q); p != nil {
			return *(*T)(unsafe.Add(p, s.lf.off)), nil
		}
	case sTable:
		// A table has a few entries: comparing the key with each is
		// faster than hashing it.
		if p := s.lf.base(q); p != nil {
			k := *(*string)(unsafe.Add(p, s.lf.off))
			for i, key := range s.keys {
				if key == k {
					return s.col[i], nil
				}
			}
		}
	default:
		return s.fn(q, e)
	}
	var zero T
	return zero, errTyped
}

// both reads two operands, left first; the first error stops it.
func both[A, B any](a *src[A], b *src[B], q *Request, e string) (x A, y B, err error) {
	if x, err = a.get(q, e); err == nil {
		y, err = b.get(q, e)
	}
	return x, y, err
}

// fieldFn is the closure of a field read.
func fieldFn[T any](lf leaf) func(*Request, string) (T, error) {
	return func(q *Request, _ string) (T, error) {
		p := lf.base(q)
		if p == nil {
			var zero T
			return zero, errTyped
		}
		return *(*T)(unsafe.Add(p, lf.off)), nil
	}
}

// fieldVal compiles a field read of the given kind; ok is false for a
// type the back end does not cover.
func fieldVal(lf leaf, t reflect.Type) (tval, bool) {
	v := tval{k: kindOf(t), sd: &srcDesc{mode: sField, lf: lf}}
	switch v.k {
	case kBool:
		v.b = fieldFn[bool](lf)
		v.in = &inline{op: opBool, lf: lf}
		v.neg = func() fnBool {
			return func(q *Request, _ string) (bool, error) {
				p := lf.base(q)
				if p == nil {
					return false, errTyped
				}
				return !*(*bool)(unsafe.Add(p, lf.off)), nil
			}
		}
	case kInt:
		v.i = fieldFn[int](lf)
	case kFloat:
		v.f = fieldFn[float64](lf)
	case kString:
		v.s = fieldFn[string](lf)
	case kTime:
		v.t = fieldFn[time.Time](lf)
	case kDur:
		v.d = fieldFn[time.Duration](lf)
	case kStrings:
		v.ss = fieldFn[[]string](lf)
	default:
		return tval{}, false
	}
	return v, true
}

// fieldInfo is where a fact field lives: its offset and type.
type fieldInfo struct {
	off uintptr
	t   reflect.Type
}

// factFields maps "request." and "member." dotted expr paths to their
// fields, built once: walking the struct tags for every node was a few
// percent of loading a policy.
var factFields = sync.OnceValue(func() map[string]fieldInfo {
	out := map[string]fieldInfo{}
	var walk func(prefix string, t reflect.Type, off uintptr)
	walk = func(prefix string, t reflect.Type, off uintptr) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("expr"), ",")
			if name == "" || !f.IsExported() {
				continue
			}
			path := prefix + "." + name
			out[path] = fieldInfo{off: off + f.Offset, t: f.Type}
			if f.Type.Kind() == reflect.Struct && f.Type != typTime {
				walk(path, f.Type, off+f.Offset)
			}
		}
	}
	walk("request", reflect.TypeOf(Request{}), 0)
	walk("member", reflect.TypeOf(Member{}), 0)
	return out
})

// factField compiles a read of a fact field: a member's (root sender or
// recipient) or the request's own (stage, note, now, pair...).
func factField(root uint8, names []string) (tval, bool) {
	prefix := "request."
	if root != rootReq {
		prefix = "member."
	}
	f, ok := factFields()[prefix+strings.Join(names, ".")]
	if !ok {
		return tval{}, false
	}
	return fieldVal(leaf{root: root, off: f.off}, f.t)
}
