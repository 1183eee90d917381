//go:build wasip1

package guest

// localIsUTC: under wasip1 the Go runtime's Local zone has no offsets
// (time/zoneinfo_wasip1.go), so a time with an offset is never in it and
// the decoder skips the lookup.
const localIsUTC = true
