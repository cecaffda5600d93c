package archive

import (
	"context"
	"testing"
	"time"
)

// BenchmarkHourlyStatistics30Days: one host's 30 days of hourly
// histogram-rtt statistics from materialised rollups (SQLite). The full
// benchmark with the loads is bench/archive.
func BenchmarkHourlyStatistics30Days(b *testing.B) {
	now := time.Unix(1700000000, 0)
	st, err := Open(context.Background(), Options{DataDir: b.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := now.Add(-31 * 24 * time.Hour)
	var ms []Measurement
	for i := range 30 * 1440 {
		m := Measurement{Time: start.Add(time.Duration(i) * time.Minute), Agent: testAgent, Target: "h.example", Addr: testAgent, Tool: ToolMonitor, Sent: 10}
		for k := range 10 {
			m.RTTs = append(m.RTTs, 40*time.Millisecond+time.Duration((i*31+k*977)%4000)*time.Microsecond)
			m.TTLs = append(m.TTLs, 58)
		}
		ms = append(ms, m)
	}
	if err := st.AddMeasurements(context.Background(), ms); err != nil {
		b.Fatal(err)
	}
	mds, _, _ := st.SearchMetadata(context.Background(), Filter{})
	q := DataQuery{Key: mds[0].Key, EventType: "histogram-rtt", SummaryType: SummaryStatistics, Window: 3600,
		Range: TimeRange{Start: start.Unix(), End: now.Unix()}}
	if _, err := st.Data(context.Background(), q); err != nil { // materialise
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := st.Data(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
}
