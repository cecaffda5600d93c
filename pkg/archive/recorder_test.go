package archive

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
)

// TestRecorderSeriesParameters: the series of pingapi's own measurements
// carry the parameters with the values the probe really used —
// the request's zero fields are probe's defaults — and a series' key is
// the same for every measurement with the same parameters.
func TestRecorderSeriesParameters(t *testing.T) {
	st := openSQLite(t)
	f := NewFeed(st, FeedOptions{})
	addr := netip.MustParseAddr("127.0.0.1")
	t0 := time.Unix(1700000000, 0)
	for _, tool := range []string{ToolPing, ToolMonitor} {
		rec := &Recorder{Feed: f, Tool: tool, Agent: testAgent}
		for i := range 3 {
			res := probeResult(t0.Add(time.Duration(i) * time.Minute))
			res.Target = addr
			// As the on-demand API asks: no Size (probe's default).
			rec.Record("localhost", probe.Request{Target: addr, Count: 4, Interval: 200 * time.Millisecond}, res, nil)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{ToolPing, ToolMonitor} {
		mds, _, err := st.SearchMetadata(context.Background(), Filter{ToolName: tool})
		if err != nil || len(mds) != 1 {
			t.Fatalf("%s: %d series (%v), want 1", tool, len(mds), err)
		}
		want := map[string]string{"ip-transport-protocol": "icmp", "ip-packet-size": "56", "sample-size": "4", "time-probe-interval": "0.2"}
		for k, v := range want {
			if got := mds[0].Parameters[k]; got != v {
				t.Errorf("%s: %s = %q, want %q (all: %v)", tool, k, got, v, mds[0].Parameters)
			}
		}
	}
}
