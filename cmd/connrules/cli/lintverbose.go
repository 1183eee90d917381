package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/connrules/connrules/rules"
)

// fallbacksOf lists the expressions of a policy file that the typed back
// end leaves to expr's VM; nil when the file does not load (lint has
// reported why).
func fallbacksOf(file string) ([]rules.Fallback, bool) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, false
	}
	p, err := rules.Load(file, src)
	if err != nil {
		return nil, false
	}
	return p.Fallbacks(), true
}

// writeFallbacks says, for lint --verbose, which expressions run on the VM
// and why, or that all run typed.
func writeFallbacks(w io.Writer, file string, fbs []rules.Fallback) {
	if len(fbs) == 0 {
		fmt.Fprintf(w, "%s: every expression runs on the typed back end\n", file)
		return
	}
	for _, fb := range fbs {
		fmt.Fprintf(w, "%s: rule %s: %s runs on expr's VM: %s\n", fb.Pos, fb.Rule, fb.What, fb.Why)
	}
}
