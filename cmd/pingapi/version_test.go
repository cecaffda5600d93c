package main

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolveBuildID(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name                string
		ldVersion, ldCommit string
		info                *debug.BuildInfo
		wantVersion         string
		wantCommit          string
	}{
		{"defaults, no info", "dev", "unknown", nil, "dev", "unknown"},
		{"empty ldflags", "", "", nil, "dev", "unknown"},
		{"ldflags win", "v1.2.3", "abc123", &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}, Settings: vcs("fff", "false")}, "v1.2.3", "abc123"},
		{"devel module, no vcs", "dev", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev", "unknown"},
		{"go install version", "dev", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0", "unknown"},
		{"vcs revision", "dev", "unknown", &debug.BuildInfo{Settings: vcs("deadbeef", "false")}, "dev", "deadbeef"},
		{"vcs dirty", "dev", "unknown", &debug.BuildInfo{Settings: vcs("deadbeef", "true")}, "dev", "deadbeef-dirty"},
		{"ldflags version, vcs commit", "v1.0.0", "unknown", &debug.BuildInfo{Settings: vcs("cafe", "false")}, "v1.0.0", "cafe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolveBuildID(tt.ldVersion, tt.ldCommit, tt.info)
			if got.Version != tt.wantVersion || got.Commit != tt.wantCommit {
				t.Fatalf("got version %q commit %q, want %q %q", got.Version, got.Commit, tt.wantVersion, tt.wantCommit)
			}
			if got.Platform != runtime.GOOS+"/"+runtime.GOARCH || got.GoVersion == "" {
				t.Fatalf("platform %q go %q", got.Platform, got.GoVersion)
			}
		})
	}
}

func TestRunVersion(t *testing.T) {
	tests := []struct {
		args    []string
		want    int
		wantOut string
	}{
		{nil, 0, "pingapi "},
		{[]string{"--short"}, 0, ""},
		{[]string{"extra"}, 2, ""},
		{[]string{"--bogus"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := runVersion(tt.args, &stdout, &stderr); got != tt.want {
				t.Fatalf("exit %d, want %d (stderr %q)", got, tt.want, stderr.String())
			}
			if tt.want == 0 && (!strings.HasPrefix(stdout.String(), tt.wantOut) || !strings.HasSuffix(stdout.String(), "\n")) {
				t.Fatalf("stdout %q", stdout.String())
			}
			if tt.want == 0 && strings.Count(stdout.String(), "\n") != 1 {
				t.Fatalf("want one line, got %q", stdout.String())
			}
		})
	}
}
