package host

import (
	"bytes"
	"context"
	"os"
	"time"
)

// WatchFile loads the policy at path now, and again whenever the file's
// contents change, until ctx is done or the Engine closes. It polls (every
// 500ms unless [WithWatchInterval] says otherwise), which works the same
// on every platform and survives editors that replace the file.
//
// A change is loaded once two reads in a row agree, so a file caught
// half-written is not loaded. It is compiled completely before it is
// swapped in, as [Engine.Load] does: an invalid edit leaves the last good policy serving.
// report, if not nil, is called from the watcher's goroutine after every
// reload that follows the first, with nil or the error (a
// [rules.ErrorList] for a policy with errors, or the error reading the
// file).
//
// The first load's error is returned, but the watch goes on regardless,
// so that fixing the file brings the policy in.
func (e *Engine) WatchFile(ctx context.Context, path string, report func(error)) error {
	src, err := os.ReadFile(path)
	if err == nil {
		err = e.Load(ctx, path, src)
	}
	last, lastErr := src, err
	var pending []byte
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		t := time.NewTicker(e.cfg.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-e.done:
				return
			case <-t.C:
			}
			src, err := os.ReadFile(path)
			switch {
			case err != nil:
				if lastErr == nil || lastErr.Error() != err.Error() {
					lastErr = err
					if report != nil {
						report(err)
					}
				}
				continue
			case bytes.Equal(src, last):
				pending = nil
				continue // unchanged, or the same broken file, reported already
			case !bytes.Equal(src, pending):
				// Changed: wait until two reads agree, so that a file caught
				// half-written is not reported as an error.
				pending = src
				continue
			}
			pending = nil
			last = src
			lastErr = e.Load(ctx, path, src)
			if report != nil {
				report(lastErr)
			}
		}
	}()
	return err
}
