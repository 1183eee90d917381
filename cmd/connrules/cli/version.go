package cli

import (
	"runtime/debug"
	"strings"
)

// Version overrides the version read from the build info when set at
// build time (-ldflags "-X github.com/connrules/connrules/cmd/connrules/cli.Version=v1.2.3").
var Version = ""

// version is what `connrules version` prints: the module version that
// `go install ...@vX` or a build in a tagged checkout stamps, and the VCS
// revision when the binary was built from a checkout.
func version() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return formatVersion(info)
}

// formatVersion renders build info as "v0.1.0 (rev 0123456789ab, modified)".
func formatVersion(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	var extra []string
	if rev != "" {
		extra = append(extra, "rev "+rev[:min(12, len(rev))])
	}
	if modified == "true" {
		extra = append(extra, "modified")
	}
	if len(extra) == 0 {
		return v
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}
