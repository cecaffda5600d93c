// Package target parses and validates what a caller asks to measure (an IP
// literal or an RFC 1123 hostname), resolves it with a timeout, and applies
// the allow/deny policy before and after resolution.
package target

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// Errors returned by this package; match them with errors.Is.
var (
	ErrInvalid  = errors.New("invalid target")          // not an IP literal nor a hostname
	ErrNotFound = errors.New("target does not resolve") // name has no address (of the family)
	ErrDenied   = errors.New("target denied by policy")
	ErrTimeout  = errors.New("target resolution timed out")
)

// Family selects the address family: 0 any (IPv4 preferred), 4 or 6.
type Family int

// Target is a parsed, syntactically valid target.
type Target struct {
	Input string     // as given, trimmed
	Addr  netip.Addr // set when Input is an IP literal
	Host  string     // set when Input is a hostname (lower-case, no trailing dot)
}

// Parse validates s. It never performs a lookup.
func Parse(s string) (Target, error) { return Target{}, ErrInvalid }

// Resolver resolves Targets to one address.
type Resolver struct {
	Timeout time.Duration // default 2s
	// Lookup, if set, replaces net.DefaultResolver.LookupNetIP (tests).
	Lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Resolve returns the address to measure for t in family fam.
func (r *Resolver) Resolve(ctx context.Context, t Target, fam Family) (netip.Addr, error) {
	return netip.Addr{}, ErrNotFound
}

// Policy decides which addresses may be measured.
type Policy struct {
	Allow []netip.Prefix // if non-empty, only these (minus Deny) are allowed... see Check
	Deny  []netip.Prefix
}

// Check returns nil when a may be measured, or an error wrapping ErrDenied
// whose message says why.
func (p Policy) Check(a netip.Addr) error { return nil }
