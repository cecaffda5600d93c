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

// BenchmarkAddMeasurements: batches of 1,700 monitor measurements (10
// echoes) of 10,000 series into SQLite; reports CPU per measurement as
// ns/op per measurement.
func BenchmarkAddMeasurements(b *testing.B) {
	// The clock follows the data, as for the monitor's feed (no late rows).
	st, err := Open(context.Background(), Options{DataDir: b.TempDir(), Now: func() time.Time { return time.Unix(1700000000, 0).Add(24 * time.Hour) }})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	t0 := time.Unix(1700000000, 0).Add(23 * time.Hour)
	batch := make([]Measurement, 1700)
	i := 0
	fillBatch := func() {
		for j := range batch {
			h := (i*1700 + j) % 10000
			m := Measurement{Time: t0.Add(time.Duration(i*1700+j) * time.Millisecond), Agent: testAgent, Target: "h" + itoa(int64(h)),
				Addr: testAgent, Tool: ToolMonitor, PacketSize: 56, Interval: time.Second, SampleSize: 10, Sent: 10}
			for k := range 10 {
				m.RTTs = append(m.RTTs, 40*time.Millisecond+time.Duration((h*31+k*977)%4000)*time.Microsecond)
				m.TTLs = append(m.TTLs, 58)
			}
			batch[j] = m
		}
		i++
	}
	for range 6 { // every series created before the timer starts
		fillBatch()
		if err := st.AddMeasurements(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	var spent time.Duration
	for b.Loop() {
		fillBatch()
		t := time.Now()
		if err := st.AddMeasurements(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		spent += time.Since(t)
	}
	b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N*len(batch)), "ns/measurement")
}
