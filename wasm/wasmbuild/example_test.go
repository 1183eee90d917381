package wasmbuild_test

import (
	"fmt"

	"github.com/connrules/connrules/wasm/wasmbuild"
)

// A module whose data section has two segments 3 zero bytes apart comes
// back with one segment: the gap is written out as zeros.
func ExamplePackData() {
	mod := []byte("\x00asm\x01\x00\x00\x00" +
		"\x0b\x0e" + // data section, 14 bytes
		"\x02" + // two segments
		"\x00\x41\x00\x0b\x02ab" + // at 0: "ab"
		"\x00\x41\x05\x0b\x01c") // at 5: "c"
	packed, err := wasmbuild.PackData(mod, wasmbuild.PackGap)
	fmt.Printf("%q %v\n", packed[8:], err)
	// Output: "\v\f\x01\x00A\x00\v\x06ab\x00\x00\x00c" <nil>
}
