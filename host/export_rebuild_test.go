package host

// BuiltByCallers counts the instances made on a caller's path (get), not
// by the rebuilder.
func (e *Engine) BuiltByCallers() int64 { return e.built.Load() }
