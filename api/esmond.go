package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/archive"
)

// The esmond API (perfSONAR's measurement archive REST interface) is served
// under esmondArchive; esmondRoot answers like esmond's API root. Every
// route accepts its path with and without the trailing slash, answering
// both directly: no redirect, so a POST never becomes a GET.
//
// The same API also answers under esmondBareRoot, where esmond itself
// lives without Apache's /esmond script alias (its development server, its
// own test suite, clients built with script_alias=None); the URIs of an
// answer always use the root the request came in on.
const (
	esmondRoot     = "/esmond/perfsonar/"
	esmondArchive  = esmondRoot + "archive/"
	esmondBareRoot = "/perfsonar/"
)

// esmondRoots are the roots the esmond API answers under.
func esmondRoots() []string { return []string{esmondRoot, esmondBareRoot} }

// ctxEsmondRoot is the root of the request's route (esmondRoots).
const ctxEsmondRoot = "pingapi.esmond.root"

// esmondArchiveOf is the archive path under the root c came in on.
func esmondArchiveOf(c *gin.Context) string {
	if r := c.GetString(ctxEsmondRoot); r != "" {
		return r + "archive/"
	}
	return esmondArchive
}

// esmondContentType is the exact Content-Type of every esmond answer:
// esmond's Python client compares the header with this string, so no
// charset parameter may follow.
const esmondContentType = "application/json"

// isEsmondPath reports whether a request path belongs to the esmond API,
// whose errors are esmond's {"detail": "..."} bodies.
func isEsmondPath(p string) bool {
	return p == "/esmond" || strings.HasPrefix(p, "/esmond/") ||
		p == strings.TrimSuffix(esmondBareRoot, "/") || strings.HasPrefix(p, esmondBareRoot)
}

// esmondErrorBody is the error body of the esmond routes: Django REST
// framework's {"detail": "..."}, which esmond's clients print. It is the
// project's one error type (*Error) written by the one writer
// (abortWithError) in the shape these clients know; Detail is the
// *Error's public Message.
type esmondErrorBody struct {
	Detail string `json:"detail" example:"summary-window must be a whole number of seconds, got \"abc\""`
}

// writeEsmondJSON writes v with the exact esmond Content-Type, without
// HTML escaping (URLs keep their "&").
func writeEsmondJSON(c *gin.Context, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.Reset()
		status = http.StatusInternalServerError
		b.WriteString(`{"detail":"internal error"}`)
	}
	c.Data(status, esmondContentType, bytes.TrimRight(b.Bytes(), "\n"))
}

// esmondReadHeaders marks a read answer as readable from any origin
// (esmond's behaviour, which perfSONAR's graphs loaded from another host
// rely on) and lets scripts see the paging Link header.
func esmondReadHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Link")
	c.Next()
}

// esmondRoutes calls add for every esmond route under root (esmondRoots):
// each path with and without its trailing slash.
func esmondRoutes(root string, add func(method, path string, read bool, h gin.HandlerFunc), s *Server) {
	both := func(method, path string, read bool, h gin.HandlerFunc) {
		add(method, strings.TrimSuffix(path, "/"), read, h)
		add(method, path, read, h)
	}
	a := root + "archive/"
	both(http.MethodGet, root, true, s.esmondAPIRoot)
	both(http.MethodGet, a, true, s.esmondSearch)
	both(http.MethodPost, a, false, s.esmondCreateMetadata)
	both(http.MethodGet, a+":key/", true, s.esmondMetadataDetail)
	both(http.MethodPut, a+":key/", false, s.esmondBulk)
	both(http.MethodDelete, a+":key/", false, s.esmondDelete)
	both(http.MethodGet, a+":key/:event/", true, s.esmondEventType)
	both(http.MethodPost, a+":key/:event/", false, s.esmondPostEventType)
	both(http.MethodGet, a+":key/:event/:summary/", true, s.esmondSeries)
	both(http.MethodPost, a+":key/:event/:summary/", false, s.esmondPostPoint)
	both(http.MethodGet, a+":key/:event/:summary/:window/", true, s.esmondSummaryData)
	both(http.MethodPost, a+":key/:event/:summary/:window/", false, s.esmondPostSummary)
}

// registerEsmond adds the esmond API to r. Every other method of an
// esmond path is registered too, answering 405 (PATCH: 400) itself:
// otherwise gin would redirect a POST to /archive/KEY/ towards a route of
// another shape (RedirectTrailingSlash) instead of refusing it.
func (s *Server) registerEsmond(r *gin.Engine) {
	read, write := s.esmondAuth(esmondReadAccess), s.esmondAuth(esmondWriteAccess)
	origin := s.esmondOrigin()
	for _, root := range esmondRoots() {
		atRoot := func(c *gin.Context) { c.Set(ctxEsmondRoot, root) }
		allowed := map[string][]string{}
		esmondRoutes(root, func(method, path string, isRead bool, h gin.HandlerFunc) {
			allowed[path] = append(allowed[path], method)
			if isRead {
				r.Handle(method, path, atRoot, esmondReadHeaders, origin, read, h)
				if method == http.MethodGet {
					// HEAD as GET, as Django's views answer it (net/http
					// drops the body).
					r.Handle(http.MethodHead, path, atRoot, esmondReadHeaders, origin, read, h)
				}
				return
			}
			r.Handle(method, path, atRoot, origin, write, h)
		}, s)
		for path, methods := range allowed {
			for _, m := range esmondUnserved(methods) {
				r.Handle(m, path, s.esmondWrongMethod(methods))
			}
		}
	}
}

// esmondMethods are the methods an esmond path answers, served or refused.
func esmondMethods() []string {
	return []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch}
}

// esmondUnserved returns the esmondMethods not in served.
func esmondUnserved(served []string) []string {
	var out []string
	for _, m := range esmondMethods() {
		if !slices.Contains(served, m) {
			out = append(out, m)
		}
	}
	return out
}

// esmondWrongMethod refuses a method an esmond path does not serve.
func (s *Server) esmondWrongMethod(allowed []string) gin.HandlerFunc {
	allow := strings.Join(allowed, ", ")
	return func(c *gin.Context) {
		if c.Request.Method == http.MethodPatch {
			s.fail(c, badRequest("PATCH is not supported: register metadata with POST, add data with POST to a base URI or PUT a bulk document to the metadata URI"))
			return
		}
		c.Header("Allow", allow)
		s.fail(c, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"method "+clip(c.Request.Method, 20)+" not allowed; allowed: "+allow, nil))
	}
}

func badRequest(msg string) *Error {
	return newError(http.StatusBadRequest, CodeInvalidParameter, msg, nil)
}

// esmondAPIRootBody is esmond's API root: where the archive is.
type esmondAPIRootBody struct {
	Archive string `json:"archive" example:"http://127.0.0.1:8080/esmond/perfsonar/archive/"`
}

// esmondAPIRoot godoc
//
//	@Summary		esmond API root
//	@Description	Where the measurement archive is, as esmond's API root answers (Django REST framework's router root). Readable from any origin. Every esmond route also answers under /perfsonar/ (esmond without its /esmond script alias: /perfsonar/, /perfsonar/archive/, ...), with the URIs of its answers under that prefix.
//	@Tags			esmond
//	@Produce		json
//	@Success		200	{object}	esmondAPIRootBody
//	@Failure		401	{object}	esmondErrorBody	"ARCHIVE_READ=token and no valid credentials"
//	@Security		BearerAuth
//	@Security		ArchiveKey
//	@Router			/esmond/perfsonar [get]
//	@Router			/esmond/perfsonar/ [get]
func (s *Server) esmondAPIRoot(c *gin.Context) {
	writeEsmondJSON(c, http.StatusOK, esmondAPIRootBody{Archive: absoluteURL(c, esmondArchiveOf(c), nil)})
}

// ctxEsmondScheme is the scheme the client used (esmondOrigin).
const ctxEsmondScheme = "pingapi.esmond.scheme"

// esmondOrigin records the scheme the client called with, for the absolute
// URLs of the answers: https over TLS, or X-Forwarded-Proto when the TCP
// peer is one of Deps.TrustedProxies (a TLS-terminating NGINX), else http.
func (s *Server) esmondOrigin() gin.HandlerFunc {
	var proxies []netip.Prefix
	for _, p := range s.deps.TrustedProxies {
		if pf, err := netip.ParsePrefix(p); err == nil {
			proxies = append(proxies, pf.Masked())
		} else if a, err := netip.ParseAddr(p); err == nil {
			proxies = append(proxies, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return func(c *gin.Context) {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		} else if p := c.Request.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			if ap, err := netip.ParseAddrPort(c.Request.RemoteAddr); err == nil {
				for _, pf := range proxies {
					if pf.Contains(ap.Addr().Unmap()) {
						scheme = p
						break
					}
				}
			}
		}
		c.Set(ctxEsmondScheme, scheme)
	}
}

// absoluteURL is path (and query q) on the host the client called, as
// esmond's paging links and "url" fields are.
func absoluteURL(c *gin.Context, path string, q url.Values) string {
	scheme := c.GetString(ctxEsmondScheme)
	if scheme == "" {
		scheme = "http"
	}
	u := url.URL{Scheme: scheme, Host: c.Request.Host, Path: path}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Archive is what the esmond API needs of the measurement archive;
// *archive.Store implements it. Errors wrap archive.ErrNotFound,
// archive.ErrExists, archive.ErrInvalid (an *archive.InputError) or
// archive.ErrClosed; anything else is an internal failure. It must be safe
// for concurrent use.
type Archive interface {
	// SearchMetadata returns one page of the records f selects, and how
	// many it selects in all.
	SearchMetadata(ctx context.Context, f archive.Filter) ([]archive.Metadata, int, error)
	// Metadata returns one record.
	Metadata(ctx context.Context, key string) (archive.Metadata, error)
	// PutMetadata validates and stores m unless an identical record
	// exists, and returns the stored record.
	PutMetadata(ctx context.Context, m archive.Metadata) (archive.Metadata, bool, error)
	// DeleteMetadata removes a record and all its data.
	DeleteMetadata(ctx context.Context, key string) error
	// AddPoints stores points of record key in one transaction: all or none.
	AddPoints(ctx context.Context, key string, pts []archive.DataPoint) error
	// Data returns base or summary points, oldest first.
	Data(ctx context.Context, q archive.DataQuery) ([]archive.Point, error)
	// APIKeyByHash returns the archive key with this hash (revoked or not).
	APIKeyByHash(ctx context.Context, hash string) (archive.APIKey, error)
}

// esmondStoreError maps an archive error to its public error.
func esmondStoreError(err error) error {
	var ie *archive.InputError
	switch {
	case errors.As(err, &ie):
		return newError(http.StatusBadRequest, CodeInvalidParameter, ie.Detail, err)
	case errors.Is(err, archive.ErrNotFound):
		return newError(http.StatusNotFound, CodeNotFound, storeDetail(err, archive.ErrNotFound, "not found"), err)
	case errors.Is(err, archive.ErrExists):
		return newError(http.StatusConflict, CodeConflict,
			storeDetail(err, archive.ErrExists, "a value already exists at this time for this event type"), err)
	case errors.Is(err, archive.ErrInvalid):
		return newError(http.StatusBadRequest, CodeInvalidParameter, "invalid input", err)
	case errors.Is(err, archive.ErrClosed):
		e := newError(http.StatusServiceUnavailable, CodeNotReady, "the archive is not available; retry shortly", err)
		e.RetryAfter = 5
		return e
	}
	return err
}

// esmondKeyError is esmondStoreError for an operation on metadata key: a
// bare "not found" names the key.
func esmondKeyError(err error, key string) error {
	if errors.Is(err, archive.ErrNotFound) && storeDetail(err, archive.ErrNotFound, "") == "" {
		return newError(http.StatusNotFound, CodeNotFound, "no metadata "+key, err)
	}
	return esmondStoreError(err)
}

// storeDetail is what the archive's error err says after its sentinel
// ("archive: already exists: throughput already has a value at ts 60"
// gives "throughput already has a value at ts 60"): the archive words
// those from the request (event type, ts, key), never from its internals.
// def when there is nothing after the sentinel.
func storeDetail(err, sentinel error, def string) string {
	msg := err.Error()
	i := strings.Index(msg, sentinel.Error()+": ")
	if i < 0 {
		return def
	}
	if rest := strings.TrimSpace(msg[i+len(sentinel.Error())+2:]); rest != "" {
		if len(rest) > 200 {
			rest = rest[:200] + "…"
		}
		return rest
	}
	return def
}
