package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/target"
)

// Error codes of the monitor routes, in addition to the project's.
const (
	CodeAlreadyMonitored = "already_monitored" // 403 PUT: the name is listed already
	CodeUnresolvableHost = "unresolvable_host" // 403 PUT/POST: no IPv4 address
	CodeNotMonitored     = "not_monitored"     // 404: no such host in the table / mutable list
	CodeImmutable        = "immutable_host"    // 404 DELETE: the name is in the immutable list
	CodeNoSuchAttribute  = "no_such_attribute" // 404 /id/{attr}, /config/{keyword}
	CodeTooManyHosts     = "too_many_hosts"    // 413 POST: over MaxLookupsPerRequest host names, or the list cap
)

// monitorErrorBody is the error response of the monitor routes, written by
// the one writer (abortWithError): the project's envelope plus Ping903's
// top-level "message" and, for an element of a POST /config/ip-list array,
// its 1-based "index", so that Ping903 clients keep working.
type monitorErrorBody struct {
	Error   errorDetail `json:"error"`
	Message string      `json:"message" example:"host is already monitored"`
	Index   int         `json:"index,omitempty" example:"2"`
}

// listError maps the errors of the monitor's list mutations of name. A
// resolver failure is reported as /pingapi reports it (502, 504), a denial
// by the target policy as 403 target_denied.
func listError(ctx context.Context, name string, err error) *Error {
	switch {
	case errors.Is(err, target.ErrDenied):
		return deniedError(err)
	case errors.Is(err, target.ErrTimeout), errors.Is(err, target.ErrLookup), ctx.Err() != nil:
		return resolveError(ctx, name, 4, err)
	case errors.Is(err, monitor.ErrTooManyLookups), errors.Is(err, monitor.ErrTooManyHosts):
		return newError(http.StatusRequestEntityTooLarge, CodeTooManyHosts, err.Error(), err)
	case errors.Is(err, monitor.ErrExists):
		return newError(http.StatusForbidden, CodeAlreadyMonitored, monitor.ErrExists.Error(), err)
	case errors.Is(err, monitor.ErrUnresolvable):
		return newError(http.StatusForbidden, CodeUnresolvableHost, monitor.ErrUnresolvable.Error(), err)
	case errors.Is(err, monitor.ErrInvalid):
		// CanonicalName's message says why and quotes the name, clipped.
		return newError(http.StatusBadRequest, CodeInvalidTarget,
			strings.TrimPrefix(err.Error(), monitor.ErrInvalid.Error()+": "), err)
	case errors.Is(err, monitor.ErrNotFound):
		return newError(http.StatusNotFound, CodeNotMonitored, monitor.ErrNotFound.Error(), err)
	case errors.Is(err, monitor.ErrImmutable):
		return newError(http.StatusNotFound, CodeImmutable,
			"host is in the immutable ip-list (the configuration file) and cannot be deleted", err)
	case errors.Is(err, monitor.ErrBadMode):
		return newError(http.StatusBadRequest, CodeInvalidParameter, monitor.ErrBadMode.Error(), err)
	}
	return newError(http.StatusInternalServerError, CodeInternal, "internal error", err)
}
