package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/report"
	"github.com/pingapi/pingapi/pkg/wire"
)

// NDJSON line types of a streamed measurement. Every line is one JSON
// object with a "type" member: zero or more "packet" lines in sequence
// order, then exactly one "summary" or "error" line.
const (
	lineKindPacket  = "packet"
	lineKindSummary = "summary"
	lineKindError   = "error"
)

// streamPacket is one echo's line: {"type":"packet","seq":0,"rtt":0.041,"ttl":64}.
type streamPacket struct {
	Type string `json:"type" example:"packet"`
	wire.Packet
}

// streamSummary is the last line of a successful stream: the summary
// document with "type":"summary" added.
type streamSummary struct {
	Type string `json:"type" example:"summary"`
	wire.Measurement
}

// streamError ends a stream whose measurement failed after the headers
// were sent: {"type":"error","error":{"code":"...","message":"..."}}.
type streamError struct {
	Type  string      `json:"type" example:"error"`
	Error errorDetail `json:"error"`
}

// stream runs the measurement and writes it as NDJSON, each line flushed as
// soon as it is written. Write failures are ignored: a client that goes away
// cancels the request context, which ends the measurement.
func (s *Server) stream(c *gin.Context, req pingRequest, preq probe.Request) (probe.Result, error) {
	ctx := c.Request.Context()
	h := c.Writer.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer this response
	h.Set("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	c.Writer.WriteHeaderNow()
	c.Writer.Flush()

	enc := json.NewEncoder(c.Writer)
	line := func(v any) {
		if err := enc.Encode(v); err != nil {
			s.log.Debug("stream write", "err", err)
			return
		}
		c.Writer.Flush()
	}
	res, err := s.deps.Pinger.Ping(ctx, preq, func(p probe.Packet) {
		line(streamPacket{Type: lineKindPacket, Packet: report.PacketOf(p)})
	})
	switch {
	case err != nil:
		e := pingError(ctx, err)
		s.logStreamFailure(ctx, req, e)
		line(streamError{Type: lineKindError, Error: envelope(e).Error})
	default:
		line(streamSummary{Type: lineKindSummary, Measurement: s.summary(req, preq.Target, res)})
	}
	return res, err
}

func (s *Server) logStreamFailure(ctx context.Context, req pingRequest, e *Error) {
	if ctx.Err() != nil {
		s.log.Info("measurement cancelled", "target", req.Target.Input, "err", e.Cause)
		return
	}
	s.log.Error("measurement failed", "target", req.Target.Input, "code", e.Code, "err", e.Cause)
}
