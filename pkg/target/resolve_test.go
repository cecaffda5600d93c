package target

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// fakeDNS answers lookups from a table, as LookupNetIP would.
func fakeDNS(table map[string][]string) func(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		switch host {
		case "slow.test":
			<-ctx.Done()
			return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true}
		case "servfail.test":
			return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
		}
		addrs, ok := table[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var out []netip.Addr
		for _, s := range addrs {
			a := netip.MustParseAddr(s)
			if network == "ip4" && !a.Unmap().Is4() || network == "ip6" && a.Unmap().Is4() {
				continue
			}
			out = append(out, a)
		}
		if len(out) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return out, nil
	}
}

func TestResolve(t *testing.T) {
	r := &Resolver{Timeout: 50 * time.Millisecond, Lookup: fakeDNS(map[string][]string{
		"dual.test":   {"2001:db8::1", "192.0.2.1", "192.0.2.2"},
		"v6only.test": {"2001:db8::2"},
		"v4only.test": {"::ffff:192.0.2.3"},
		"empty.test":  {},
	})}
	tests := []struct {
		in      string
		fam     Family
		want    string
		wantErr error
		msg     string
	}{
		{"dual.test", 0, "192.0.2.1", nil, ""},
		{"dual.test", 4, "192.0.2.1", nil, ""},
		{"dual.test", 6, "2001:db8::1", nil, ""},
		{"v6only.test", 0, "2001:db8::2", nil, ""},
		{"v6only.test", 4, "", ErrNotFound, "v6only.test"},
		{"v4only.test", 0, "192.0.2.3", nil, ""},
		{"v4only.test", 6, "", ErrNotFound, ""},
		{"empty.test", 0, "", ErrNotFound, ""},
		{"nxdomain.test", 0, "", ErrNotFound, "no such host"},
		{"servfail.test", 0, "", ErrLookup, "server misbehaving"},
		{"slow.test", 0, "", ErrTimeout, "slow.test"},
		{"192.0.2.9", 0, "192.0.2.9", nil, ""},
		{"192.0.2.9", 4, "192.0.2.9", nil, ""},
		{"::ffff:192.0.2.9", 0, "192.0.2.9", nil, ""},
		{"192.0.2.9", 6, "", ErrInvalid, "IPv4 address but IPv6 was requested"},
		{"2001:db8::9", 4, "", ErrInvalid, "IPv6 address but IPv4"},
		{"2001:db8::9", 6, "2001:db8::9", nil, ""},
		{"dual.test", 5, "", ErrInvalid, "family"},
	}
	for _, tt := range tests {
		tg, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Resolve(context.Background(), tg, tt.fam)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Resolve(%s, %d) = %v, %v; want %v containing %q", tt.in, tt.fam, got, err, tt.wantErr, tt.msg)
			}
			continue
		}
		if err != nil || got != netip.MustParseAddr(tt.want) {
			t.Errorf("Resolve(%s, %d) = %v, %v; want %s", tt.in, tt.fam, got, err, tt.want)
		}
	}
}

func TestResolveCallerCancel(t *testing.T) {
	r := &Resolver{Timeout: time.Hour, Lookup: fakeDNS(nil)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tg, _ := Parse("slow.test")
	_, err := r.Resolve(ctx, tg, 0)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("Resolve with cancelled ctx = %v, want context.Canceled", err)
	}
}

func TestResolveDefaultTimeout(t *testing.T) {
	var got time.Duration
	r := &Resolver{Lookup: func(ctx context.Context, _, _ string) ([]netip.Addr, error) {
		d, ok := ctx.Deadline()
		if !ok {
			t.Error("lookup context has no deadline")
		}
		got = time.Until(d)
		return []netip.Addr{netip.MustParseAddr("192.0.2.1")}, nil
	}}
	tg, _ := Parse("x.test")
	if _, err := r.Resolve(context.Background(), tg, 0); err != nil {
		t.Fatal(err)
	}
	if got <= 0 || got > DefaultTimeout {
		t.Fatalf("lookup budget %v, want (0, %v]", got, DefaultTimeout)
	}
}

func TestResolveAllowed(t *testing.T) {
	r := &Resolver{Lookup: fakeDNS(map[string][]string{
		"mixed.test":    {"10.0.0.1", "192.0.2.1"},
		"private.test":  {"10.0.0.1", "192.168.0.1"},
		"localhost":     {"127.0.0.1", "::1"},
		"v6mapped.test": {"::ffff:127.0.0.1"},
	})}
	tests := []struct {
		in      string
		p       Policy
		want    string
		wantErr string
	}{
		{"mixed.test", Policy{}, "192.0.2.1", ""},
		{"private.test", Policy{}, "", "private.test: 10.0.0.1 is a private address"},
		{"localhost", Policy{}, "", "127.0.0.1 is a loopback address"},
		{"localhost", DevPolicy(), "127.0.0.1", ""},
		{"v6mapped.test", Policy{}, "", "loopback"},
		{"127.0.0.1", Policy{}, "", "127.0.0.1 is a loopback address"},
		{"127.0.0.1", DevPolicy(), "127.0.0.1", ""},
		{"ff02::1", DevPolicy(), "", "multicast"},
	}
	for _, tt := range tests {
		tg, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.ResolveAllowed(context.Background(), tg, 0, tt.p)
		if tt.wantErr != "" {
			if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ResolveAllowed(%s) = %v, %v; want ErrDenied %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != netip.MustParseAddr(tt.want) {
			t.Errorf("ResolveAllowed(%s) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestResolveAllowedLiteralCheckedBeforeLookup(t *testing.T) {
	r := &Resolver{Lookup: func(context.Context, string, string) ([]netip.Addr, error) {
		t.Error("lookup called for a literal")
		return nil, nil
	}}
	tg, _ := Parse("10.0.0.1")
	if _, err := r.ResolveAllowed(context.Background(), tg, 0, Policy{}); !errors.Is(err, ErrDenied) {
		t.Fatalf("err = %v", err)
	}
}

func TestResolveCallerDeadline(t *testing.T) {
	r := &Resolver{Timeout: time.Hour, Lookup: fakeDNS(nil)}
	tg, _ := Parse("slow.test")
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"plain deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Millisecond)
		}},
		{"deadline with ErrTimeout cause", func() (context.Context, context.CancelFunc) {
			return context.WithTimeoutCause(context.Background(), time.Millisecond, ErrTimeout)
		}},
	}
	for _, tt := range tests {
		ctx, cancel := tt.ctx()
		_, err := r.Resolve(ctx, tg, 0)
		cancel()
		if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "slow.test") {
			t.Errorf("%s: Resolve = %v, want ErrTimeout naming the host", tt.name, err)
		}
	}
}

// TestResolveLocalhostNeverLooksUp: RFC 6761 localhost names resolve to
// loopback without asking any resolver, for every family.
func TestResolveLocalhostNeverLooksUp(t *testing.T) {
	r := &Resolver{Lookup: func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		t.Errorf("lookup of %q (%s) sent to the resolver", host, network)
		return nil, ErrNotFound
	}}
	tests := []struct {
		in   string
		fam  Family
		want string
	}{
		{"localhost", 0, "127.0.0.1"},
		{"localhost", 4, "127.0.0.1"},
		{"localhost", 6, "::1"},
		{"LocalHost.", 6, "::1"},
		{"api.localhost", 0, "127.0.0.1"},
	}
	for _, tt := range tests {
		tg, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		got, err := r.Resolve(context.Background(), tg, tt.fam)
		if err != nil || got.String() != tt.want {
			t.Errorf("Resolve(%q, %d) = %v, %v; want %s", tt.in, tt.fam, got, err, tt.want)
		}
	}
	// Not a localhost name: still looked up.
	tg, _ := Parse("notlocalhost")
	var asked bool
	r.Lookup = func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		asked = true
		return []netip.Addr{netip.MustParseAddr("192.0.2.1")}, nil
	}
	if _, err := r.Resolve(context.Background(), tg, 0); err != nil || !asked {
		t.Errorf("notlocalhost: err %v, asked %v", err, asked)
	}
}
