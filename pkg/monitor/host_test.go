package monitor

import (
	"testing"

	"github.com/pingapi/pingapi/pkg/wire"
)

// TestRecordRounding: the record is rounded once, where it is built: RTTs
// to the microsecond (stats.Millis), loss to three decimals from
// stats.Loss (clamped: never negative), timestamps to the millisecond.
func TestRecordRounding(t *testing.T) {
	h := host{name: "192.0.2.1", hasData: true, xmit: 3, recv: 2, dup: 1, alive: true,
		xmitTS: 1795330809404999999, startTS: 1795330800000000000, stopTS: 1795330810002000001,
		tmin: 41212345, tmax: 41374500, avg: 41265000, stddev: 46499, jitter: 31000}
	want := wire.Record{Name: "192.0.2.1", Validity: true, Status: wire.StatusValid,
		XmitTimestamp: 1795330809.404, StartTimestamp: 1795330800, StopTimestamp: 1795330810.002,
		Xmit: 3, Recv: 2, Dup: 1, Loss: 33.333, TMin: 41.212, TMax: 41.375, Avg: 41.265, StdDev: 0.046, Jitter: 0.031, Alive: true}
	if got := h.record(); got != want {
		t.Errorf("record:\n got %+v\nwant %+v", got, want)
	}
	h.recv = 4 // more replies than requests: loss is clamped, not negative
	if got := h.record(); got.Loss != 0 {
		t.Errorf("loss %v with recv > xmit, want 0", got.Loss)
	}
	h.xmit, h.recv = 0, 0
	if got := h.record(); got.Loss != 0 {
		t.Errorf("loss %v with nothing sent, want 0", got.Loss)
	}
}
