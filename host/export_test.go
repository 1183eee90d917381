package host

import (
	"context"
	"errors"
)

// Fault makes one pooled instance fail on purpose through the module's
// debug_fault export: 0 panics, 1 traps, 2 runs out of memory.
func (e *Engine) Fault(ctx context.Context, kind uint32) error {
	return e.call(ctx, "debug_fault", func(in *instance) error {
		f := in.mod.ExportedFunction("debug_fault")
		if f == nil {
			return errors.New("the module has no debug_fault export")
		}
		in.stack[0] = uint64(kind)
		if err := f.CallWithStack(ctx, in.stack[:1]); err != nil {
			return in.failed(err)
		}
		out, ok, err := in.result(in.stack[0])
		if err != nil {
			return err
		}
		if !ok {
			return in.guestError(out)
		}
		lastFault = string(out)
		return nil
	})
}

var lastFault string

// MemStats returns the guest's runtime.MemStats summary (debug_fault 3).
func (e *Engine) MemStats(ctx context.Context) string {
	if err := e.Fault(ctx, 3); err != nil {
		return err.Error()
	}
	return lastFault
}
