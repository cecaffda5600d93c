// Package target parses and validates what a caller asks to measure (an IP
// literal or an RFC 1123 hostname), resolves it with a timeout, and applies
// the allow/deny policy before and after resolution.
//
// The usual sequence for untrusted input is:
//
//	t, err := target.Parse(s)                          // 400 on ErrInvalid
//	fam, err := target.ParseFamily(q)                  // 400 on ErrInvalid
//	addr, err := resolver.ResolveAllowed(ctx, t, fam, policy)
//	// ErrDenied → 403, ErrNotFound → 422, ErrTimeout → 504, ErrLookup → 502
//
// Nothing in this package runs a shell or accepts the non-standard IPv4
// forms ("1.2.3", "0x7f.1", "017.0.0.1") that inet_aton-style resolvers
// accept. All functions and methods are safe for concurrent use.
package target

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Errors returned by this package; match them with errors.Is.
var (
	ErrInvalid  = errors.New("invalid target")          // not an IP literal nor a hostname
	ErrNotFound = errors.New("target does not resolve") // name has no address (of the family)
	ErrDenied   = errors.New("target denied by policy")
	ErrTimeout  = errors.New("target resolution timed out")
	// ErrLookup: the resolver itself failed (SERVFAIL, refused, no server
	// reachable), so whether the name exists is unknown; retrying may help.
	ErrLookup = errors.New("target resolution failed")
)

// Family selects the address family: 0 any (IPv4 preferred), 4 or 6.
type Family int

// ParseFamily parses the value of a "family" query parameter or flag:
// "" or "0" (any), "4" or "6". Anything else is an error wrapping ErrInvalid.
func ParseFamily(s string) (Family, error) {
	switch strings.TrimSpace(s) {
	case "", "0":
		return 0, nil
	case "4":
		return 4, nil
	case "6":
		return 6, nil
	}
	return 0, fmt.Errorf("%w: family must be 4 or 6, got %q", ErrInvalid, clip(s))
}

// Target is a parsed, syntactically valid target.
type Target struct {
	Input string     // as given, trimmed
	Addr  netip.Addr // set when Input is an IP literal
	Host  string     // set when Input is a hostname (lower-case, no trailing dot)
}

// IsLiteral reports whether t is an IP literal (Addr is set).
func (t Target) IsLiteral() bool { return t.Addr.IsValid() }

// String returns the trimmed input.
func (t Target) String() string { return t.Input }

// maxInput bounds how much of a rejected input is echoed in error messages.
const maxInput = 64

// Parse validates s. It never performs a lookup.
//
// Accepted: an IPv4 literal in dotted-quad form (no leading zeros, no
// shortened or hexadecimal forms), an IPv6 literal without a zone and without
// brackets, or an RFC 1123 hostname: at most 253 characters, labels of 1–63
// letters, digits and hyphens that neither start nor end with a hyphen, an
// optional single trailing dot, and a last label that is not all-numeric
// (nor a hexadecimal "0x…" form). Hostnames are returned lower-case without
// the trailing dot. Only surrounding whitespace is stripped. Any rejection
// wraps ErrInvalid and says why.
func Parse(s string) (Target, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Target{}, fmt.Errorf("%w: empty target", ErrInvalid)
	}
	if strings.ContainsRune(in, ':') {
		return parseIPv6(in)
	}
	if a, err := netip.ParseAddr(in); err == nil {
		return Target{Input: in, Addr: a}, nil
	}
	host, err := parseHostname(in)
	if err != nil {
		return Target{}, err
	}
	return Target{Input: in, Host: host}, nil
}

func parseIPv6(in string) (Target, error) {
	if strings.ContainsRune(in, '%') {
		return Target{}, fmt.Errorf("%w: %q: IPv6 zones are not accepted", ErrInvalid, clip(in))
	}
	a, err := netip.ParseAddr(in)
	if err != nil || !a.Is6() {
		return Target{}, fmt.Errorf("%w: %q is not a valid IPv6 address", ErrInvalid, clip(in))
	}
	return Target{Input: in, Addr: a}, nil
}

// parseHostname applies RFC 1123 section 2.1 (as refined by RFC 3696
// section 2: the top-level label is not all-numeric).
func parseHostname(in string) (string, error) {
	name := strings.TrimSuffix(in, ".")
	if name == "" {
		return "", fmt.Errorf("%w: %q is not a hostname", ErrInvalid, clip(in))
	}
	if len(name) > 253 {
		return "", fmt.Errorf("%w: hostname is longer than 253 characters", ErrInvalid)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return "", fmt.Errorf("%w: %q: %s", ErrInvalid, clip(in), err)
		}
	}
	last := strings.ToLower(labels[len(labels)-1])
	if allDigits(last) || isHexForm(last) {
		return "", fmt.Errorf("%w: %q is neither an IP address nor a hostname (numeric last label)", ErrInvalid, clip(in))
	}
	return strings.ToLower(name), nil
}

func checkLabel(l string) error {
	switch {
	case l == "":
		return errors.New("empty label")
	case len(l) > 63:
		return errors.New("label longer than 63 characters")
	case l[0] == '-' || l[len(l)-1] == '-':
		return errors.New("label starts or ends with a hyphen")
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return errors.New("only letters, digits, hyphens and dots are allowed")
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isHexForm reports whether s reads as a hexadecimal number ("0x7f"), which
// inet_aton would turn into an address.
func isHexForm(s string) bool {
	if !strings.HasPrefix(s, "0x") {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// clip shortens untrusted input before it is quoted in an error message.
func clip(s string) string {
	if len(s) <= maxInput {
		return s
	}
	return s[:maxInput] + "…"
}
