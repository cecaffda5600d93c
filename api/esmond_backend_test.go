package api

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/internal/pgtest"
	"github.com/pingapi/pingapi/pkg/archive"
)

// The throwaway PostgreSQL server of this test binary, started by the
// first test that asks for it (most runs of this package never do) and
// stopped by TestMain (fakes_test.go).
var pgServer struct {
	once sync.Once
	srv  *pgtest.Server
	err  error
}

// esmondBackends are the archive backends the esmond API's end-to-end
// tests run on, unchanged.
func esmondBackends() []string { return []string{archive.BackendSQLite, archive.BackendPostgres} }

// openArchive opens an empty archive of backend for t: SQLite in a
// temporary directory, or a fresh schema of the test PostgreSQL server
// (skipped without PostgreSQL; under CI=true that fails).
func openArchive(t testing.TB, backend string) *archive.Store {
	t.Helper()
	o := archive.Options{DataDir: t.TempDir()}
	if backend == archive.BackendPostgres {
		pgServer.once.Do(func() { pgServer.srv, pgServer.err = pgtest.Start() })
		if pgServer.srv == nil {
			netlab.Unavailable(t, fmt.Sprintf("PostgreSQL: %v", pgServer.err))
		}
		dsn, err := pgServer.srv.NewDSN(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		o.DSN = dsn
	}
	st, err := archive.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// onBackends runs f as a subtest on every backend.
func onBackends(t *testing.T, f func(t *testing.T, backend string)) {
	for _, b := range esmondBackends() {
		t.Run(b, func(t *testing.T) { f(t, b) })
	}
}
