package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/archive"
)

// benchMeasurement is one monitor probe of target at t: 10 echoes.
func benchMeasurement(t time.Time, target string, addr netip.Addr) archive.Measurement {
	rtts := make([]time.Duration, 10)
	for i := range rtts {
		rtts[i] = time.Duration(400+37*i) * time.Microsecond
	}
	ttls := make([]uint8, 10)
	for i := range ttls {
		ttls[i] = 64
	}
	return archive.Measurement{
		Time: t, Agent: netip.MustParseAddr("192.0.2.10"), Target: target, Addr: addr,
		Tool: archive.ToolMonitor, PacketSize: 56, Interval: time.Second, SampleSize: 10, Sent: 10,
		RTTs: rtts, TTLs: ttls,
	}
}

// BenchmarkEsmondRead measures the esmond API's reads end to end (routing,
// auth, the archive's query on SQLite, JSON encoding), at the sizes of the
// issue's read targets for one host: a day of base histogram-rtt at one
// measurement a minute (1,440 points), 30 days of hourly statistics (720
// windows over 43,200 measurements), and the metadata search for one
// destination among hosts series. Run it alone:
//
//	go test ./api -run XXX -bench EsmondRead -benchtime 200x
func BenchmarkEsmondRead(b *testing.B) {
	const hosts = 10000
	e := newEsmondEnv(b, nil)
	ctx := context.Background()
	end := time.Now().Add(-24 * time.Hour).Truncate(24 * time.Hour) // settled hours: rollups materialise
	start := end.Add(-30 * 24 * time.Hour)
	var batch []archive.Measurement
	flush := func() {
		if err := e.store.AddMeasurements(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	target := netip.MustParseAddr("198.51.100.1")
	for t := start; t.Before(end); t = t.Add(time.Minute) {
		batch = append(batch, benchMeasurement(t, "host1.example", target))
		if len(batch) == 5000 {
			flush()
		}
	}
	for i := range hosts - 1 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		batch = append(batch, benchMeasurement(end.Add(-time.Minute), a.String(), a))
		if len(batch) == 5000 {
			flush()
		}
	}
	flush()
	mds, _, err := e.store.SearchMetadata(ctx, archive.Filter{Destination: []string{target.String()}})
	if err != nil || len(mds) != 1 {
		b.Fatalf("series of %s: %d %v", target, len(mds), err)
	}
	key := mds[0].Key
	month := fmt.Sprintf("?time-start=%d&time-end=%d", start.Unix(), end.Unix()-1)
	day := fmt.Sprintf("time-start=%d&time-end=%d", end.Add(-24*time.Hour).Unix(), end.Unix()-1)
	for _, c := range []struct{ name, path string }{
		{"base_day_1440", "/esmond/perfsonar/archive/" + key + "/histogram-rtt/base?" + day},
		{"stats_3600_30days_720", "/esmond/perfsonar/archive/" + key + "/histogram-rtt/statistics/3600" + month},
		{"search_destination_of_10000", "/esmond/perfsonar/archive/?destination=" + target.String()},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, c.path, nil)
			for b.Loop() {
				w := httptest.NewRecorder()
				e.srv.Handler().ServeHTTP(w, req)
				if w.Code != http.StatusOK || w.Body.Len() < 10 {
					b.Fatalf("%d %.200s", w.Code, w.Body)
				}
			}
		})
	}
}
