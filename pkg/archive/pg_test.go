package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/pingapi/pingapi/internal/netlab"
	"github.com/pingapi/pingapi/internal/pgtest"
)

// pg is the throwaway PostgreSQL server of this test binary (nil with
// pgErr when it could not start).
var (
	pg    *pgtest.Server
	pgErr error
)

func TestMain(m *testing.M) {
	// The kill -9 child (TestCrashChild) runs this binary again and is
	// killed before it could stop a server of its own: it starts none.
	if os.Getenv(crashChildEnv) == "" {
		pg, pgErr = pgtest.Start()
	} else {
		pgErr = errors.New("not started in the kill -9 child")
	}
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// postgresDSN returns the DSN of a fresh schema, or skips (CI=true:
// fails) when PostgreSQL is unavailable.
func postgresDSN(t *testing.T) string {
	t.Helper()
	if pg == nil {
		netlab.Unavailable(t, fmt.Sprintf("PostgreSQL: %v", pgErr))
	}
	dsn, err := pg.NewDSN(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

func openPostgres(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), Options{DSN: postgresDSN(t), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
