package api

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/auth"
)

// BasicChecker checks HTTP Basic credentials for a request path
// (auth.BasicFile: a Ping903-style credentials file of hashed passwords).
type BasicChecker interface {
	Realm() string
	Check(user, password, path string) bool
}

// Who a monitor request was let in as, in the access log's sub field.
const (
	monitorSubNet   = "net:"   // + the client address (MONITOR_OPEN_CIDRS)
	monitorSubBasic = "basic:" // + the user name (MONITOR_BASIC_AUTH_FILE)
)

// monitorAuth returns the middleware of the monitor's routes (read: the
// GET routes). A request is let in by, in this order:
//
//   - on a read route, no Authorization header from a client address in
//     Deps.MonitorOpenCIDRs, as Ping903 serves its readers (the address is
//     the TCP peer, or X-Forwarded-For from a trusted proxy);
//   - "Authorization: Basic" credentials that Deps.MonitorBasic accepts, as
//     ping903q and curl -u send them; they carry no scope, so a route with
//     a required scope answers 403;
//   - "Authorization: Bearer <JWT>", with scope when it is set.
//
// Refusals are requireAuth's, and when Basic is on a 401 also carries a
// "Basic realm=..." challenge so that Basic clients know to answer it.
func (s *Server) monitorAuth(scope string, read bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		hdr := c.Request.Header.Get("Authorization")
		if read && hdr == "" {
			if a, ok := s.monitorOpenClient(c); ok {
				c.Set(ctxSubject, monitorSubNet+a.String())
				c.Next()
				return
			}
		}
		var claims *auth.Claims
		var err error
		sub := ""
		if s.deps.MonitorBasic != nil && len(hdr) > 6 && strings.EqualFold(hdr[:6], "basic ") {
			user, pass, ok := c.Request.BasicAuth()
			switch {
			case !ok || !s.deps.MonitorBasic.Check(user, pass, c.Request.URL.Path):
				err = &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken,
					Message: "invalid user name or password", Cause: errReason("invalid_basic")}
			case scope != "":
				err = scopeError(scope)
			default:
				sub = monitorSubBasic + user
			}
		} else {
			claims, err = s.authenticate(c)
			if err == nil && scope != "" && !claims.HasScope(scope) {
				err = scopeError(scope)
			}
			if err == nil {
				sub = claims.Subject
			}
		}
		if err != nil {
			s.m.authFailures.WithLabelValues(authFailureReason(err)).Inc()
			if e := publicError(err); e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
				c.Writer.Header().Add("WWW-Authenticate", challenge(e, scope))
				if s.deps.MonitorBasic != nil && e.Status == http.StatusUnauthorized {
					c.Writer.Header().Add("WWW-Authenticate", `Basic realm="`+s.deps.MonitorBasic.Realm()+`", charset="UTF-8"`)
				}
			}
			s.fail(c, err)
			return
		}
		if claims != nil {
			c.Set(ctxClaims, claims)
		}
		c.Set(ctxSubject, sub)
		c.Next()
	}
}

// monitorOpenClient reports whether the client address of c is in
// MonitorOpenCIDRs.
func (s *Server) monitorOpenClient(c *gin.Context) (netip.Addr, bool) {
	return clientIn(c, s.deps.MonitorOpenCIDRs)
}

// clientIn reports whether the client address of c is in one of ps. gin's
// ClientIP is the TCP peer, or the address X-Forwarded-For names when the
// peer is a trusted proxy.
func clientIn(c *gin.Context, ps []netip.Prefix) (netip.Addr, bool) {
	if len(ps) == 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(c.ClientIP())
	if err != nil {
		return netip.Addr{}, false
	}
	a = a.Unmap().WithZone("")
	for _, p := range ps {
		if p.Contains(a) {
			return a, true
		}
	}
	return a, false
}
