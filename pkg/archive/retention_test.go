package archive

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// fill writes n monitor measurements per host for hosts hosts, one a
// minute from start.
func fill(t testing.TB, st *Store, start time.Time, hosts, n int) {
	t.Helper()
	batch := make([]Measurement, 0, 2000)
	flush := func() {
		if err := st.AddMeasurements(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range n {
		for h := range hosts {
			m := testMeasurement(start.Add(time.Duration(i)*time.Minute), fmt.Sprintf("host%d.example", h),
				41*time.Millisecond, 42*time.Millisecond, Lost, 43*time.Millisecond)
			batch = append(batch, m)
			if len(batch) == cap(batch) {
				flush()
			}
		}
	}
	flush()
}

// TestRetentionShrinksSQLiteFile: pruning data past the retention deletes
// them and the file gets smaller.
func TestRetentionShrinksSQLiteFile(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1700000000, 0)
	st, err := Open(context.Background(), Options{DataDir: dir, Now: func() time.Time { return now }, Retention: Retention{Raw: 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fill(t, st, now.Add(-10*24*time.Hour), 20, 1000) // old: 20,000 rows
	fill(t, st, now.Add(-time.Hour), 20, 10)         // recent: 200 rows
	if _, err := st.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, dir+"/"+DefaultFile)
	res, err := st.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Measurements != 20000 {
		t.Errorf("pruned %d measurements, want 20000", res.Measurements)
	}
	after := fileSize(t, dir+"/"+DefaultFile)
	if after >= before/2 {
		t.Errorf("file %d bytes before, %d after: not freed", before, after)
	}
	got, err := st.Measurements(context.Background(), SeriesQuery{Target: "host3.example"}, now.Add(-30*24*time.Hour), now, 0)
	if err != nil || len(got) != 10 {
		t.Errorf("recent data: %d rows, %v; want 10", len(got), err)
	}
	// The summaries of the deleted measurements are kept.
	ws, err := st.Windows(context.Background(), SeriesQuery{Target: "host3.example"}, now.Add(-11*24*time.Hour), now, 24*time.Hour)
	if err != nil || len(ws) < 2 || ws[0].Measurements+ws[1].Measurements+ws[len(ws)-1].Measurements < 1000 {
		t.Errorf("daily summaries after pruning: %+v %v", ws, err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestRetentionDropsPostgresPartitions: months wholly past the retention
// are dropped partitions: the relation's space is gone.
func TestRetentionDropsPostgresPartitions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	st, err := Open(ctx, Options{DSN: postgresDSN(t), Now: func() time.Time { return now }, Retention: Retention{Raw: 30 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fill(t, st, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), 10, 500) // January: expired
	fill(t, st, time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC), 10, 10)  // February: partly kept
	fill(t, st, now.Add(-time.Hour), 10, 10)                           // March
	size := func() int64 {
		var n int64
		if err := st.db.QueryRow(`SELECT COALESCE(SUM(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits WHERE inhparent = 'measurement'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := size()
	res, err := st.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Partitions) != 1 || res.Partitions[0] != "measurement_202601" {
		t.Fatalf("dropped %v, want [measurement_202601]", res.Partitions)
	}
	if after := size(); after >= before {
		t.Errorf("relations %d bytes before, %d after", before, after)
	}
	got, err := st.Measurements(ctx, SeriesQuery{Target: "host1.example"}, time.Time{}, now.Add(time.Hour), 0)
	if err != nil || len(got) != 20 {
		t.Errorf("kept %d rows (%v), want 20", len(got), err)
	}
	// Writing into a dropped month again recreates its partition.
	fill(t, st, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), 1, 1)
}
