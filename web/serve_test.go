package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingapi/pingapi/internal/netlab"
)

// server is a real `pingapi serve` built from this tree, in dev mode, with
// a monitor of the given hosts probed every second.
type server struct {
	bin, dir, dataDir string
	base              string // http://127.0.0.1:PORT

	mu  sync.Mutex
	log strings.Builder
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// buildPingapi builds the binary once per test process.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := processTempDir("pingapi-web-test-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pingapi")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./cmd/pingapi")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{err: err, out: string(out)}
	}
	return bin, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// monitorConf is a Ping903 configuration: a probe every second of two
// echoes 0.3 s apart; dead as soon as one is lost.
func monitorConf(hosts []string) string {
	return "probe-interval 1\nping-count 2\nping-interval 0.3\ntolerance 0\nip-list <<END\n" +
		strings.Join(hosts, "\n") + "\nEND\n"
}

// startServe starts `pingapi serve` on a free loopback port with a fresh
// data directory (dev mode) and waits until it is ready. dataDir, when not
// empty, is used instead of a fresh one (a pre-filled archive).
func startServe(t testing.TB, hosts []string, dataDir string, env ...string) *server {
	t.Helper()
	return startServeConf(t, monitorConf(hosts), dataDir, env...)
}

// startServeConf is startServe with a whole monitor configuration.
func startServeConf(t testing.TB, monitorConfig, dataDir string, env ...string) *server {
	t.Helper()
	netlab.RequireRoot(t) // ICMP sockets and the namespace host
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{bin: bin, dir: t.TempDir()}
	s.dataDir = dataDir
	if s.dataDir == "" {
		s.dataDir = filepath.Join(s.dir, "data")
	}
	conf := filepath.Join(s.dir, "ping903.conf")
	if err := os.WriteFile(conf, []byte(monitorConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", s.dataDir, "--config", conf)
	cmd.Dir = s.dir // no .env here
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "TARGET_ALLOW=10.200.0.0/16"}, env...)
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	addrc := make(chan string, 1)
	go func() {
		defer close(exited)
		listening := regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		_ = cmd.Wait()
		close(addrc)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("server log:\n%s", s.logText())
		}
	})
	addr, ok := <-addrc
	if !ok {
		t.Fatalf("pingapi serve exited before listening:\n%s", s.logText())
	}
	s.base = "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/readyz never became ready:\n%s", s.logText())
		case <-time.After(50 * time.Millisecond): // polling, not a timing assertion
		}
	}
}

// token mints a dev-mode token for the server's data directory.
func (s *server) token(t testing.TB) string {
	t.Helper()
	cmd := exec.Command(s.bin, "token", "--data-dir", s.dataDir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pingapi token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// waitArchived waits until the archive holds at least n measurements of
// host (read through the dashboard's own series endpoint).
func (s *server) waitArchived(t testing.TB, host string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/dashboard/api/host/" + host + "/series?from=" + strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10))
		if err == nil {
			var doc struct {
				T []int64 `json:"t"`
			}
			err = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			if err == nil && len(doc.T) >= n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the archive has fewer than %d measurements of %s after 30 s (%v)\n%s", n, host, err, s.logText())
		}
		time.Sleep(200 * time.Millisecond) // polling, not a timing assertion
	}
}

// TestMain removes the binary built for the tests and the benchmark's
// archive.
func TestMain(m *testing.M) {
	code := m.Run()
	tempDirs.Lock()
	for _, d := range tempDirs.dirs {
		_ = os.RemoveAll(d)
	}
	tempDirs.Unlock()
	os.Exit(code)
}

// tempDirs are directories that outlive one test, removed by TestMain.
var tempDirs struct {
	sync.Mutex
	dirs []string
}

// processTempDir makes a directory removed when the test process ends.
func processTempDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err == nil {
		tempDirs.Lock()
		tempDirs.dirs = append(tempDirs.dirs, dir)
		tempDirs.Unlock()
	}
	return dir, err
}

// waitLogValue waits for a line of the server's log matching re and
// returns its first group.
func (s *server) waitLogValue(t testing.TB, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := rx.FindStringSubmatch(s.logText()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line matches %s:\n%s", re, s.logText())
		}
		time.Sleep(50 * time.Millisecond) // polling, not a timing assertion
	}
}
