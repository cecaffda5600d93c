package monitor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pingapi/pingapi/internal/netlab"
)

func TestStoreRoundTrip(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "data"))
	if got, err := s.Load(); err != nil || got != nil {
		t.Fatalf("empty store: %q %v", got, err)
	}
	want := []string{"192.0.2.1", "example.org", "2001:db8::1"}
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Load = %q %v, want %q", got, err, want)
	}
	fi, err := os.Stat(s.Path())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v %v", fi, err)
	}
}

func TestStoreLeftoverTempFile(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir)
	if err := s.Save([]string{"192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	// A crash after the temporary file was partly written.
	partial := filepath.Join(dir, StoreFile+".tmp-123")
	if err := os.WriteFile(partial, []byte("192.0.2.2\n192.0.2"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil || !slices.Equal(got, []string{"192.0.2.1"}) {
		t.Fatalf("Load = %q %v, want the last complete save", got, err)
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file not removed: %v", err)
	}
}

func TestStoreFailureBeforeRename(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir)
	if err := s.Save([]string{"192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("injected crash")
	s.beforeRename = func(string) error { return boom }
	if err := s.Save([]string{"192.0.2.1", "192.0.2.2"}); !errors.Is(err, boom) {
		t.Fatalf("Save = %v, want the injected failure", err)
	}
	s.beforeRename = nil
	got, err := s.Load()
	if err != nil || !slices.Equal(got, []string{"192.0.2.1"}) {
		t.Fatalf("after a failed save: %q %v, want the old list", got, err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, tmpPattern)); len(tmps) != 0 {
		t.Errorf("temporary files left: %q", tmps)
	}
}

// TestStoreCrashMidSave kills a process that saves in a loop at arbitrary
// moments; every time, the list read back is one of the lists it saved,
// whole.
func TestStoreCrashMidSave(t *testing.T) {
	if dir := os.Getenv("PINGAPI_STORE_CRASH_DIR"); dir != "" {
		s := NewStore(dir)
		for i := 1; ; i++ {
			names := make([]string, i%50+1)
			for j := range names {
				names[j] = fmt.Sprintf("10.%d.%d.%d", i%250, j/250, j%250)
			}
			if err := s.Save(names); err != nil {
				os.Exit(3)
			}
			os.WriteFile(filepath.Join(dir, "progress"), []byte(strconv.Itoa(i)), 0o600)
		}
	}
	netlab.SkipShort(t, "spawns subprocesses")
	dir := t.TempDir()
	for k := range 8 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStoreCrashMidSave$")
		cmd.Env = append(os.Environ(), "PINGAPI_STORE_CRASH_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until it has saved a few times, then kill it wherever it is.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if b, _ := os.ReadFile(filepath.Join(dir, "progress")); len(b) > 0 {
				if n, _ := strconv.Atoi(string(b)); n > 20*(k+1) {
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
		names, err := NewStore(dir).Load()
		if err != nil {
			t.Fatalf("kill %d: Load: %v", k, err)
		}
		if len(names) == 0 {
			t.Fatalf("kill %d: empty list", k)
		}
		first := names[0]
		var i int
		fmt.Sscanf(first, "10.%d.", &i)
		if len(names) != i%50+1 {
			t.Fatalf("kill %d: %d entries, want %d: a truncated list", k, len(names), i%50+1)
		}
		for j, n := range names {
			if want := fmt.Sprintf("10.%d.%d.%d", i, j/250, j%250); n != want {
				t.Fatalf("kill %d: entry %d = %q, want %q: a torn list", k, j, n, want)
			}
		}
		os.Remove(filepath.Join(dir, "progress"))
	}
}
