package api

import (
	"net/http"
	"testing"
)

// TestEsmondPSchedulerThroughput: pScheduler's esmond archiver (its
// EsmondThroughputRecord) posts iperf3's throughput-bits, a float, as the
// integer event type throughput; esmond stores int(value). Refusing it
// would fail every throughput archiving (the bulk PUT is all or nothing).
func TestEsmondPSchedulerThroughput(t *testing.T) {
	e := newEsmondEnv(t, nil)
	key := e.register(t, `{"subject-type": "point-to-point", "source": "10.1.1.1", "destination": "10.1.1.2",
	  "input-source": "host1.example.net", "input-destination": "host2.example.net", "tool-name": "pscheduler/iperf3",
	  "time-duration": 10, "measurement-agent": "10.1.1.1", "pscheduler-test-type": "throughput", "ip-transport-protocol": "tcp",
	  "event-types": [{"event-type": "failures"}, {"event-type": "throughput", "summaries": [{"summary-window": 86400, "event-type": "throughput", "summary-type": "average"}]},
	   {"event-type": "throughput-subintervals"}, {"event-type": "packet-retransmits"}, {"event-type": "packet-retransmits-subintervals"}]}`)
	doc := `{"data": [{"ts": 1700000000, "val": [
	   {"event-type": "throughput", "val": 9412345678.75},
	   {"event-type": "throughput-subintervals", "val": [{"start": 0, "duration": 1.000127, "val": 941234567.5}]},
	   {"event-type": "packet-retransmits", "val": 12}]}]}`
	wantStatus(t, e.write(http.MethodPut, "/esmond/perfsonar/archive/"+key+"/", doc), http.StatusCreated)
	if got := e.read(t, "/esmond/perfsonar/archive/"+key+"/throughput/base"); len(got) != 1 || string(got[0].Val) != "9412345678.0" {
		t.Errorf("throughput: %s", js(got))
	}
}
