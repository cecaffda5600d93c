package monitor

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/pkg/target"
	"github.com/pingapi/pingapi/pkg/wire"
)

// testPolicy is what an operator watching a LAN configures
// (TARGET_ALLOW=10.0.0.0/8), with TARGET_DENY=10.0.9.0/24.
var testPolicy = target.Policy{
	Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	Deny:  []netip.Prefix{netip.MustParsePrefix("10.0.9.0/24")},
}

// TestPolicyOnEveryAdd: the monitor admits names to its mutable list only
// through the target policy it is given, as /pingapi does; the API cannot
// widen it.
func TestPolicyOnEveryAdd(t *testing.T) {
	resolve := func(ctx context.Context, name string) (netip.Addr, error) {
		if name == "inside.test" {
			return netip.MustParseAddr("10.0.9.7"), nil
		}
		return fakeResolve(ctx, name)
	}
	m, err := New(Options{Settings: testSettings(), Pinger: &fakePinger{}, Policy: testPolicy, Resolve: resolve, LookupAll: fakeLookupAll})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"10.0.9.3", "224.0.0.1", "255.255.255.255", "0.0.0.0", "::ffff:10.0.9.9",
		"169.254.169.254", "127.0.0.3", "::1", "inside.test", "192.168.1.1"} {
		if err := m.Add(t.Context(), n); !errors.Is(err, target.ErrDenied) {
			t.Errorf("Add(%s) = %v, want a denial", n, err)
		}
	}
	if err := m.Add(t.Context(), "fe80::1%lo"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Add(fe80::1%%lo) = %v, want ErrInvalid", err)
	}
	err = m.Update(t.Context(), []string{"10.0.0.1", "169.254.169.254", "h3.test"}, "append")
	var ie *IndexError
	if !errors.As(err, &ie) || ie.Index != 2 || !errors.Is(err, target.ErrDenied) {
		t.Errorf("Update with a denied element: %v", err)
	}
	if err := m.Add(t.Context(), "10.0.0.1"); err != nil {
		t.Errorf("an allowed address: %v", err)
	}
	if _, mut := m.IPList(); !slices.Equal(mut, []string{"10.0.0.1"}) {
		t.Errorf("mutable list %q", mut)
	}
}

// TestPolicyBeforeEachProbe: a host of the configuration file that the
// policy denies is reported at start with its line and never probed; a
// hostname is checked at the address it resolves to, before its probe.
func TestPolicyBeforeEachProbe(t *testing.T) {
	var logs bytes.Buffer
	f := &fakePinger{}
	m, err := New(Options{
		Settings:    testSettings(),
		Immutable:   []string{"10.0.0.1", "10.0.9.1", "h9.test", "169.254.169.254"},
		ImmutableAt: []string{"p.conf:3", "p.conf:4", "hosts.txt:1", "hosts.txt:2"},
		Pinger:      f, Policy: target.Policy{Allow: testPolicy.Allow, Deny: []netip.Prefix{netip.MustParsePrefix("10.0.9.0/24"), netip.MustParsePrefix("10.0.0.9/32")}},
		Resolve: fakeResolve, LookupAll: fakeLookupAll,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"host=10.0.9.1 at=p.conf:4", "host=169.254.169.254 at=hosts.txt:2"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, logs.String())
		}
	}
	m.ProbeOnce(t.Context())
	m.ProbeOnce(t.Context())
	f.mu.Lock()
	var probed []string
	for _, c := range f.calls {
		probed = append(probed, c.addr.String())
	}
	f.mu.Unlock()
	if !slices.Equal(probed, []string{"10.0.0.1", "10.0.0.1"}) {
		t.Errorf("probed %q, want only 10.0.0.1 (twice)", probed)
	}
	for _, n := range []string{"10.0.9.1", "h9.test", "169.254.169.254"} {
		if r, _ := m.Lookup(n); r.Status != wire.StatusUnreachable {
			t.Errorf("%s: status %q, want unreachable", n, r.Status)
		}
	}
	if !strings.Contains(logs.String(), "host=h9.test") || !strings.Contains(logs.String(), "at=hosts.txt:1") {
		t.Errorf("the denied address of h9.test is not reported:\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), "host=h9.test"); n != 1 {
		t.Errorf("h9.test reported %d times, want once", n)
	}
}
