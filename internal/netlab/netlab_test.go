package netlab

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// ping runs iputils ping against a netlab host (never anything else).
func ping(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	out, err := exec.Command("ping", append([]string{"-n", "-q"}, args...)...).CombinedOutput()
	return string(out), err == nil
}

func TestHost(t *testing.T) {
	h := NewHost(t, Options{})
	if _, err := exec.LookPath("ping"); err != nil {
		Unavailable(t, "needs iputils ping")
	}
	for _, a := range []string{h.Addr4.String(), h.Addr6.String()} {
		if out, ok := ping(t, "-c", "2", "-i", "0.01", "-W", "1", a); !ok {
			t.Errorf("host %s unreachable: %s", a, out)
		}
	}
	h.DropAll()
	if out, ok := ping(t, "-c", "2", "-i", "0.01", "-W", "0.2", h.Addr4.String()); ok || !strings.Contains(out, "100% packet loss") {
		t.Errorf("DropAll: ping answered: %s", out)
	}
	h.DropEchoPercent(0)
	if out, ok := ping(t, "-c", "2", "-i", "0.01", "-W", "1", h.Addr4.String()); !ok {
		t.Errorf("DropEchoPercent(0) should replace DropAll: %s", out)
	}
}

func TestRespond(t *testing.T) {
	h := NewHost(t, Options{})
	r := h.Respond(func() time.Duration { return 30 * time.Millisecond })
	out, ok := ping(t, "-c", "3", "-i", "0.05", "-W", "1", h.Addr4.String())
	if !ok {
		t.Fatalf("no reply from the responder: %s", out)
	}
	// The kernel must not answer as well: no duplicates.
	if strings.Contains(out, "duplicates") {
		t.Errorf("kernel still answers: %s", out)
	}
	ap := r.Applied()
	if len(ap) != 3 {
		t.Fatalf("responder saw %d requests, want 3", len(ap))
	}
	for _, a := range ap {
		if a.Want != 30*time.Millisecond || (a.Got != 0 && a.Got < a.Want) {
			t.Errorf("applied %+v", a)
		}
	}
}

func TestRespondCopies(t *testing.T) {
	h := NewHost(t, Options{NoIPv6: true})
	r := h.Respond(func() time.Duration { return 0 })
	r.SetCopies(2)
	out, ok := ping(t, "-c", "3", "-i", "0.05", "-W", "1", h.Addr4.String())
	if !ok || !strings.Contains(out, "duplicates") {
		t.Errorf("want duplicate replies: %s", out)
	}
}

func TestDo(t *testing.T) {
	h := NewHost(t, Options{NoIPv6: true})
	var out []byte
	err := h.Do(func() error {
		var err error
		// Commands started from a thread in the namespace run in it.
		out, err = exec.Command("ip", "-o", "-4", "addr", "show", "dev", "eth0").CombinedOutput()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), h.Addr4.String()) {
		t.Errorf("Do did not run inside %s: %s", h.Name, out)
	}
}
