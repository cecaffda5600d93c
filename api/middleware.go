package api

import (
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
		s.m.requests.Inc(route, methodLabel(c.Request.Method), strconv.Itoa(status))
		s.log.LogAttrs(c.Request.Context(), levelOf(status), "http request",
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
			slog.String("sub", subjectOf(c)),
		)
	}
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

// levelOf logs server errors at error level, everything else at info.
func levelOf(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
