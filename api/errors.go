package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Stable error codes of the envelope, documented in docs/API.md. A code
// never changes meaning; new ones may be added.
const (
	CodeInvalidTarget     = "invalid_target"         // 400
	CodeInvalidParameter  = "invalid_parameter"      // 400
	CodeInvalidJSON       = "invalid_json"           // 400
	CodeBadRequest        = "bad_request"            // 400: net/http could not read the request
	CodeMissingToken      = "missing_token"          // 401
	CodeInvalidToken      = "invalid_token"          // 401
	CodeTokenInQuery      = "token_in_query"         // 401
	CodeInsufficientScope = "insufficient_scope"     // 403
	CodeTargetDenied      = "target_denied"          // 403
	CodeNotFound          = "not_found"              // 404
	CodeMethodNotAllowed  = "method_not_allowed"     // 405
	CodeBodyTooLarge      = "body_too_large"         // 413
	CodeUnsupportedMedia  = "unsupported_media_type" // 415
	CodeConflict          = "conflict"               // 409
	CodeOutOfRange        = "out_of_range"           // 422
	CodeUnresolvable      = "unresolvable_target"    // 422
	CodeTooManyRequests   = "too_many_requests"      // 429
	CodeHeadersTooLarge   = "headers_too_large"      // 431
	CodeInternal          = "internal"               // 500
	CodeNotImplemented    = "not_implemented"        // 501: unknown transfer coding
	CodeResolveFailed     = "resolve_failed"         // 502
	CodeKeysUnavailable   = "keys_unavailable"       // 503
	CodeProbeUnavailable  = "probe_unavailable"      // 503
	CodeNotReady          = "not_ready"              // 503
	CodeResolveTimeout    = "resolve_timeout"        // 504
)

// Error is the one error type of the HTTP layer: a status, a stable
// machine-readable code, a public message, and a private cause that is logged
// but never sent to the client.
type Error struct {
	Status  int
	Code    string // stable, snake_case, documented in docs/API.md
	Message string // safe to show to the client
	Cause   error  // private; logged only
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int
	// Index, when positive, is the 1-based position of the offending
	// element of a batch (POST /config/ip-list), sent on the monitor routes.
	Index int
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Message + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// errorBody is the JSON envelope of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code" example:"invalid_target"`
	Message string `json:"message" example:"target must be an IPv4 or IPv6 address or an RFC 1123 hostname"`
}

// newError builds an *Error.
func newError(status int, code, msg string, cause error) *Error {
	return &Error{Status: status, Code: code, Message: msg, Cause: cause}
}

// publicError returns err as an *Error; anything else is an internal
// failure whose text the client never sees.
func publicError(err error) *Error {
	var e *Error
	if !errors.As(err, &e) {
		e = newError(http.StatusInternalServerError, CodeInternal, "internal error", err)
	}
	return e
}

// envelope returns the JSON body of e.
func envelope(e *Error) errorBody {
	return errorBody{Error: errorDetail{Code: e.Code, Message: e.Message}}
}

// ping903Key marks a request of the monitor's routes: its error body also
// carries Ping903's top-level "message" and "index" (monitorErrorBody).
const ping903Key = "pingapi.ping903"

// abortWithError is the one error writer: it writes err as the JSON envelope
// and aborts the chain. An error that is not an *Error is an internal
// failure: it is logged with its cause and the client sees only a generic
// 500 message. 5xx are logged at error level (info when the request was
// cancelled), 4xx with a cause at debug level. On the monitor's routes the
// body is monitorErrorBody, the envelope plus Ping903's members; under
// /esmond/ it is esmond's {"detail": "..."} (esmondErrorBody).
func abortWithError(c *gin.Context, log *slog.Logger, err error) {
	e := publicError(err)
	if log != nil {
		switch {
		case e.Status >= 500 && c.Request.Context().Err() != nil:
			log.Info("request cancelled", "path", c.FullPath(), "code", e.Code, "err", err)
		case e.Status >= 500:
			log.Error("request failed", "path", c.FullPath(), "code", e.Code, "err", err)
		case e.Cause != nil:
			log.Debug("request rejected", "path", c.FullPath(), "code", e.Code, "err", err)
		}
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if isEsmondPath(c.Request.URL.Path) {
		// The documented exception: esmond's clients read {"detail": ...}.
		c.Abort()
		writeEsmondJSON(c, e.Status, esmondErrorBody{Detail: e.Message})
		return
	}
	if c.GetBool(ping903Key) {
		c.AbortWithStatusJSON(e.Status, monitorErrorBody{Error: envelope(e).Error, Message: e.Message, Index: e.Index})
		return
	}
	c.AbortWithStatusJSON(e.Status, envelope(e))
}

// fail is abortWithError with the server's logger.
func (s *Server) fail(c *gin.Context, err error) { abortWithError(c, s.log, err) }

// noRoute answers unknown paths with the 404 envelope. The router redirects
// nothing: a redirect of a PUT or DELETE (a trailing slash, an escaped one)
// would change a write behind the client's back.
func (s *Server) noRoute(c *gin.Context) {
	msg := "no such route: " + clip(c.Request.URL.Path, 100)
	if p := c.Request.URL.Path; len(p) > 1 && p[len(p)-1] == '/' && !isEsmondPath(p) { // esmond's paths take both forms
		msg += " (paths take no trailing slash, and a name cannot be empty or hold a slash)"
	}
	s.fail(c, newError(http.StatusNotFound, CodeNotFound, msg, nil))
}

// noMethod answers a known path with the wrong method; gin has already set
// the Allow header.
func (s *Server) noMethod(c *gin.Context) {
	s.fail(c, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
		"method "+clip(c.Request.Method, 20)+" not allowed; allowed: "+c.Writer.Header().Get("Allow"), nil))
}

// clip bounds how much client input is echoed back in a message (n bytes,
// then "…") and escapes it, so a message stays one printable line.
func clip(s string, n int) string {
	suffix := ""
	if len(s) > n {
		s, suffix = s[:n], "…"
	}
	q := strconv.Quote(s)
	return q[1:len(q)-1] + suffix
}
