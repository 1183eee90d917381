// Command prog is the module wasmdata's tests rewrite and run in Node: it
// allocates through several GCs, recovers a panic and prints where it was.
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	_ "time/tzdata" // as rules embeds it: wasm/sizes finds its zip
)

type node struct {
	next *node
	buf  []byte
}

//go:noinline
func build(n int) *node {
	var head *node
	for i := 0; i < n; i++ {
		head = &node{next: head, buf: make([]byte, 100+i%50)}
	}
	return head
}

func boom(m map[string]int) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprint(r, " in main.boom: ", strings.Contains(string(debug.Stack()), "main.boom"))
		}
	}()
	var p *node
	m["x"] = len(p.buf) // nil dereference
	return "no panic"
}

func main() {
	total := 0
	for round := 0; round < 5; round++ {
		for n := build(20000); n != nil; n = n.next {
			total += len(n.buf)
		}
		runtime.GC()
	}
	_, file, line, _ := runtime.Caller(0)
	fmt.Println("total", total)
	fmt.Println(boom(map[string]int{}))
	fmt.Printf("caller %s:%d\n", file[strings.LastIndex(file, "/")+1:], line)
}
