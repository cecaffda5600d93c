package report

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/stats"
)

var t0 = time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)

func res(addr string, rttsMicro ...int) probe.Result {
	r := probe.Result{Target: netip.MustParseAddr(addr), Sent: len(rttsMicro), Started: t0, Finished: t0.Add(3 * time.Second)}
	for i, us := range rttsMicro {
		p := probe.Packet{Seq: i}
		if us >= 0 {
			p.Received, p.RTT, p.TTL = true, time.Duration(us)*time.Microsecond, 64
			r.Received++
		}
		r.Packets = append(r.Packets, p)
	}
	return r
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name        string
		input       string
		res         probe.Result
		withPackets bool
		want        string // exact JSON
	}{
		{
			name:  "all lost: RTT fields null, loss 100",
			input: "h.test",
			res:   res("192.0.2.1", -1, -1),
			want: `{"date_time":"20261122070000","ip_host":"h.test","ip":"192.0.2.1","family":4,"rtt_min":null,"rtt_mean":null,"rtt_max":null,"rtt_stddev":null,"jitter":null,"percentiles":null,` +
				`"count_requested":2,"count_sent":2,"count_received":0,"packet_loss":100,"duplicates":0,"late":0,"started_at":"2026-11-22T07:00:00Z","finished_at":"2026-11-22T07:00:03Z"}`,
		},
		{
			// 1, 3, 2 ms: mean 2, σ = 0.816 ms (µs-rounded), jitter (2+1)/2.
			name:        "three replies with packets",
			input:       "2001:db8::1",
			res:         res("2001:db8::1", 1000, 3000, 2000, -1),
			withPackets: true,
			want: `{"date_time":"20261122070000","ip_host":"2001:db8::1","ip":"2001:db8::1","family":6,"rtt_min":1,"rtt_mean":2,"rtt_max":3,"rtt_stddev":0.816,"jitter":1.5,"percentiles":{"p50":2,"p90":3,"p95":3,"p99":3},` +
				`"count_requested":2,"count_sent":4,"count_received":3,"packet_loss":25,"duplicates":0,"late":0,"started_at":"2026-11-22T07:00:00Z","finished_at":"2026-11-22T07:00:03Z",` +
				`"packets":[{"seq":0,"rtt":1,"ttl":64},{"seq":1,"rtt":3,"ttl":64},{"seq":2,"rtt":2,"ttl":64},{"seq":3,"rtt":null}]}`,
		},
		{
			name:  "IPv4-mapped address is family 4",
			input: "x",
			res:   res("::ffff:192.0.2.1", 500),
			want: `{"date_time":"20261122070000","ip_host":"x","ip":"::ffff:192.0.2.1","family":4,"rtt_min":0.5,"rtt_mean":0.5,"rtt_max":0.5,"rtt_stddev":0,"jitter":0,"percentiles":{"p50":0.5,"p90":0.5,"p95":0.5,"p99":0.5},` +
				`"count_requested":2,"count_sent":1,"count_received":1,"packet_loss":0,"duplicates":0,"late":0,"started_at":"2026-11-22T07:00:00Z","finished_at":"2026-11-22T07:00:03Z"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(Build(tt.input, 2, tt.res, tt.withPackets))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b, tt.want)
			}
		})
	}
}

func TestPacketOfLateAndDuplicates(t *testing.T) {
	p := PacketOf(probe.Packet{Seq: 7, Late: true, Duplicates: 2})
	b, _ := json.Marshal(p)
	if s := string(b); s != `{"seq":7,"rtt":null,"late":true,"duplicates":2}` || !strings.Contains(s, "null") {
		t.Fatalf("got %s", s)
	}
}

// TestSummarize: the one summary of a result is stats.Summarize of its
// received RTTs in sequence order; without percentiles it is the same but
// for P50 to P99, and costs no allocation (the monitor calls it on the
// engine's loop).
func TestSummarize(t *testing.T) {
	r := res("192.0.2.1", 300, -1, 100, 200, -1, 1000)
	r.Duplicates = 2
	want := stats.Summarize(6, []time.Duration{300 * time.Microsecond, 100 * time.Microsecond, 200 * time.Microsecond, time.Millisecond}, 2)
	if got := Summarize(r, true); got != want {
		t.Errorf("with percentiles:\n got %+v\nwant %+v", got, want)
	}
	if want.P90 == 0 {
		t.Fatal("test data has no percentiles")
	}
	want.P50, want.P90, want.P95, want.P99 = 0, 0, 0, 0
	if got := Summarize(r, false); got != want {
		t.Errorf("without percentiles:\n got %+v\nwant %+v", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { Summarize(r, false) }); n != 0 {
		t.Errorf("Summarize without percentiles allocates %v times", n)
	}
}

// TestPacketLossRounded: packet_loss has the original's 2 decimals, with
// Python's round-half-even on the exact value.
func TestPacketLossRounded(t *testing.T) {
	for _, tt := range []struct {
		sent, recv int
		want       float64
	}{
		{3, 2, 33.33}, {3, 1, 66.67}, {32, 31, 3.12}, {7, 6, 14.29}, {1, 0, 100}, {4, 4, 0},
	} {
		us := make([]int, tt.sent)
		for i := range us {
			us[i] = 1000
			if i >= tt.recv {
				us[i] = -1
			}
		}
		if got := Build("x", tt.sent, res("192.0.2.1", us...), false).PacketLoss; got != tt.want {
			t.Errorf("%d sent, %d received: packet_loss %v, want %v", tt.sent, tt.recv, got, tt.want)
		}
	}
}
