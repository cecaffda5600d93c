package archive

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv makes the test binary a writer child (see TestCrashChild).
const crashChildEnv = "PINGAPI_ARCHIVE_CRASH_DSN"

// TestCrashChild is the child of TestKill9DuringIngest: it writes batches
// of 50 measurements as fast as it can and prints "ack N" after each
// commit returns, N the measurements acknowledged so far.
func TestCrashChild(t *testing.T) {
	dsn := os.Getenv(crashChildEnv)
	if dsn == "" {
		return // only the child process of TestKill9DuringIngest writes; a skip would show in CI
	}
	st, err := Open(context.Background(), Options{DSN: dsn})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	base := time.Unix(1700000000, 0)
	for n := 0; ; {
		batch := make([]Measurement, 50)
		for i := range batch {
			batch[i] = testMeasurement(base.Add(time.Duration(n+i)*time.Second), "crash.example", time.Millisecond, 2*time.Millisecond)
		}
		if err := st.AddMeasurements(context.Background(), batch); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		n += len(batch)
		fmt.Println("ack", n)
	}
}

// TestKill9DuringIngest: a writer killed with SIGKILL in the middle of
// ingest leaves a database that opens and holds every acknowledged write.
func TestKill9DuringIngest(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("in the child")
	}
	for name, dsn := range map[string]func(t *testing.T) string{
		BackendSQLite:   func(t *testing.T) string { return t.TempDir() + "/crash.db" },
		BackendPostgres: postgresDSN,
	} {
		t.Run(name, func(t *testing.T) {
			d := dsn(t)
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+d)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			acked := 0
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if strings.HasPrefix(line, "error") {
					t.Fatalf("child: %s", line)
				}
				if n, ok := strings.CutPrefix(line, "ack "); ok {
					acked, _ = strconv.Atoi(n)
					if acked >= 2000 {
						break
					}
				}
			}
			// The child is writing its next batch now (or between two).
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if acked < 2000 {
				t.Fatalf("child acknowledged only %d", acked)
			}
			st, err := Open(context.Background(), Options{DSN: d})
			if err != nil {
				t.Fatalf("open after kill -9: %v", err)
			}
			defer st.Close()
			got, err := st.Measurements(context.Background(), SeriesQuery{Target: "crash.example"}, time.Unix(0, 0), time.Unix(1800000000, 0), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) < acked || len(got)%50 != 0 {
				t.Fatalf("%d measurements after kill -9, %d acknowledged (batches of 50 are all or nothing)", len(got), acked)
			}
		})
	}
}
