package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// unmatchedRoute is the route label of requests no route matched, so a
// scanner cannot blow up the metrics' cardinality.
const unmatchedRoute = "unmatched"

// accessLog logs one line per request (method, route, status, duration,
// client_ip, sub) and counts it in pingapi_http_requests_total. client_ip
// honours X-Forwarded-For only from Deps.TrustedProxies.
func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		status := c.Writer.Status()
		cancelled := c.Request.Context().Err() != nil
		s.m.requests.WithLabelValues(route, methodLabel(c.Request.Method), statusLabel(status, cancelled)).Inc()
		s.log.LogAttrs(context.Background(), levelOf(route, status, cancelled), "http request",
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
			slog.String("sub", subjectOf(c)),
			slog.Bool("cancelled", cancelled),
		)
	}
}

// statusLabel is the status label of a request: its status, except 499
// (nginx's "client closed request") for a 5xx answered to a client that was
// gone. The client never saw that 5xx, and an alert on the server's error
// rate must not fire because callers hang up.
func statusLabel(status int, cancelled bool) string {
	if cancelled && status >= 500 {
		return "499"
	}
	return strconv.Itoa(status)
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// recovery turns a panic into a logged 500 envelope (when nothing was
// written yet); http.ErrAbortHandler is re-raised for net/http to handle.
func (s *Server) recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			s.log.Error("panic serving request", "path", c.Request.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			abortWithError(c, nil, newError(http.StatusInternalServerError, CodeInternal, "internal error", nil))
		}()
		c.Next()
	}
}

// levelOf logs server errors at error level, probes of the operations
// routes at debug level (a load balancer polls them), and everything else
// at info. A request whose context was cancelled (client gone, server
// stopping) is not a server error.
func levelOf(route string, status int, cancelled bool) slog.Level {
	switch {
	case status >= 500 && !cancelled:
		return slog.LevelError
	case route == "/healthz" || route == "/readyz" || route == "/metrics":
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// strictQuery is the handler, ahead of those that read parameters with
// c.Query (the monitor's, the dashboard's data, /tcpecho/clients), that
// refuses a malformed query string with the 400 envelope of parseQuery:
// c.Query drops the pairs it cannot parse, so ?metric=%zz would silently
// be the default.
func (s *Server) strictQuery(c *gin.Context) {
	if _, err := parseQuery(c.Request.URL.RawQuery); err != nil {
		s.fail(c, err)
	}
}
