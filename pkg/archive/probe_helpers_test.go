package archive

import (
	"net/netip"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
)

// probeResult is a 4-request result started at t0, one request a second:
// replies of 10 ms, none, 2.5 ms and 1 ms.
func probeResult(t0 time.Time) probe.Result {
	res := probe.Result{Target: netip.MustParseAddr("192.0.2.20"), Sent: 4, Received: 3, Started: t0, Finished: t0.Add(5 * time.Second)}
	for i, r := range []time.Duration{10 * time.Millisecond, 0, 2500 * time.Microsecond, time.Millisecond} {
		p := probe.Packet{Seq: i, SentAt: t0.Add(time.Duration(i) * time.Second)}
		if r > 0 {
			p.Received, p.RTT, p.TTL = true, r, 58
		}
		res.Packets = append(res.Packets, p)
	}
	return res
}

func reqOf(res probe.Result) probe.Request {
	return probe.Request{Target: res.Target, Count: res.Sent, Interval: time.Second, Size: 56}
}

var testAgent = netip.MustParseAddr("192.0.2.1")
