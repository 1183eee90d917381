package cli

import (
	"runtime/debug"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123"}}
	for _, c := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"go install @v0.1.0", debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, "v0.1.0"},
		{"a test binary", debug.BuildInfo{}, "(devel)"},
		{"a clean checkout", debug.BuildInfo{Main: debug.Module{Version: "v0.1.1-0.20261202144500-0123456789ab"}, Settings: rev},
			"v0.1.1-0.20261202144500-0123456789ab (rev 0123456789ab)"},
		{"an edited checkout", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})}, "(devel) (rev 0123456789ab, modified)"},
	} {
		if got := formatVersion(&c.info); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestVersionOverride(t *testing.T) {
	defer func(v string) { Version = v }(Version)
	Version = "v9.9.9"
	if got := version(); got != "v9.9.9" {
		t.Errorf("version() = %q with Version set", got)
	}
}
