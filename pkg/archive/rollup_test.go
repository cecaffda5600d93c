package archive

import (
	"context"
	"testing"
	"time"
)

// testRollups: summaries of settled hours come from materialised rollups
// and equal the summaries computed from the measurements; a late write
// into a settled hour is counted.
func testRollups(t *testing.T, open func(t *testing.T, now func() time.Time) *Store) {
	ctx := context.Background()
	now := time.Unix(1700000000, 0).Add(48 * time.Hour)
	st := open(t, func() time.Time { return now })
	t0 := time.Unix(1699999200, 0) // an hour start
	var ms []Measurement
	for i := range 180 { // three hours, one a minute, varied RTTs and loss
		r := func(k int) time.Duration { return time.Duration(20000+((i*7+k*13)%50)*100) * time.Microsecond }
		m := testMeasurement(t0.Add(time.Duration(i)*time.Minute), "roll.example", r(0), r(1), r(2), Lost)
		if i%5 == 0 {
			m.RTTs[3] = r(3)
			m.TTLs = append(m.TTLs, 58)
		}
		ms = append(ms, m)
	}
	if err := st.AddMeasurements(ctx, ms); err != nil {
		t.Fatal(err)
	}
	mds, _, err := st.SearchMetadata(ctx, Filter{InputDestination: "roll.example"})
	if err != nil || len(mds) != 1 {
		t.Fatal(len(mds), err)
	}
	key := mds[0].Key
	// The expected values, from the base points through the generic path.
	expect := func(et, sum string, w int64) string {
		var id int64
		if _, _, err := st.metadataRow(ctx, key, &id); err != nil {
			t.Fatal(err)
		}
		pts, err := st.derivedValues(ctx, id, et, 0, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		return js(summarize(eventTypes[et], sum, w, pts))
	}
	queries := []DataQuery{
		{EventType: "histogram-rtt", SummaryType: SummaryAggregation, Window: 3600},
		{EventType: "histogram-rtt", SummaryType: SummaryStatistics, Window: 3600},
		{EventType: "histogram-rtt", SummaryType: SummaryStatistics, Window: 86400},
		{EventType: "packet-loss-rate-bidir", SummaryType: SummaryAggregation, Window: 3600},
		{EventType: "packet-loss-rate-bidir", SummaryType: SummaryAggregation, Window: 86400},
	}
	check := func(when string) {
		for _, q := range queries {
			q.Key = key
			got, err := st.Data(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if want := expect(q.EventType, q.SummaryType, q.Window); js(got) != want {
				t.Errorf("%s %s %s/%d:\n got %s\nwant %s", when, q.EventType, q.SummaryType, q.Window, js(got), want)
			}
		}
	}
	// The base histogram-rtt, written straight from the rows, is the
	// derived value's JSON.
	var id int64
	st.metadataRow(ctx, key, &id)
	vals, _ := st.derivedValues(ctx, id, "histogram-rtt", 0, 1<<40)
	var want []Point
	for _, v := range vals {
		b, _ := v.v.MarshalJSON()
		want = append(want, Point{TS: v.ts, Val: b})
	}
	if got, err := st.Data(ctx, DataQuery{Key: key, EventType: "histogram-rtt"}); err != nil || js(got) != js(want) {
		t.Errorf("base histogram-rtt: %v\n got %.200s\nwant %.200s", err, js(got), js(want))
	}
	check("first read")
	var n int
	if err := st.db.QueryRow(`SELECT COUNT(*) FROM rollup`).Scan(&n); err != nil || n < 3 {
		t.Fatalf("%d rollups materialised (%v), want ≥ 3", n, err)
	}
	check("from rollups")
	// A late measurement into the first (settled) hour.
	late := testMeasurement(t0.Add(30*time.Minute+time.Second), "roll.example", 90*time.Millisecond, 91*time.Millisecond, Lost, Lost)
	if err := st.AddMeasurements(ctx, []Measurement{late}); err != nil {
		t.Fatal(err)
	}
	check("after a late write")
	ws, err := st.Windows(ctx, SeriesQuery{Key: key}, t0, t0.Add(3*time.Hour), time.Hour)
	if err != nil || len(ws) != 3 || ws[0].Measurements != 61 || ws[0].Max != 91*time.Millisecond {
		t.Fatalf("windows %+v %v", ws, err)
	}
}

func TestRollups(t *testing.T) {
	t.Run(BackendSQLite, func(t *testing.T) {
		testRollups(t, func(t *testing.T, now func() time.Time) *Store {
			st, err := Open(context.Background(), Options{DataDir: t.TempDir(), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
	t.Run(BackendPostgres, func(t *testing.T) {
		testRollups(t, func(t *testing.T, now func() time.Time) *Store {
			st, err := Open(context.Background(), Options{DSN: postgresDSN(t), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
}

// TestRTTStatisticsMatchesEsmond: the in-place statistics of a rollup are
// HistogramStatistics of its histogram, for varied shapes.
func TestRTTStatisticsMatchesEsmond(t *testing.T) {
	for _, h := range [][]kc{
		{{4102, 1}},
		{{4102, 1}, {4110, 1}},
		{{3430, 106}, {3440, 494}},
		{{1, 1}, {2, 1}, {3, 1}, {4, 1}},
		{{100, 5}, {150, 2}, {151, 5}, {900, 1}, {901, 3}, {1200, 7}, {40000, 2}},
	} {
		a := &hourAgg{rtt: h}
		m := map[string]int64{}
		for _, e := range h {
			m[rttKey(e.k)] = e.c
		}
		if got, want := string(a.rttStatistics()), string(HistogramStatistics(m)); got != want {
			t.Errorf("%v:\n got %s\nwant %s", h, got, want)
		}
	}
}
