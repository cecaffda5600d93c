package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Error is the one error type of the HTTP layer: a status, a stable
// machine-readable code, a public message, and a private cause that is logged
// but never sent to the client.
type Error struct {
	Status  int
	Code    string // stable, snake_case, documented in the README
	Message string // safe to show to the client
	Cause   error  // private; logged only
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

// abortWithError writes err as the JSON envelope and aborts the chain. An
// error that is not an *Error is an internal failure: it is logged with its
// cause and the client sees only a generic 500 message.
func abortWithError(c *gin.Context, log *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = newError(http.StatusInternalServerError, "internal", "internal error", err)
	}
	if e.Status >= 500 && log != nil {
		log.Error("request failed", "path", c.FullPath(), "code", e.Code, "err", err)
	}
	c.AbortWithStatusJSON(e.Status, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message}})
}
