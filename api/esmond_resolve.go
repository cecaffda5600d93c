package api

import (
	"context"
	"errors"
	"net/http"
	"net/netip"

	"github.com/pingapi/pingapi/pkg/target"
)

// anyAddress admits every address: a metadata search only compares
// addresses, it measures nothing, so the target policy does not apply.
type anyAddress struct{}

func (anyAddress) Check(netip.Addr) error { return nil }

// resolveEsmondHost turns the value of a source, destination or
// measurement-agent filter into the addresses to match, per esmond's
// dns-match-rule (its prepare_ip): the first A and/or AAAA address of a
// host name, or the literal itself when it is of an allowed family. The
// lookup goes through the server's Resolver within ResolveTimeout, so
// tests inject it and no name but localhost is ever sent to DNS by them.
//
// No address under the rule is a 400 (as in esmond); a resolver timeout is
// a 504 and a resolver failure a 502, since the name may well exist.
func (s *Server) resolveEsmondHost(ctx context.Context, param, value string, rule dnsMatchRule) ([]netip.Addr, error) {
	t, err := target.Parse(value)
	if err != nil {
		return nil, badRequest(param + " must be an IP address or a host name, got \"" + clip(value, 64) + "\"")
	}
	rctx, cancel := context.WithTimeoutCause(ctx, s.deps.ResolveTimeout, target.ErrTimeout)
	defer cancel()
	lookup := func(fam target.Family) (netip.Addr, bool, error) {
		a, err := s.deps.Resolver.ResolveAllowed(rctx, t, fam, anyAddress{})
		switch {
		case err == nil:
			return a, true, nil
		case errors.Is(err, target.ErrNotFound), errors.Is(err, target.ErrInvalid):
			return netip.Addr{}, false, nil // no address of this family
		}
		return netip.Addr{}, false, err
	}
	var fams []target.Family
	switch rule {
	case dnsOnlyV4:
		fams = []target.Family{4}
	case dnsOnlyV6:
		fams = []target.Family{6}
	case dnsPreferV4:
		fams = []target.Family{4, 6}
	case dnsPreferV6:
		fams = []target.Family{6, 4}
	default:
		fams = []target.Family{4, 6}
	}
	var out []netip.Addr
	for _, fam := range fams {
		a, ok, err := lookup(fam)
		if err != nil {
			return nil, esmondResolveError(ctx, value, err)
		}
		if ok {
			out = append(out, a)
			if rule == dnsPreferV4 || rule == dnsPreferV6 {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, newError(http.StatusBadRequest, CodeUnresolvable,
			"unable to find an address for "+param+" "+clip(value, 253)+" (dns-match-rule "+string(rule)+")", nil)
	}
	return out, nil
}

// esmondResolveError maps a resolver failure other than "no such address".
func esmondResolveError(ctx context.Context, name string, err error) error {
	return resolveError(ctx, name, 0, err)
}
