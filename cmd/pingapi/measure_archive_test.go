package main

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/probe"
)

// TestMeasureArchive: --archive keeps every measurement, under the target
// as given, with its RTTs; without it nothing is written.
func TestMeasureArchive(t *testing.T) {
	a1, a3 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.10")
	eng := &fakeEngine{results: map[netip.Addr]probe.Result{a1: result(0, 1000, -1, 2000), a3: result(1, 500, 700, 900)}}
	db := filepath.Join(t.TempDir(), "archive.db")
	var out, errb bytes.Buffer
	if code := measure(context.Background(), newEnv(eng, ""), []string{"-q", "-c", "3", "--archive", db, "192.0.2.1", "host.test"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	st, err := archive.Open(context.Background(), archive.Options{DSN: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for target, want := range map[string][]time.Duration{
		"192.0.2.1": {time.Millisecond, archive.Lost, 2 * time.Millisecond},
		"host.test": {500 * time.Microsecond, 700 * time.Microsecond, 900 * time.Microsecond},
	} {
		ms, err := st.Measurements(context.Background(), archive.SeriesQuery{Target: target, Tool: archive.ToolPing}, t0.Add(-time.Hour), t0.Add(time.Hour), 0)
		if err != nil || len(ms) != 1 {
			t.Fatalf("%s: %d archived (%v), want 1", target, len(ms), err)
		}
		if got := ms[0].RTTs; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("%s: RTTs %v, want %v", target, got, want)
		}
	}
}
