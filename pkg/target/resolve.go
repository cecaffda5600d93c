package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// DefaultTimeout is the resolution budget when Resolver.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// Resolver resolves Targets to one address. The zero value uses
// net.DefaultResolver with DefaultTimeout. A Resolver is safe for concurrent
// use as long as its fields are not changed.
type Resolver struct {
	Timeout time.Duration // default 2s
	// Lookup, if set, replaces net.DefaultResolver.LookupNetIP (tests).
	Lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Resolve returns the address to measure for t in family fam.
//
// A literal is returned as is (IPv4-mapped IPv6 literals are unmapped to
// IPv4); a literal of the other family than fam is an error wrapping
// ErrInvalid. A hostname is looked up within the Resolver's timeout (and the
// caller's ctx): family 0 returns the first IPv4 address, or the first IPv6
// one when the name has none; 4 and 6 only that family. No address of the
// family (NXDOMAIN, or no record of that type) → ErrNotFound; the timeout
// expired → ErrTimeout; the resolver failed (SERVFAIL, refused,
// unreachable) → ErrLookup; ctx cancelled by the caller → an error wrapping
// ctx.Err().
func (r *Resolver) Resolve(ctx context.Context, t Target, fam Family) (netip.Addr, error) {
	addrs, err := r.candidates(ctx, t, fam)
	if err != nil {
		return netip.Addr{}, err
	}
	return addrs[0], nil
}

// Checker decides whether an address may be measured; Policy implements it.
// Check returns nil or an error wrapping ErrDenied that says why.
type Checker interface {
	Check(a netip.Addr) error
}

// ResolveAllowed is Resolve with policy p applied: a literal is checked
// before anything else, and a hostname's addresses after resolution. It
// returns the first address in preference order (see Resolve) that p allows,
// or, when p allows none, the denial of the preferred address (wrapping
// ErrDenied), naming the host for a hostname.
func (r *Resolver) ResolveAllowed(ctx context.Context, t Target, fam Family, p Checker) (netip.Addr, error) {
	if t.IsLiteral() {
		if err := p.Check(t.Addr); err != nil {
			return netip.Addr{}, err
		}
	}
	addrs, err := r.candidates(ctx, t, fam)
	if err != nil {
		return netip.Addr{}, err
	}
	var first error
	for _, a := range addrs {
		err := p.Check(a)
		if err == nil {
			return a, nil
		}
		if first == nil {
			first = err
		}
	}
	if !t.IsLiteral() {
		why := strings.TrimPrefix(first.Error(), ErrDenied.Error()+": ")
		return netip.Addr{}, fmt.Errorf("%w: %s: %s", ErrDenied, t.Host, why)
	}
	return netip.Addr{}, first
}

// candidates returns the usable addresses of t in preference order; never
// an empty slice without an error.
func (r *Resolver) candidates(ctx context.Context, t Target, fam Family) ([]netip.Addr, error) {
	if fam != 0 && fam != 4 && fam != 6 {
		return nil, fmt.Errorf("%w: family must be 0, 4 or 6, got %d", ErrInvalid, fam)
	}
	if t.IsLiteral() {
		a := t.Addr.Unmap()
		if fam != 0 && familyOf(a) != fam {
			return nil, fmt.Errorf("%w: %s is an IPv%d address but IPv%d was requested", ErrInvalid, t.Input, familyOf(a), fam)
		}
		return []netip.Addr{a}, nil
	}
	if t.Host == "" {
		return nil, fmt.Errorf("%w: empty target", ErrInvalid)
	}
	if isLocalhost(t.Host) {
		return localhostAddrs(fam), nil
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	lctx, cancel := context.WithTimeoutCause(ctx, timeout, ErrTimeout)
	defer cancel()
	lookup := r.Lookup
	if lookup == nil {
		lookup = net.DefaultResolver.LookupNetIP
	}
	network := map[Family]string{0: "ip", 4: "ip4", 6: "ip6"}[fam]
	found, err := lookup(lctx, network, t.Host)
	if err != nil {
		return nil, lookupError(ctx, lctx, t.Host, err)
	}
	var v4, v6 []netip.Addr
	for _, a := range found {
		a = a.Unmap().WithZone("")
		switch {
		case !a.IsValid():
		case a.Is4() && fam != 6:
			v4 = append(v4, a)
		case a.Is6() && fam != 4:
			v6 = append(v6, a)
		}
	}
	all := append(v4, v6...)
	if len(all) == 0 {
		if fam == 0 {
			return nil, fmt.Errorf("%w: %s has no address", ErrNotFound, t.Host)
		}
		return nil, fmt.Errorf("%w: %s has no IPv%d address", ErrNotFound, t.Host, fam)
	}
	return all, nil
}

// lookupError classifies a lookup failure. ctx is the caller's context, lctx
// the one bounded by the Resolver's timeout.
func lookupError(ctx, lctx context.Context, host string, err error) error {
	if ctx.Err() != nil {
		// The caller's own deadline is still a timeout; a cancellation is not.
		cause := context.Cause(ctx)
		if errors.Is(cause, context.DeadlineExceeded) && !errors.Is(cause, ErrTimeout) {
			return fmt.Errorf("%w: %s: %w", ErrTimeout, host, cause)
		}
		if errors.Is(cause, ErrTimeout) {
			return fmt.Errorf("%w: %s", cause, host)
		}
		return fmt.Errorf("resolving %s: %w", host, cause)
	}
	var dnsErr *net.DNSError
	isDNS := errors.As(err, &dnsErr)
	if errors.Is(context.Cause(lctx), ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || isDNS && dnsErr.IsTimeout {
		return fmt.Errorf("%w: %s", ErrTimeout, host)
	}
	if isDNS && dnsErr.IsNotFound {
		return fmt.Errorf("%w: %s: no such host", ErrNotFound, host)
	}
	// SERVFAIL, REFUSED, an unreachable server: the name may well exist, so
	// this is not "does not resolve".
	return fmt.Errorf("%w: %s: %v", ErrLookup, host, err)
}

func familyOf(a netip.Addr) Family {
	if a.Is4() {
		return 4
	}
	return 6
}

// isLocalhost reports whether host is "localhost" or a name under it. RFC
// 6761 section 6.3: such names resolve to loopback and are never sent to
// DNS. /etc/hosts often maps only 127.0.0.1, so without this an IPv6 lookup
// of localhost would leave the machine.
func isLocalhost(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// localhostAddrs are the loopback addresses of family fam, IPv4 first.
func localhostAddrs(fam Family) []netip.Addr {
	switch fam {
	case 4:
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	case 6:
		return []netip.Addr{netip.IPv6Loopback()}
	}
	return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
}
