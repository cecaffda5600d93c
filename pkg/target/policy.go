package target

import (
	"fmt"
	"net/netip"
	"strings"
)

// Policy decides which addresses may be measured. The zero value is the safe
// default for a public deployment.
//
// Check applies these rules in order; the first that matches decides:
//
//  1. An invalid address is denied.
//  2. An address inside a Deny prefix is denied: the deny list always wins.
//  3. Unspecified (0.0.0.0/8, ::), multicast (224.0.0.0/4, ff00::/8),
//     broadcast (255.255.255.255), reserved (240.0.0.0/4) and link-local
//     (169.254.0.0/16, fe80::/10) addresses are always denied; Allow cannot
//     re-enable them.
//  4. An address inside an Allow prefix is allowed. This is how private and
//     loopback ranges are enabled: Allow 10.0.0.0/8 permits 10.x.y.z.
//  5. Otherwise, when AllowOnly is set, the address is denied (not in the
//     allow list).
//  6. Otherwise private (10/8, 172.16/12, 192.168/16, fc00::/7), shared
//     CGNAT (100.64/10) and loopback (127/8, ::1) addresses are denied.
//  7. An address in the NAT64 prefix 64:ff9b::/96 (RFC 6052) is denied when
//     the IPv4 address it embeds is denied; every other address is allowed.
//
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as the IPv4 address
// they carry, and prefixes of either form match both forms. Zones are
// ignored. A Policy is a value; it is safe for concurrent use as long as its
// slices are not modified.
type Policy struct {
	// Allow lists prefixes that may be measured even though they are private
	// or loopback (rule 4); with AllowOnly, the only prefixes allowed.
	Allow []netip.Prefix
	// Deny lists prefixes that are never measured (rule 2).
	Deny []netip.Prefix
	// AllowOnly makes Allow an exclusive list (rule 5).
	AllowOnly bool
}

// DevPolicy is the policy of dev mode: the defaults plus loopback
// (127.0.0.0/8 and ::1).
func DevPolicy() Policy {
	return Policy{Allow: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
	}}
}

// rangeClass names a built-in range; the message reads "<addr> is <what>".
type rangeClass struct {
	prefix netip.Prefix
	what   string
}

func classes(specs ...string) []rangeClass {
	out := make([]rangeClass, 0, len(specs)/2)
	for i := 0; i < len(specs); i += 2 {
		out = append(out, rangeClass{netip.MustParsePrefix(specs[i]), specs[i+1]})
	}
	return out
}

// alwaysDenied returns the ranges of rule 3.
func alwaysDenied() []rangeClass { return alwaysDeniedRanges }

// deniedByDefault returns the ranges of rule 6.
func deniedByDefault() []rangeClass { return deniedByDefaultRanges }

// The built-in ranges: read-only tables, never changed after
// initialisation (building them at each Check cost 0.8 µs and an
// allocation, and the monitor checks every host).
var (
	alwaysDeniedRanges = classes(
		"0.0.0.0/8", "an unspecified (\"this network\") address",
		"::/128", "the unspecified address",
		"255.255.255.255/32", "the broadcast address",
		"224.0.0.0/4", "a multicast address",
		"ff00::/8", "a multicast address",
		"240.0.0.0/4", "a reserved address",
		"169.254.0.0/16", "a link-local address",
		"fe80::/10", "a link-local address",
	)
	deniedByDefaultRanges = classes(
		"127.0.0.0/8", "a loopback address",
		"::1/128", "a loopback address",
		"10.0.0.0/8", "a private address",
		"172.16.0.0/12", "a private address",
		"192.168.0.0/16", "a private address",
		"fc00::/7", "a private (unique local) address",
		"100.64.0.0/10", "a shared (CGNAT) address",
	)
)

// Check returns nil when a may be measured, or an error wrapping ErrDenied
// whose message says why, e.g. "127.0.0.1 is a loopback address".
func (p Policy) Check(a netip.Addr) error {
	if !a.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrDenied)
	}
	a = a.WithZone("")
	u := a.Unmap()
	for _, pf := range p.Deny {
		if prefixContains(pf, a) {
			return fmt.Errorf("%w: %s is in the deny list (%s)", ErrDenied, u, pf)
		}
	}
	for _, c := range alwaysDenied() {
		if c.prefix.Contains(u) {
			return fmt.Errorf("%w: %s is %s", ErrDenied, u, c.what)
		}
	}
	for _, pf := range p.Allow {
		if prefixContains(pf, a) {
			return nil
		}
	}
	if p.AllowOnly {
		return fmt.Errorf("%w: %s is not in the allow list", ErrDenied, u)
	}
	for _, c := range deniedByDefault() {
		if c.prefix.Contains(u) {
			return fmt.Errorf("%w: %s is %s", ErrDenied, u, c.what)
		}
	}
	if v4, ok := nat64Embedded(u); ok {
		if err := p.Check(v4); err != nil {
			why := strings.TrimPrefix(err.Error(), ErrDenied.Error()+": ")
			return fmt.Errorf("%w: %s is a NAT64 address of %s", ErrDenied, u, why)
		}
	}
	return nil
}

// nat64Embedded returns the IPv4 address embedded in a in the NAT64
// well-known prefix 64:ff9b::/96 (RFC 6052), through which a NAT64 gateway
// would reach it: such an address is judged as that IPv4 address too.
var nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")

func nat64Embedded(a netip.Addr) (netip.Addr, bool) {
	if !nat64Prefix.Contains(a) {
		return netip.Addr{}, false
	}
	b := a.As16()
	return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
}

// CheckTarget applies p to a literal target before any resolution; for a
// hostname it returns nil (the resolved address is checked later, see
// Resolver.ResolveAllowed).
func (p Policy) CheckTarget(t Target) error {
	if !t.IsLiteral() {
		return nil
	}
	return p.Check(t.Addr)
}

// prefixContains matches a against pf with IPv4-mapped forms folded: an
// IPv4 prefix matches ::ffff:a.b.c.d, and ::ffff:a.b.c.d/(96+n) matches the
// IPv4 address.
func prefixContains(pf netip.Prefix, a netip.Addr) bool {
	if !pf.IsValid() {
		return false
	}
	if pf.Contains(a) || pf.Contains(a.Unmap()) {
		return true
	}
	if pa := pf.Addr(); pa.Is4In6() && pf.Bits() >= 96 {
		v4 := netip.PrefixFrom(pa.Unmap(), pf.Bits()-96)
		return v4.Contains(a.Unmap())
	}
	return false
}

// ParsePrefixes parses a comma- and/or whitespace-separated list of CIDR
// prefixes, as found in environment variables. Bare addresses become /32 or
// /128; host bits are cleared ("10.1.2.3/8" → 10.0.0.0/8). Zones are
// rejected. An empty or blank string yields nil. Errors wrap ErrInvalid and
// name the offending entry.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	var out []netip.Prefix
	for _, f := range fields {
		if strings.ContainsRune(f, '%') {
			return nil, fmt.Errorf("%w: %q: zones are not accepted in prefixes", ErrInvalid, clip(f))
		}
		if !strings.ContainsRune(f, '/') {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%w: %q is neither an address nor a CIDR prefix", ErrInvalid, clip(f))
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pf, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %q is not a CIDR prefix", ErrInvalid, clip(f))
		}
		out = append(out, pf.Masked())
	}
	return out, nil
}
