package netlab

import (
	"fmt"
	"testing"
)

// recordTB records what a helper asks of its test instead of ending it.
type recordTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordTB) Helper()                   {}
func (r *recordTB) Fatalf(f string, a ...any) { r.fatal = fmt.Sprintf(f, a...) }
func (r *recordTB) Skip(a ...any)             { r.skip = fmt.Sprint(a...) }

// TestUnavailable: the one CI-aware skip skips with the reason, and fails
// with it when CI=true.
func TestUnavailable(t *testing.T) {
	for _, tt := range []struct {
		ci          string
		fatal, skip bool
	}{{"true", true, false}, {"", false, true}, {"false", false, true}} {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			var r recordTB
			Unavailable(&r, "needs a thing")
			if (r.fatal != "") != tt.fatal || (r.skip != "") != tt.skip {
				t.Fatalf("fatal %q, skip %q; want fatal %v, skip %v", r.fatal, r.skip, tt.fatal, tt.skip)
			}
			if msg := r.fatal + r.skip; msg != "needs a thing" && msg != "needs a thing (CI=true: not skipping)" {
				t.Errorf("message %q does not give the reason", msg)
			}
		})
	}
}

// TestSkipShort: -short skips a slow test, except in CI.
func TestSkipShort(t *testing.T) {
	if !testing.Short() {
		var r recordTB
		SkipShort(&r, "slow")
		if r.skip != "" {
			t.Fatalf("skipped without -short: %q", r.skip)
		}
		return
	}
	for ci, want := range map[string]bool{"true": false, "": true} {
		t.Setenv("CI", ci)
		var r recordTB
		SkipShort(&r, "slow")
		if (r.skip != "") != want {
			t.Errorf("CI=%q -short: skip %q, want skip %v", ci, r.skip, want)
		}
	}
}
