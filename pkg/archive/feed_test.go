package archive

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
)

// TestFeedDropsWhenFull: with nobody writing, the queue takes QueueSize
// measurements and drops (counts, logs once) the rest.
func TestFeedDropsWhenFull(t *testing.T) {
	var logs bytes.Buffer
	f := NewFeed(openSQLite(t), FeedOptions{QueueSize: 3, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	m := testMeasurement(fixedNow(), "x.example", time.Millisecond)
	for i := range 5 {
		if ok := f.Record(m); ok != (i < 3) {
			t.Fatalf("record %d: %v", i, ok)
		}
	}
	st := f.Stats()
	if st.Queued != 3 || st.Dropped != 2 || st.QueueLen != 3 || st.QueueCap != 3 {
		t.Fatalf("stats %+v", st)
	}
	if n := strings.Count(logs.String(), "queue full"); n != 1 {
		t.Errorf("%d drop log lines, want 1 (rate limited):\n%s", n, logs.String())
	}
	bad := m
	bad.Addr = netip.Addr{}
	if f.Record(bad) || f.Stats().Failed != 1 {
		t.Error("a measurement without an address was accepted")
	}
}

// TestFeedWritesAndDrains: Run writes what is recorded; cancelling it
// writes what is still queued before it returns.
func TestFeedWritesAndDrains(t *testing.T) {
	st := openSQLite(t)
	var src SourceAddrs
	f := NewFeed(st, FeedOptions{QueueSize: 1000, BatchSize: 7, Agent: src.Of})
	rec := &Recorder{Feed: f, Tool: ToolPing}
	t0 := time.Unix(1700000000, 0)
	for i := range 100 {
		res := probeResult(t0.Add(time.Duration(i) * time.Minute))
		res.Target = netip.MustParseAddr("127.0.0.1")
		rec.Record("localhost", reqOf(res), res, nil)
	}
	// Cancelled measurements are not archived; failed ones are.
	req := reqOf(probeResult(t0))
	rec.Record("localhost", req, probe.Result{Target: netip.MustParseAddr("127.0.0.1")}, context.Canceled)
	rec.Record("localhost", req, probe.Result{Target: netip.MustParseAddr("127.0.0.1"), Started: t0.Add(-time.Minute)}, probe.ErrNoSocket)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run drains the queue and returns
	if err := f.Run(ctx); err != nil {
		t.Fatal(err)
	}
	s := f.Stats()
	if s.Written != 101 || s.Failed != 0 || s.QueueLen != 0 || s.Batches != 15 || s.WriteSeconds <= 0 {
		t.Fatalf("stats %+v", s)
	}
	var inHist uint64
	for _, c := range s.WriteHist {
		inHist += c
	}
	if inHist != s.Batches || len(WriteBounds())+1 != len(s.WriteHist) {
		t.Errorf("write histogram %v counts %d of %d batches", s.WriteHist, inHist, s.Batches)
	}
	got, err := st.Measurements(context.Background(), SeriesQuery{Target: "localhost", Tool: ToolPing}, t0.Add(-time.Hour), t0.Add(24*time.Hour), 0)
	if err != nil || len(got) != 101 {
		t.Fatalf("%d stored (%v), want 101", len(got), err)
	}
	if got[0].Error == "" || got[1].Received() != 3 || got[1].Agent != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("first %+v, second %+v", got[0], got[1])
	}
	mds, _, _ := st.SearchMetadata(context.Background(), Filter{ToolName: ToolPing})
	if len(mds) != 1 {
		t.Fatalf("%d series, want 1", len(mds))
	}
	pts, err := st.Data(context.Background(), DataQuery{Key: mds[0].Key, EventType: "failures"})
	if err != nil || len(pts) != 1 || !strings.Contains(string(pts[0].Val), "cannot open an ICMP socket") {
		t.Errorf("failures: %s %v", js(pts), err)
	}
}
