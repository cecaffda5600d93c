package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version and commit identify the build. They are set at link time by
// deploy/build.sh (-ldflags "-X main.version=... -X main.commit=...") and are
// never written at run time: they are constants the linker fills in, the one
// kind of package-level variable this project allows.
var (
	version = "dev"
	commit  = "unknown"
)

// buildID is what `pingapi version` reports.
type buildID struct {
	Version, Commit, GoVersion, Platform string
}

// resolveBuildID combines the link-time values with the module build
// information the Go toolchain embeds (go install module@version sets the
// module version; a build inside a git checkout without -trimpath's
// buildvcs=false sets vcs.revision). Link-time values win; "dev" and
// "unknown" are the defaults when neither source knows. info may be nil.
func resolveBuildID(ldVersion, ldCommit string, info *debug.BuildInfo) buildID {
	id := buildID{Version: ldVersion, Commit: ldCommit, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if id.Version == "" {
		id.Version = "dev"
	}
	if id.Commit == "" {
		id.Commit = "unknown"
	}
	if info == nil {
		return id
	}
	if info.GoVersion != "" {
		id.GoVersion = info.GoVersion
	}
	if id.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		id.Version = info.Main.Version
	}
	if id.Commit == "unknown" {
		var rev string
		var dirty bool
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			id.Commit = rev
			if dirty {
				id.Commit += "-dirty"
			}
		}
	}
	return id
}

// runVersion prints the version and commit of this binary, one line
// ("pingapi VERSION commit COMMIT GOVERSION OS/ARCH"), or with --short only
// the version.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	short := fs.Bool("short", false, "print only the version")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pingapi version: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	info, _ := debug.ReadBuildInfo()
	id := resolveBuildID(version, commit, info)
	if *short {
		fmt.Fprintln(stdout, id.Version)
		return 0
	}
	fmt.Fprintf(stdout, "pingapi %s commit %s %s %s\n", id.Version, id.Commit, id.GoVersion, id.Platform)
	return 0
}
