package main

import (
	"strings"
	"testing"
)

func TestRatios(t *testing.T) {
	in := `goos: linux
BenchmarkAllow/native-2 	   32800	      800 ns/op	     400 cpu-ns/op	     256 B/op	       3 allocs/op
BenchmarkAllow/hand-2   	 1000000	       100.0 ns/op	      50 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkAllow/native-2 	   32800	      600 ns/op	     300 cpu-ns/op	     256 B/op	       3 allocs/op
BenchmarkAllow/hand-2   	 1000000	       100.0 ns/op	      50 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkAllow/native-2 	   32800	      700 ns/op	     200 cpu-ns/op	     256 B/op	       3 allocs/op
BenchmarkAllow/hand-2   	 1000000	       100.0 ns/op	      50 cpu-ns/op	       0 B/op	       0 allocs/op
PASS
`
	var out strings.Builder
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"medians of 3 runs", "Allow/native", "700", "7.0x", "300", "6.0x", "Allow/hand"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(strings.NewReader("--- FAIL: BenchmarkAllow\nFAIL\n"), &out); err == nil {
		t.Error("a failed run passed")
	}
	if err := run(strings.NewReader("PASS\n"), &out); err == nil {
		t.Error("a run without benchmarks passed")
	}
}
