package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/auth"
)

// TestServeArchivesMeasurements: with nothing configured, serve keeps the
// monitor's probes and the on-demand measurements (plain and streamed) in
// DATA_DIR/archive.db, and everything acknowledged is there after the
// drain.
func TestServeArchivesMeasurements(t *testing.T) {
	serveNeedsRoot(t)
	conf := filepath.Join(t.TempDir(), "monitor.conf")
	if err := os.WriteFile(conf, []byte("probe-interval 0.5\nping-count 2\nping-interval 0.05\ntolerance 1\nip-list <<EOT\n127.0.0.1\nEOT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, base, stop := serveInProcess(t, nil, "--config", conf)
	dir := cfg.DataDir
	dev, err := auth.LoadOrCreateDev(dir)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := dev.Mint("test", time.Hour, auth.DefaultDevScopes)
	for _, q := range []string{"/pingapi/127.0.0.1?c=2", "/pingapi/localhost?c=1&stream=true"} {
		req, _ := http.NewRequest(http.MethodGet, base+q, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", q, resp.StatusCode)
		}
	}
	// Let the monitor probe a few rounds (this waits for real probes; it
	// asserts on counts, not on time).
	st, err := archive.Open(context.Background(), archive.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	far := time.Now().Add(time.Hour)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ms, err := st.Measurements(context.Background(), archive.SeriesQuery{Target: "127.0.0.1", Tool: archive.ToolMonitor}, time.Time{}, far, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("monitor probes archived: %d after 20 s", len(ms))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	for _, target := range []string{"127.0.0.1", "localhost"} {
		ms, err := st.Measurements(context.Background(), archive.SeriesQuery{Target: target, Tool: archive.ToolPing}, time.Time{}, far, 0)
		if err != nil || len(ms) != 1 {
			t.Fatalf("on-demand %s: %d archived (%v), want 1", target, len(ms), err)
		}
		if ms[0].Received() == 0 || !ms[0].Agent.IsLoopback() {
			t.Errorf("on-demand %s: %+v", target, ms[0])
		}
	}
	fi, err := os.Stat(filepath.Join(dir, archive.DefaultFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("archive file: %v %v, want mode 0600", fi, err)
	}
}
