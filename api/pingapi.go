package api

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/report"
	"github.com/pingapi/pingapi/pkg/target"
	"github.com/pingapi/pingapi/pkg/wire"
)

// EchoInterval is the pace of the on-demand API: one echo per second, so c
// is also the duration in seconds, as in the original pingapi.
const EchoInterval = time.Second

// registerPingAPI adds the measurement routes. POST is also served at
// /pingapi/ because the original's clients post there.
func (s *Server) registerPingAPI(r gin.IRouter) {
	authn := s.requireAuth(s.deps.RequiredScope)
	r.GET("/pingapi/:target", authn, s.getPing)
	r.POST("/pingapi", authn, s.postPing)
	r.POST("/pingapi/", authn, s.postPing)
}

// getPing measures the target in the path.
//
//	@Summary		Measure RTT, jitter and packet loss to a target
//	@Description	Sends c ICMP echo requests to the target, one per second, and returns the summary. RTTs and jitter are in milliseconds, packet_loss in percent (100 × (sent − received) / sent). rtt_stddev is the population standard deviation; jitter is the mean absolute difference of consecutive RTTs in sequence order (RFC 4689 IPDV averaged; 0 with fewer than two replies). A target that never answers is a 200 with packet_loss 100 and null RTT fields. With stream=true or Accept: application/x-ndjson the answer is NDJSON: one {"type":"packet",...} line per echo as it completes, then one {"type":"summary",...} line (the same fields as the JSON answer), or a final {"type":"error","error":{...}} line if the measurement fails after the headers were sent.
//	@Tags			pingapi
//	@Produce		json
//	@Produce		application/x-ndjson
//	@Param			target	path		string	true	"IPv4 or IPv6 literal, or RFC 1123 hostname"	example(example.com)
//	@Param			c		query		int		false	"number of echoes, one per second (= duration in seconds)"	minimum(1)	maximum(59)	default(5)
//	@Param			family	query		int		false	"address family to resolve a hostname to (default: IPv4 when the name has one)"	Enums(4, 6)
//	@Param			packets	query		bool	false	"include per-packet results (seq, rtt, ttl)"	default(false)
//	@Param			stream	query		bool	false	"stream NDJSON, one line per echo, then the summary"	default(false)
//	@Param			Accept	header		string	false	"application/x-ndjson streams like stream=true"
//	@Success		200		{object}	wire.Measurement
//	@Failure		400		{object}	errorBody	"invalid_target, invalid_parameter"
//	@Failure		401		{object}	errorBody	"missing_token, invalid_token, token_in_query"
//	@Failure		403		{object}	errorBody	"insufficient_scope, target_denied"
//	@Failure		422		{object}	errorBody	"out_of_range, unresolvable_target"
//	@Failure		429		{object}	errorBody	"too_many_requests (Retry-After, RateLimit-* headers)"
//	@Failure		502		{object}	errorBody	"resolve_failed"
//	@Failure		503		{object}	errorBody	"keys_unavailable, probe_unavailable"
//	@Failure		504		{object}	errorBody	"resolve_timeout"
//	@Header			200,429	{integer}	RateLimit-Limit		"concurrent measurements allowed"
//	@Header			200,429	{integer}	RateLimit-Remaining	"concurrent measurements left"
//	@Header			200,429	{integer}	RateLimit-Reset		"seconds until a slot is expected to free up"
//	@Security		BearerAuth
//	@Router			/pingapi/{target} [get]
func (s *Server) getPing(c *gin.Context) {
	q, err := parseQuery(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, err)
		return
	}
	req, err := parseGet(c.Param("target"), q, c.GetHeader("Accept"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.measure(c, req)
}

// postPing measures the target in the JSON body.
//
//	@Summary		Measure RTT, jitter and packet loss to a target (JSON body)
//	@Description	As GET /pingapi/{target}, with the target and options in a JSON body of at most 4 KiB: {"ip": "example.com", "c": 5}. c and family may be numbers or numeric strings ("5"), as the original pingapi's clients send. Also served at /pingapi/.
//	@Tags			pingapi
//	@Accept			json
//	@Produce		json
//	@Produce		application/x-ndjson
//	@Param			body	body		pingBody	true	"target and options"
//	@Param			stream	query		bool		false	"stream NDJSON, one line per echo, then the summary"	default(false)
//	@Param			packets	query		bool		false	"include per-packet results (seq, rtt, ttl)"	default(false)
//	@Param			Accept	header		string		false	"application/x-ndjson streams like stream=true"
//	@Success		200		{object}	wire.Measurement
//	@Failure		400		{object}	errorBody	"invalid_json, invalid_target, invalid_parameter"
//	@Failure		401		{object}	errorBody	"missing_token, invalid_token, token_in_query"
//	@Failure		403		{object}	errorBody	"insufficient_scope, target_denied"
//	@Failure		413		{object}	errorBody	"body_too_large"
//	@Failure		415		{object}	errorBody	"unsupported_media_type"
//	@Failure		422		{object}	errorBody	"out_of_range, unresolvable_target"
//	@Failure		429		{object}	errorBody	"too_many_requests (Retry-After, RateLimit-* headers)"
//	@Failure		502		{object}	errorBody	"resolve_failed"
//	@Failure		503		{object}	errorBody	"keys_unavailable, probe_unavailable"
//	@Failure		504		{object}	errorBody	"resolve_timeout"
//	@Header			200,429	{integer}	RateLimit-Limit		"concurrent measurements allowed"
//	@Header			200,429	{integer}	RateLimit-Remaining	"concurrent measurements left"
//	@Header			200,429	{integer}	RateLimit-Reset		"seconds until a slot is expected to free up"
//	@Security		BearerAuth
//	@Router			/pingapi [post]
//	@Router			/pingapi/ [post]
func (s *Server) postPing(c *gin.Context) {
	if c.Request.ContentLength > s.deps.MaxBodyBytes {
		s.fail(c, newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"the body is larger than "+strconv.FormatInt(s.deps.MaxBodyBytes, 10)+" bytes", nil))
		return
	}
	q, err := parseQuery(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, err)
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, s.deps.MaxBodyBytes)
	req, err := parsePost(c.GetHeader("Content-Type"), body, q, c.GetHeader("Accept"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.measure(c, req)
}

// measure applies the policy, admits, resolves and runs one validated
// request, answering in JSON or NDJSON.
func (s *Server) measure(c *gin.Context, req pingRequest) {
	ctx := c.Request.Context()
	if req.Target.IsLiteral() {
		if err := s.deps.Policy.Check(req.Target.Addr); err != nil {
			s.fail(c, deniedError(err))
			return
		}
	}
	expected := time.Duration(req.Count)*EchoInterval + s.deps.EchoTimeout
	release, st, ok := s.limits.acquire(subjectOf(c), expected)
	setRateLimitHeaders(c, st)
	if !ok {
		s.fail(c, tooMany(st))
		return
	}
	defer release()

	addr, err := s.resolve(ctx, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	if s.deps.Pinger == nil {
		s.fail(c, probeUnavailable(errors.New("no pinger configured")))
		return
	}
	preq := probe.Request{Target: addr, Count: req.Count, Interval: EchoInterval, Timeout: s.deps.EchoTimeout}

	s.m.inFlight.Inc()
	defer s.m.inFlight.Dec()
	start := time.Now()
	var res probe.Result
	if req.Stream {
		res, err = s.stream(c, req, preq)
	} else {
		res, err = s.deps.Pinger.Ping(ctx, preq, nil)
	}
	s.record(ctx, res, err, time.Since(start))
	if s.deps.Recorder != nil {
		s.deps.Recorder.Record(req.Target.Input, preq, res, err)
	}
	if req.Stream {
		return
	}
	if err != nil {
		// A cancelled context means the client went away (nobody reads
		// this) or the server is stopping.
		s.fail(c, pingError(ctx, err))
		return
	}
	c.JSON(http.StatusOK, s.summary(req, addr, res))
}

// Recorder receives every on-demand measurement that ran, with the target
// as the client gave it. Record must not block (the archive queues).
type Recorder interface {
	Record(target string, req probe.Request, res probe.Result, err error)
}

// summary builds the report document of a finished measurement.
func (s *Server) summary(req pingRequest, addr netip.Addr, res probe.Result) wire.Measurement {
	if !res.Target.IsValid() {
		res.Target = addr
	}
	return report.Build(req.Target.Input, req.Count, res, req.Packets)
}

// record updates the measurement metrics.
func (s *Server) record(ctx context.Context, res probe.Result, err error, d time.Duration) {
	result := resultOK
	switch {
	case err != nil && ctx.Err() != nil:
		result = resultCancelled
	case err != nil:
		result = resultError
	case res.Received == 0:
		result = resultNoReply
	}
	s.m.measurements.WithLabelValues(result).Inc()
	s.m.duration.Observe(d.Seconds())
	s.m.echoSent.Add(float64(res.Sent))
	s.m.echoReceived.Add(float64(res.Received))
}

// resolve turns the target into the address to measure: the first of the
// name's addresses (in the family's preference order) that the policy
// allows.
func (s *Server) resolve(ctx context.Context, req pingRequest) (netip.Addr, error) {
	rctx, cancel := context.WithTimeoutCause(ctx, s.deps.ResolveTimeout, target.ErrTimeout)
	defer cancel()
	addr, err := s.deps.Resolver.ResolveAllowed(rctx, req.Target, req.Family, s.deps.Policy)
	if err != nil {
		return netip.Addr{}, resolveError(ctx, req.Target.Input, req.Family, err)
	}
	// Belt and braces: a Resolver that ignored the policy must not get an
	// address measured.
	if err := s.deps.Policy.Check(addr); err != nil {
		return netip.Addr{}, deniedError(err)
	}
	return addr, nil
}

// resolveError maps a resolution failure of name (asked in family fam, 0
// any) to its public error, for /pingapi and the monitor's write routes
// alike. ctx is the request's context (a cancelled request is not a
// resolver failure).
func resolveError(ctx context.Context, name string, fam target.Family, err error) *Error {
	name = clip(name, 253)
	switch {
	case errors.Is(err, target.ErrInvalid):
		return newError(http.StatusBadRequest, CodeInvalidTarget, err.Error(), err)
	case errors.Is(err, target.ErrDenied):
		return deniedError(err)
	case ctx.Err() != nil:
		return cancelledError(ctx)
	case errors.Is(err, target.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		e := newError(http.StatusGatewayTimeout, CodeResolveTimeout, "resolving "+name+" timed out", err)
		e.RetryAfter = 1
		return e
	case errors.Is(err, target.ErrNotFound):
		msg := name + " does not resolve"
		if fam != 0 {
			msg += " to an IPv" + strconv.Itoa(int(fam)) + " address"
		}
		return newError(http.StatusUnprocessableEntity, CodeUnresolvable, msg, err)
	}
	// target.ErrLookup (SERVFAIL, refused, no server) and anything else: the
	// resolver failed, not the name.
	return newError(http.StatusBadGateway, CodeResolveFailed, "resolving "+name+" failed; retry later", err)
}

func deniedError(err error) *Error {
	return newError(http.StatusForbidden, CodeTargetDenied, err.Error(), err)
}

func probeUnavailable(cause error) *Error {
	e := newError(http.StatusServiceUnavailable, CodeProbeUnavailable, "the measurement could not run; retry later", cause)
	e.RetryAfter = 5
	return e
}

// cancelledError is what a measurement cut short by its context answers
// (only the server stopping leaves a client to read it).
func cancelledError(ctx context.Context) *Error {
	e := newError(http.StatusServiceUnavailable, CodeProbeUnavailable, "the measurement was cancelled", context.Cause(ctx))
	e.RetryAfter = 5
	return e
}

// pingError maps an engine failure to its public error.
func pingError(ctx context.Context, err error) *Error {
	if ctx.Err() != nil {
		return cancelledError(ctx)
	}
	if errors.Is(err, target.ErrDenied) { // the engine's own admission
		return deniedError(err)
	}
	return probeUnavailable(err)
}
