package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/wire"
)

// Live updates: Server-Sent Events (text/event-stream). The page reads them
// with fetch, not EventSource, so that it can send its bearer token in a
// header (never in the URL).
const (
	eventsPoll     = 2 * time.Second  // how often a stream looks for news
	eventsLifetime = 10 * time.Minute // a stream ends then; the page reconnects
	eventsRetryMS  = 2000             // reconnection delay suggested to clients
	eventsOverlap  = time.Minute      // a host stream starts this far back
)

// dashboard is the dashboard's state on the Server.
type dashboard struct {
	s       *Server
	fleet   *fleet
	windows winCache // closed hourly and daily windows of the host pages

	// ctx ends when the HTTP server shuts down: it ends the event streams
	// (which would otherwise hold the drain until their lifetime ends) and
	// the background refreshes of the fleet cache.
	ctx    context.Context
	cancel context.CancelFunc
}

func newDashboard(s *Server) *dashboard {
	ctx, cancel := context.WithCancel(context.Background())
	return &dashboard{s: s, fleet: newFleet(s.deps.DashboardArchive, s.deps.Now), ctx: ctx, cancel: cancel}
}

// closeStreams ends every event stream and background refresh; registered
// with http.Server.RegisterOnShutdown by HTTPServer.
func (d *dashboard) closeStreams() { d.cancel() }

// records returns every monitored host's record (none without a monitor).
func (d *dashboard) records() []wire.Record {
	m := d.s.deps.Monitor
	if m == nil {
		return nil
	}
	out := make([]wire.Record, 0, m.Len())
	_ = m.Records(0, 0, func(rs []wire.Record) error {
		out = append(out, rs...)
		return nil
	})
	return out
}

// dashEvents streams live updates.
//
//	@Summary		Dashboard: live updates (Server-Sent Events)
//	@Description	A text/event-stream. Without host: a "host" event whenever a monitored host finishes a probe or changes status, its data the overview row ["name","status",rtt,loss,jitter] (rtt: the probe's mean, ms). With host: a "point" event for each archived measurement of that host from a minute before the stream began (the page skips those it has), its data one point of the series document ({"t","p5","p25","p50","p75","p95","loss","jitter","fail"}), plus "host" events for that host. The server polls every 2 s and ends a stream after 10 minutes (the client reconnects, after "retry" ms); ": ping" comments keep proxies from timing out.
//	@Tags			dashboard
//	@Produce		text/event-stream
//	@Param			host	query		string	false	"one host's updates only, with its measurements"
//	@Success		200		{string}	string	"event stream"
//	@Failure		401		{object}	errorBody	"missing_token, invalid_token (when archive reads need a token)"
//	@Failure		403		{object}	errorBody	"insufficient_scope"
//	@Failure		503		{object}	errorBody	"keys_unavailable"
//	@Security		BearerAuth
//	@Router			/dashboard/api/events [get]
func (s *Server) dashEvents(c *gin.Context) {
	host := c.Query("host")
	// The server's write timeout fits the longest measurement, not a
	// stream: lift it for this response only.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	w := &sseWriter{c: c}
	w.raw("retry: " + strconv.Itoa(eventsRetryMS) + "\n\n")

	ctx, cancel := context.WithTimeout(c.Request.Context(), eventsLifetime)
	defer cancel()
	last := map[string]hostState{} // what was last sent of each host
	// Measurements are archived when they end, stamped with their start:
	// begin a little in the past so that one running now is not missed
	// (the page ignores points it already has).
	since := s.deps.Now().Add(-eventsOverlap)
	tick := time.NewTicker(eventsPoll)
	defer tick.Stop()
	first := true
	for {
		s.dash.sendHosts(w, host, last, first)
		if host != "" && s.deps.DashboardArchive != nil {
			since = s.dash.sendPoints(ctx, w, host, since)
		}
		first = false
		if w.err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.dash.ctx.Done():
			return
		case <-tick.C:
			w.raw(": ping\n\n")
		}
	}
}

// hostState is what a "host" event changes on: a new probe or status.
type hostState struct {
	stop   float64
	status wire.Status
	alive  bool
}

// sendHosts sends a "host" event for each record that changed since the
// last call (all of them but the unchanged ones; on the first call, only
// remembers them, except for a single host, whose row is sent at once).
func (d *dashboard) sendHosts(w *sseWriter, host string, last map[string]hostState, first bool) {
	var recs []wire.Record
	if host != "" {
		if m := d.s.deps.Monitor; m != nil {
			if r, ok := m.Lookup(host); ok {
				recs = []wire.Record{r}
			}
		}
	} else {
		recs = d.records()
	}
	for i := range recs {
		r := &recs[i]
		key := hostState{r.StopTimestamp, r.Status, r.Alive}
		old, seen := last[r.Name]
		last[r.Name] = key
		if seen && old == key || first && host == "" {
			continue
		}
		w.event("host", append(appendHostHead(nil, r, nil), ']'))
	}
}

// sendPoints sends the host's measurements archived since since, one
// "point" event each, and returns the time to continue from.
func (d *dashboard) sendPoints(ctx context.Context, w *sseWriter, host string, since time.Time) time.Time {
	now := d.s.deps.Now()
	next := since
	ms, err := d.s.deps.DashboardArchive.Measurements(ctx, archive.SeriesQuery{Target: host}, since, now.Add(time.Second), 0)
	for i := range ms {
		var b bucket
		b.add(&ms[i])
		w.event("point", appendPoint(nil, b.point()))
		if t := ms[i].Time.Add(time.Millisecond); t.After(next) {
			next = t // stored to the millisecond
		}
	}
	if err != nil && ctx.Err() == nil {
		d.s.log.Debug("dashboard events: archive read", "host", host, "err", err)
	}
	return next
}

// appendPoint writes one point as an object.
func appendPoint(b []byte, p seriesPoint) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, p.t, 10)
	for _, f := range []struct {
		k string
		v float64
	}{{"p5", p.p5}, {"p25", p.p25}, {"p50", p.p50}, {"p75", p.p75}, {"p95", p.p95}, {"loss", p.loss}, {"jitter", p.jitter}} {
		b = append(b, `,"`...)
		b = append(b, f.k...)
		b = append(b, `":`...)
		b = appendNum(b, f.v)
	}
	b = append(b, `,"fail":`...)
	b = strconv.AppendInt(b, int64(p.fail), 10)
	return append(b, '}')
}

// sseWriter writes events and remembers the first write error (the client
// has gone).
type sseWriter struct {
	c   *gin.Context
	err error
}

func (w *sseWriter) raw(s string) {
	if w.err != nil {
		return
	}
	if _, w.err = w.c.Writer.WriteString(s); w.err == nil {
		w.c.Writer.Flush()
	}
}

// event writes one event whose data is a single line of JSON.
func (w *sseWriter) event(name string, data []byte) {
	w.raw("event: " + name + "\ndata: " + string(data) + "\n\n")
}

// appendJSONString writes s as a JSON string (with <, > and & escaped, so
// the document is safe even if a browser sniffs it as HTML).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
