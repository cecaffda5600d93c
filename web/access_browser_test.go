package web_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pingapi/pingapi/internal/netlab"
)

// TestDashboardTokenInBrowser: with ARCHIVE_READ=token the page asks for a
// credential before reading anything, keeps it in session storage only,
// and shows the hosts once given an archive key.
func TestDashboardTokenInBrowser(t *testing.T) {
	netlab.SkipShort(t, "starts pingapi and Chromium")
	chromiumPath(t)
	srv := startServe(t, []string{"127.0.0.1"}, "", "ARCHIVE_READ=token")
	key := srv.archiveKey(t, "dashboard-test")
	b := newBrowser(t, srv.base)

	b.do(t, chromedp.Navigate(srv.base+"/dashboard/"))
	waitFor(t, b, "the credential form", `!document.getElementById('auth').hidden`, 45*time.Second)
	if n := eval[int](t, b, `document.querySelectorAll('#hosts tbody a').length`); n != 0 {
		t.Fatalf("%d hosts shown before a credential was given", n)
	}
	b.do(t,
		chromedp.SendKeys(`#auth-token`, key),
		chromedp.Click(`#auth button`, chromedp.NodeVisible),
	)
	waitFor(t, b, "the host table", `document.body.dataset.table === 'drawn'`, 45*time.Second)
	if names := eval[[]string](t, b, `[...document.querySelectorAll('#hosts tbody a')].map(a => a.textContent)`); len(names) != 1 || names[0] != "127.0.0.1" {
		t.Errorf("hosts %q, want [127.0.0.1]", names)
	}
	where := eval[[]string](t, b, `[sessionStorage.getItem('pingapi.token') || '', JSON.stringify(localStorage), location.href, document.cookie]`)
	if where[0] != key {
		t.Errorf("session storage holds %q, want the key", where[0])
	}
	if where[1] != "{}" || strings.Contains(where[2], key) || where[3] != "" {
		t.Errorf("the credential leaked: localStorage %s, URL %s, cookies %q", where[1], where[2], where[3])
	}
	b.check(t) // no 401 was ever answered: the page asked first
}

// archiveKey creates an archive key with the CLI and returns it.
func (s *server) archiveKey(t testing.TB, name string) string {
	t.Helper()
	cmd := exec.Command(s.bin, "archive", "key", "create", name, "--data-dir", s.dataDir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Dir = s.dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pingapi archive key create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
