package archive

import (
	"context"
	"testing"
	"time"
)

// TestMigrations: every migration applies to an empty database and to a
// database at the previous version holding data, which survive; the
// result is usable. Run on both backends.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	for name, dsn := range map[string]func(t *testing.T) string{
		BackendSQLite:   func(t *testing.T) string { return t.TempDir() + "/m.db" },
		BackendPostgres: postgresDSN,
	} {
		t.Run(name, func(t *testing.T) {
			for v := 1; v <= SchemaVersion(); v++ {
				t.Run("from empty to "+itoa(int64(v)), func(t *testing.T) {
					st := openAt(t, dsn(t), v)
					if got, err := st.Version(ctx); err != nil || got != v {
						t.Fatalf("version %d, %v; want %d", got, err, v)
					}
				})
				if v == 1 {
					continue
				}
				t.Run("from "+itoa(int64(v-1))+" to "+itoa(int64(v)), func(t *testing.T) {
					d := dsn(t)
					st := openAt(t, d, v-1)
					fill(t, st, time.Unix(1700000000, 0), 2, 3)
					st.Close()
					st = openAt(t, d, v)
					if got, _ := st.Version(ctx); got != v {
						t.Fatalf("version %d, want %d", got, v)
					}
					got, err := st.Measurements(ctx, SeriesQuery{Target: "host1.example"}, time.Unix(0, 0), time.Unix(1800000000, 0), 0)
					if err != nil || len(got) != 3 {
						t.Fatalf("data after migration: %d rows, %v", len(got), err)
					}
				})
			}
			// Opening applies everything, and again is a no-op.
			d := dsn(t)
			for range 2 {
				st, err := Open(ctx, Options{DSN: d})
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := st.Version(ctx); got != SchemaVersion() {
					t.Fatalf("version %d, want %d", got, SchemaVersion())
				}
				st.Close()
			}
		})
	}
}

// openAt opens dsn migrated to version v only (Open goes to the latest).
func openAt(t *testing.T, dsn string, v int) *Store {
	t.Helper()
	s := &Store{now: fixedNow, series: map[string]int64{}, keys: map[seriesIdent]string{}, parts: map[int64]bool{}}
	st, err := openDB(context.Background(), s, Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.migrate(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
