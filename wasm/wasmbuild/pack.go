package wasmbuild

import (
	"errors"
	"fmt"

	"github.com/connrules/connrules/wasm/internal/wasmdata"
)

// PackGap is the shortest run of zero bytes that PackData keeps as a gap
// between two data segments; shorter runs are written out as zeros.
//
// Go's linker starts a new data segment at every run of 8 zeros, which
// gave the page's module ~98,000 segments whose headers (offset, length)
// were 0.78 MB raw and ~180 KB after gzip, since their offsets do not
// repeat. Zeros compress to almost nothing, so merging across short runs
// trades ~1 MB of raw zeros for that: 2.42 → 2.25 MB gzip. Past 64 the
// gap barely matters (RATIONALE.md, "Why is the page's module rewritten
// after linking?").
const PackGap = 256

// PackData rewrites a module's data section so that memory is written by
// one segment for each stretch between runs of at least gap zero bytes.
// Memory starts with the same bytes; every other section is copied
// unchanged. It accepts what Go's linker writes: active segments in
// memory 0 at i32.const offsets that do not overlap, and no datacount
// section.
func PackData(mod []byte, gap int) ([]byte, error) {
	return rewriteData(mod, func(*wasmdata.Image) error { return nil }, gap)
}

// StripLines removes the file and line tables from the pclntab of a Go
// module (wasmdata.Image.StripLines) and packs its data as PackData does.
// Stack traces in panics then name functions without file:line.
func StripLines(mod []byte, gap int) ([]byte, error) {
	return rewriteData(mod, func(im *wasmdata.Image) error {
		l, err := im.Layout()
		if err == nil {
			_, err = im.StripLines(l)
		}
		return err
	}, gap)
}

func rewriteData(mod []byte, edit func(*wasmdata.Image) error, gap int) ([]byte, error) {
	secs, err := wasmdata.Sections(mod)
	if err != nil {
		return nil, fmt.Errorf("pack: %v", err)
	}
	done := false
	for i, s := range secs {
		switch s.ID {
		case 11: // data
			im, err := wasmdata.ReadImage(s.Body)
			if err != nil {
				return nil, fmt.Errorf("pack: %v", err)
			}
			if err := edit(im); err != nil {
				return nil, fmt.Errorf("pack: %v", err)
			}
			secs[i].Body = im.Encode(gap)
			done = true
		case 12: // datacount: it would have to follow the new count
			return nil, errors.New("pack: module has a datacount section")
		}
	}
	if !done {
		return nil, errors.New("pack: module has no data section")
	}
	return wasmdata.Join(mod, secs), nil
}
