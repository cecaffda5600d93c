package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/tcpecho"
)

// TestDashboardClientSeries: a TCP echo client's archived windows, written
// as the echo service writes them (esmond metadata and points in the real
// SQLite archive), come back as the host page's series: percentiles over
// every echo of the point's windows, from every agent's records, loss over
// the probes sent, the kernel's RTT, and fail for a window that lost all.
func TestDashboardClientSeries(t *testing.T) {
	st := openArchive(t, "")
	ctx := context.Background()
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	write := func(agent, client string, w tcpecho.Window) {
		t.Helper()
		md, _, err := st.PutMetadata(ctx, tcpecho.ArchiveMetadata(netip.MustParseAddr(agent), netip.MustParseAddr("198.51.100.9"), client, time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddPoints(ctx, md.Key, tcpecho.Points(w)); err != nil {
			t.Fatal(err)
		}
	}
	at := func(min int) time.Time { return dashNow.Add(time.Duration(min) * time.Minute) }
	write("192.0.2.1", "berlin", tcpecho.Window{Start: at(-10), Sent: 10, Received: 10, RTTs: ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), KernelRTTs: ms(7, 7)})
	write("192.0.2.2", "berlin", tcpecho.Window{Start: at(-10), Sent: 10, Received: 10, RTTs: ms(20, 20, 20, 20, 20, 20, 20, 20, 20, 20), KernelRTTs: ms(7)})
	write("192.0.2.1", "berlin", tcpecho.Window{Start: at(-9), Sent: 4, Received: 2, RTTs: ms(3, 3)})
	write("192.0.2.1", "berlin", tcpecho.Window{Start: at(-5), Sent: 3})
	write("192.0.2.1", "frankfurt", tcpecho.Window{Start: at(-9), Sent: 1, Received: 1, RTTs: ms(99)})

	e := newMonitorEnv(t, nil, func(d *Deps) {
		d.ArchiveReadPublic = true
		d.DashboardArchive = st
	})
	get := func(name string) dashClientSeriesDoc {
		t.Helper()
		rec := e.do(http.MethodGet, "/dashboard/api/client/"+name+"/series?from="+strconv.FormatInt(at(-10).Unix(), 10)+
			"&to="+strconv.FormatInt(dashNow.Unix(), 10)+"&width=600", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		var doc dashClientSeriesDoc
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%v: %s", err, rec.Body)
		}
		return doc
	}
	doc := get("berlin")
	f := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	type row struct {
		t                      int64
		p5, p50, p95, loss, kr any
		fail                   int
	}
	want := []row{
		{at(-10).Unix(), 1.0, 10.0, 20.0, 0.0, 7.0, 0},
		{at(-9).Unix(), 3.0, 3.0, 3.0, 50.0, nil, 0},
		{at(-5).Unix(), nil, nil, nil, 100.0, nil, 1},
	}
	if len(doc.T) != len(want) || len(doc.Kernel) != len(want) || doc.Resolution != "window" {
		t.Fatalf("%d points, %d kernel, resolution %q; want %d points: %+v", len(doc.T), len(doc.Kernel), doc.Resolution, len(want), doc)
	}
	for i, w := range want {
		got := row{doc.T[i], f(doc.P5[i]), f(doc.P50[i]), f(doc.P95[i]), f(doc.Loss[i]), f(doc.Kernel[i]), doc.Fail[i]}
		if got != w {
			t.Errorf("point %d: %+v, want %+v", i, got, w)
		}
		if doc.Jitter[i] != nil {
			t.Errorf("point %d: jitter %v, want null (histograms keep no order)", i, *doc.Jitter[i])
		}
	}
	if doc := get("nobody"); len(doc.T) != 0 || doc.Kernel == nil {
		t.Errorf("an unknown client: %+v, want empty arrays", doc)
	}
	// The page itself.
	if rec := e.do(http.MethodGet, "/dashboard/client/berlin", ""); rec.Code != http.StatusOK {
		t.Errorf("client page: %d", rec.Code)
	}
}
