//go:build !wasip1

package guest

// localIsUTC is false where Local may have offsets (native, js).
const localIsUTC = false
