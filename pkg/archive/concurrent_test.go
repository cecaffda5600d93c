package archive

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestTwoInstancesWriteOneDatabase: two stores (two pingapi instances, each
// with its own measurement-agent) write the same targets into one database
// at once, and register the same client metadata at once; every write is
// there, each agent's series apart, one metadata record for the two.
func TestTwoInstancesWriteOneDatabase(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		BackendSQLite:   func(t *testing.T) string { return t.TempDir() + "/shared.db" },
		BackendPostgres: postgresDSN,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			d := dsn(t)
			agents := []string{"192.0.2.1", "192.0.2.2"}
			stores := make([]*Store, len(agents))
			for i := range stores {
				st, err := Open(ctx, Options{DSN: d})
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				stores[i] = st
			}
			const batches, per = 20, 50
			base := time.Unix(1700000000, 0)
			var wg sync.WaitGroup
			errs := make(chan error, 2*len(agents))
			keys := make([]string, len(agents))
			for i, st := range stores {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for b := range batches {
						batch := make([]Measurement, per)
						for j := range batch {
							m := testMeasurement(base.Add(time.Duration(b*per+j)*time.Second), "shared.example", time.Millisecond)
							m.Agent = netip.MustParseAddr(agents[i])
							batch[j] = m
						}
						if err := st.AddMeasurements(ctx, batch); err != nil {
							errs <- err
							return
						}
					}
				}()
				go func() {
					defer wg.Done()
					md, _, err := st.PutMetadata(ctx, throughputMetadata())
					if err != nil {
						errs <- err
					}
					keys[i] = md.Key
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if keys[0] != keys[1] {
				t.Errorf("same metadata registered at once got keys %s and %s", keys[0], keys[1])
			}
			for _, a := range agents {
				got, err := stores[0].Measurements(ctx, SeriesQuery{Target: "shared.example", Agent: a}, base, base.Add(24*time.Hour), 0)
				if err != nil || len(got) != batches*per {
					t.Errorf("agent %s: %d measurements (%v), want %d", a, len(got), err, batches*per)
				}
			}
			mds, total, err := stores[1].SearchMetadata(ctx, Filter{InputDestination: "shared.example"})
			if err != nil || total != 2 || mds[0].MeasurementAgent == mds[1].MeasurementAgent {
				t.Errorf("series: %d (%v), want one per agent", total, err)
			}
		})
	}
}
