package tcpecho

import (
	"context"
	"encoding/json"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/archive"
)

func openArchive(t *testing.T) *archive.Store {
	t.Helper()
	st, err := archive.Open(context.Background(), archive.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestArchiveFeed: socat clients' echoes reach a real SQLite archive
// through the esmond ingest API: one metadata record per (server agent,
// client) with tool-name pingapi/tcp-echo and ip-transport-protocol tcp,
// and per window the ICMP event types plus the kernel's RTT; the
// statistics summary of histogram-rtt is computed by the archive.
func TestArchiveFeed(t *testing.T) {
	st := openArchive(t)
	sink := &ArchiveSink{Store: st, Interval: testInterval}
	// Windows of a whole second: esmond's timestamps are seconds.
	s, addr := startServer(t, Options{Sink: sink, Window: time.Second})
	socat(t, addr, "")
	waitFor(t, "2 windows archived", func() bool { return sink.Written() >= 2 })
	if sink.Failed() != 0 {
		t.Fatalf("%d windows failed", sink.Failed())
	}
	_ = s
	mds, total, err := st.SearchMetadata(context.Background(), archive.Filter{ToolName: ArchiveTool})
	if err != nil || total != 1 {
		t.Fatalf("metadata: %d records, %v; want 1", total, err)
	}
	md := mds[0]
	if md.Parameters["ip-transport-protocol"] != "tcp" || md.InputDestination != "127.0.0.1" || md.MeasurementAgent != "127.0.0.1" || md.Destination != "127.0.0.1" {
		t.Errorf("metadata %+v", md)
	}
	for _, et := range []string{"histogram-rtt", KernelRTTEventType, "packet-count-sent", "packet-loss-rate-bidir", RetransmitsEventType} {
		if _, ok := md.EventType(et); !ok {
			t.Errorf("event type %s not registered", et)
		}
	}
	get := func(et, summary string) []archive.Point {
		pts, err := st.Data(context.Background(), archive.DataQuery{Key: md.Key, EventType: et, SummaryType: summary})
		if err != nil {
			t.Fatalf("data %s/%s: %v", et, summary, err)
		}
		return pts
	}
	sent := get("packet-count-sent", "")
	if len(sent) < 2 {
		t.Fatalf("%d packet-count-sent points, want ≥ 2", len(sent))
	}
	sum := func(pts []archive.Point) (n int64) {
		for _, p := range pts {
			var v float64 // esmond writes integers as 21.0
			if err := json.Unmarshal(p.Val, &v); err != nil {
				t.Fatalf("%s: %v", p.Val, err)
			}
			n += int64(v)
		}
		return n
	}
	nsent, nlost := sum(sent), sum(get("packet-count-lost-bidir", ""))
	var nrtt int64
	for _, p := range get("histogram-rtt", "") {
		var h map[string]int64
		if err := json.Unmarshal(p.Val, &h); err != nil {
			t.Fatal(err)
		}
		for _, c := range h {
			nrtt += c
		}
	}
	if nrtt == 0 || nrtt != nsent-nlost {
		t.Errorf("%d probes sent, %d lost, %d RTTs in the histograms", nsent, nlost, nrtt)
	}
	if k := get(KernelRTTEventType, ""); len(k) == 0 {
		t.Error("no kernel RTT points")
	}
	stats := get("histogram-rtt", archive.SummaryStatistics)
	if len(stats) == 0 || !json.Valid(stats[0].Val) {
		t.Errorf("statistics summary %v", stats)
	}
}

// TestArchiveMerge: two windows of one client and one start (two plain
// clients behind one address) become one record; a name keeps an agent
// apart from the address it connects from.
func TestArchiveMerge(t *testing.T) {
	st := openArchive(t)
	now := time.Unix(1_800_000_030, 0) // 30 s into a minute
	sink := &ArchiveSink{Store: st, Grace: time.Minute, Now: func() time.Time { return now }}
	start := now.Truncate(time.Minute).Add(-time.Minute) // ended 30 s ago: due in 30 s
	w := Window{Addr: netip.MustParseAddrPort("192.0.2.9:40001"), Local: netip.MustParseAddrPort("192.0.2.1:7007"),
		Start: start, End: start.Add(time.Minute), Sent: 20, Received: 19,
		RTTs: make([]time.Duration, 19), KernelRTTs: []time.Duration{time.Millisecond}}
	for i := range w.RTTs {
		w.RTTs[i] = 10 * time.Millisecond
	}
	w2 := w
	w2.Addr = netip.MustParseAddrPort("192.0.2.9:40002")
	w2.Sent, w2.Received, w2.RTTs = 10, 10, w.RTTs[:10]
	agent := w
	agent.Name = "berlin"
	later := w
	later.Start, later.End = now.Truncate(time.Minute), now.Truncate(time.Minute).Add(time.Minute)
	ctx := context.Background()
	for _, x := range []Window{w, w2, agent, later} {
		sink.Window(ctx, x)
	}
	if sink.Written() != 0 {
		t.Fatalf("%d records written before their grace passed", sink.Written())
	}
	now = now.Add(31 * time.Second)
	sink.flush(ctx, false)
	if sink.Written() != 2 {
		t.Fatalf("%d records written, want 2 (the merged one and the agent's; the current window waits)", sink.Written())
	}
	sink.Flush(ctx)
	if sink.Written() != 3 || sink.Failed() != 0 {
		t.Fatalf("written %d failed %d after Flush, want 3, 0", sink.Written(), sink.Failed())
	}
	mds, _, err := st.SearchMetadata(ctx, archive.Filter{ToolName: ArchiveTool, InputDestination: "192.0.2.9"})
	if err != nil || len(mds) != 1 {
		t.Fatalf("metadata of 192.0.2.9: %v, %v", mds, err)
	}
	pts, err := st.Data(ctx, archive.DataQuery{Key: mds[0].Key, EventType: "packet-loss-rate-bidir"})
	if err != nil || len(pts) != 2 {
		t.Fatalf("loss points %v, %v", pts, err)
	}
	var loss float64
	if err := json.Unmarshal(pts[0].Val, &loss); err != nil || math.Abs(loss-1.0/30) > 1e-9 {
		t.Errorf("merged loss %s: want 1 of 30", pts[0].Val)
	}
}
