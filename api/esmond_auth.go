package api

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/auth"
)

// Who an esmond request was let in as, in the access log's sub field.
const (
	esmondSubKey = "key:" // + the key's name
	esmondSubNet = "net:" // + the client address (ARCHIVE_WRITE_CIDRS)
)

// esmondAccess is the access rule of one esmond route.
type esmondAccess int

const (
	esmondReadAccess esmondAccess = iota
	esmondWriteAccess
)

// esmondAuth returns the middleware of esmond's routes.
//
// Writes are let in by, in this order:
//   - "Authorization: Token <key>" with a live archive key (what pScheduler
//     and esmond's client send); a wrong key is 401 at once;
//   - "Authorization: Bearer <JWT>" with the archive:write scope (403
//     without it);
//   - no Authorization header, from a client address in
//     Deps.ArchiveWriteCIDRs (esmond's IP authentication; the address is
//     the TCP peer, or X-Forwarded-For from a trusted proxy).
//
// Anything else is 401. Reads are public when Deps.ArchiveReadPublic;
// otherwise they need what a write needs, with archive:read (or
// archive:write) in place of archive:write.
func (s *Server) esmondAuth(access esmondAccess) gin.HandlerFunc {
	return func(c *gin.Context) {
		if access == esmondReadAccess && s.deps.ArchiveReadPublic {
			c.Next()
			return
		}
		sub, err := s.esmondAuthenticate(c, access)
		if err != nil {
			s.m.authFailures.WithLabelValues(authFailureReason(err)).Inc()
			if e := publicError(err); e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
				for _, ch := range esmondChallenges(e) {
					c.Writer.Header().Add("WWW-Authenticate", ch)
				}
			}
			s.fail(c, err)
			return
		}
		c.Set(ctxSubject, sub)
		c.Next()
	}
}

// esmondAuthenticate judges the credentials of c; it returns the subject
// to log.
func (s *Server) esmondAuthenticate(c *gin.Context, access esmondAccess) (string, error) {
	h := c.Request.Header.Values("Authorization")
	if len(h) == 0 || len(h) == 1 && strings.TrimSpace(h[0]) == "" {
		// A client allowed to write may read too.
		if a, ok := s.esmondClientAllowed(c); ok {
			return esmondSubNet + a.String(), nil
		}
		return "", &Error{Status: http.StatusUnauthorized, Code: CodeMissingToken,
			Message: "authentication credentials were not provided: send Authorization: Token <archive key> or Authorization: Bearer <token>",
			Cause:   errReason(auth.ReasonMissing)}
	}
	if len(h) == 1 {
		scheme, key, _ := strings.Cut(strings.TrimSpace(h[0]), " ")
		if strings.EqualFold(scheme, "Token") {
			return s.esmondKey(c.Request.Context(), strings.TrimSpace(key))
		}
	}
	claims, err := s.authenticate(c)
	if err != nil {
		return "", err
	}
	want := auth.ScopeArchiveWrite
	if access == esmondReadAccess && !claims.HasScope(auth.ScopeArchiveWrite) {
		want = auth.ScopeArchiveRead
	}
	if !claims.HasScope(want) {
		return "", scopeError(want)
	}
	c.Set(ctxClaims, claims)
	return claims.Subject, nil
}

// esmondKey checks an archive key.
func (s *Server) esmondKey(ctx context.Context, key string) (string, error) {
	invalid := &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken,
		Message: "invalid token: not a live archive key", Cause: errReason(auth.ReasonInvalid)}
	if s.deps.Archive == nil {
		return "", invalid
	}
	name, err := auth.CheckArchiveKey(ctx, s.deps.Archive, key)
	switch {
	case errors.Is(err, auth.ErrArchiveKeyStore):
		e := newError(http.StatusServiceUnavailable, CodeNotReady, "the archive cannot check keys now; retry shortly", err)
		e.RetryAfter = 5
		return "", e
	case err != nil:
		return "", invalid
	}
	return esmondSubKey + name, nil
}

// esmondClientAllowed reports whether the client address of c is in
// ArchiveWriteCIDRs. gin's ClientIP is the TCP peer, or the address
// X-Forwarded-For names when the peer is a trusted proxy.
func (s *Server) esmondClientAllowed(c *gin.Context) (netip.Addr, bool) {
	return clientIn(c, s.deps.ArchiveWriteCIDRs)
}

// esmondChallenges are the WWW-Authenticate values of a refusal: the
// Token scheme of esmond's keys and the Bearer scheme of JWTs.
func esmondChallenges(e *Error) []string {
	token := `Token realm="` + realm + `"`
	if e.Status == http.StatusForbidden {
		return []string{challenge(e, "")}
	}
	if errors.Is(e.Cause, errReason(auth.ReasonMissing)) || e.Code == CodeMissingToken {
		return []string{token, `Bearer realm="` + realm + `"`}
	}
	return []string{token, challenge(e, "")}
}
