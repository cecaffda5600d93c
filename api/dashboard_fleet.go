package api

import (
	"bytes"
	"compress/gzip"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/stats"
	"github.com/pingapi/pingapi/pkg/tcpecho"
	"github.com/pingapi/pingapi/pkg/wire"
)

// medianOf is the nearest-rank median of rtts (not sorted in place).
func medianOf(rtts []time.Duration) time.Duration {
	s := slices.Clone(rtts)
	slices.Sort(s)
	return stats.NearestRank(s, 50)
}

// dashStatus is the overview's status of a record: alive, dead or
// collecting (no probe has finished yet).
func dashStatus(r *wire.Record) string {
	switch {
	case r.Status == wire.StatusInit:
		return "collecting"
	case r.Status == wire.StatusUnreachable || !r.Alive:
		return "dead"
	}
	return "alive"
}

// dashHosts returns the overview table.
//
//	@Summary		Dashboard: every monitored host, with its last 24 hours
//	@Description	In the monitor's list order, each host as an array ["name","status",rtt,loss,jitter,lo,hi,[spark],losses]: status alive, dead or collecting; rtt the median RTT of the latest archived measurement of the last hour (ms; else the mean of the monitor's last probe); loss (percent) and jitter (ms) of the last probe; then the 24 hourly median RTTs ending with the current hour (the first hour starts at first, Unix seconds), compressed for a sparkline: lo and hi are their least and greatest (ms, null without data) and spark holds 24 integers 0…99 placing each hour between lo and hi, -1 where an hour has no data; losses is 0 when no hour lost anything, else 24 integers, the hour's loss in percent rounded up (-1: no data). null where there are no data. complete is false while the server still reads some hosts' history from the archive (ask again shortly). About 100–190 bytes per host: 10,000 hosts in at most about 1.9 MB. TCP echo clients follow the monitored hosts, as [name,status,rtt,loss,jitter,null,null,[],0,"tcp","address","mode","archive"]: the agent's announced name (else address:port), dead when gone or when it never echoed, the RTT of its last echo, loss and jitter over the connection, and the client's name in the archive (its announced name, else its IP address), whose history /dashboard/client/{archive} draws.
//	@Tags			dashboard
//	@Produce		json
//	@Success		200	{object}	dashHostsDoc
//	@Failure		401	{object}	errorBody	"missing_token, invalid_token (when archive reads need a token)"
//	@Failure		403	{object}	errorBody	"insufficient_scope"
//	@Failure		503	{object}	errorBody	"keys_unavailable"
//	@Security		BearerAuth
//	@Router			/dashboard/api/hosts [get]
func (s *Server) dashHosts(c *gin.Context) {
	recs := s.dash.records()
	names := make([]string, len(recs))
	for i := range recs {
		names[i] = recs[i].Name
	}
	hh, complete := s.dash.fleet.hours(names, s.dash.ctx)
	first := fleetFirst(s.deps.Now())
	b := make([]byte, 0, 128*len(recs)+256)
	b = append(b, `{"first":`...)
	b = strconv.AppendInt(b, first, 10)
	b = append(b, `,"hours":`...)
	b = strconv.AppendInt(b, fleetHours, 10)
	b = append(b, `,"complete":`...)
	b = strconv.AppendBool(b, complete)
	b = append(b, `,"hosts":[`...)
	for i := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHostHead(b, &recs[i], hh[i])
		b = appendSpark(b, hh[i])
		b = append(b, ']')
	}
	if te := s.deps.TCPEcho; te != nil {
		for i, cl := range te.Clients() {
			if i > 0 || len(recs) > 0 {
				b = append(b, ',')
			}
			b = appendTCPClient(b, &cl)
		}
	}
	b = append(b, "]}"...)
	dashJSON(c, b)
}

// appendTCPClient writes a TCP echo client as an overview row without
// sparkline: ["name","status",rtt,loss,jitter,null,null,[],0,"tcp","address","mode","archive"]
// with its announced name (or its address and port), the RTT of its last
// echo, its loss and jitter over the connection, and the name of its
// history in the archive (the page /dashboard/client/{archive}). A client that has gone,
// or that has not echoed a single probe, is dead; one not probed yet is
// collecting.
func appendTCPClient(b []byte, cl *tcpecho.Client) []byte {
	name := cl.Name
	if name == "" {
		name = cl.Key
	}
	status := "alive"
	switch {
	case cl.State != "connected":
		status = "dead"
	case cl.Sent == 0 || cl.Received == 0 && cl.Lost == 0:
		status = "collecting"
	case cl.Received == 0:
		status = "dead"
	}
	num := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	b = append(b, '[')
	b = appendJSONString(b, name)
	b = append(b, `,"`...)
	b = append(b, status...)
	b = append(b, `",`...)
	b = appendNum(b, num(cl.LastRTT))
	b = append(b, ',')
	loss := math.NaN()
	if cl.Received+cl.Lost > 0 {
		loss = cl.PacketLoss
	}
	b = appendNum(b, loss)
	b = append(b, ',')
	b = appendNum(b, num(cl.Jitter))
	b = appendSpark(b, nil)
	b = append(b, `,"tcp",`...)
	b = appendJSONString(b, cl.Address)
	b = append(b, ',')
	b = appendJSONString(b, cl.Mode)
	b = append(b, ',')
	b = appendJSONString(b, cl.ArchiveClient())
	return append(b, ']')
}

// dashHostsDoc documents the overview document (written by appendHostHead
// and appendSpark).
type dashHostsDoc struct {
	First    int64         `json:"first" example:"1764400000"` // Unix seconds of the first hour
	Hours    int           `json:"hours" example:"24"`
	Complete bool          `json:"complete" example:"true"`
	Hosts    []dashHostRow `json:"hosts"`
}

// dashHostRow is one host of the overview, as an array:
// [name, status, rtt, loss, jitter, lo, hi, [spark], losses], or for a TCP
// echo client [name, status, rtt, loss, jitter, null, null, [], 0, "tcp",
// address, mode, archive name].
type dashHostRow []any

// appendHostHead writes the start of a host's row,
// ["name","status",rtt,loss,jitter (without the closing bracket).
func appendHostHead(b []byte, r *wire.Record, h *hostHours) []byte {
	b = append(b, '[')
	b = appendJSONString(b, r.Name)
	b = append(b, `,"`...)
	b = append(b, dashStatus(r)...)
	b = append(b, `",`...)
	rtt, loss, jit := math.NaN(), math.NaN(), math.NaN()
	if r.Validity {
		loss, jit = r.Loss, r.Jitter
		if r.Recv > 0 {
			rtt = r.Avg
		}
	}
	if h != nil && !math.IsNaN(float64(h.lastMed)) {
		rtt = float64(h.lastMed)
	}
	b = appendNum(b, rtt)
	b = append(b, ',')
	b = appendNum(b, loss)
	b = append(b, ',')
	return appendNum(b, jit)
}

// appendSpark writes ,lo,hi,[spark],losses (see dashHosts).
func appendSpark(b []byte, h *hostHours) []byte {
	lo, hi := math.Inf(1), math.Inf(-1)
	lossy := false
	if h != nil {
		for i, v := range h.med {
			if f := float64(v); !math.IsNaN(f) {
				lo, hi = min(lo, f), max(hi, f)
			}
			lossy = lossy || h.loss[i] > 0
		}
	}
	b = append(b, ',')
	b = appendShort(b, lo)
	b = append(b, ',')
	b = appendShort(b, hi)
	b = append(b, ",["...)
	if !math.IsInf(lo, 0) {
		for i, v := range h.med {
			if i > 0 {
				b = append(b, ',')
			}
			switch f := float64(v); {
			case math.IsNaN(f):
				b = append(b, "-1"...)
			case hi > lo:
				b = strconv.AppendInt(b, int64(math.Round(99*(f-lo)/(hi-lo))), 10)
			default:
				b = append(b, '0')
			}
		}
	}
	b = append(b, ']', ',')
	if !lossy {
		return append(b, '0')
	}
	b = append(b, '[')
	for i, v := range h.loss {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(float64(v)) {
			b = append(b, "-1"...)
		} else {
			b = strconv.AppendInt(b, int64(math.Ceil(float64(v))), 10)
		}
	}
	return append(b, ']')
}

// appendShort writes v with three significant digits (a sparkline needs no
// more), or null.
func appendShort(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, v, 'g', 3, 64)
}

// dashJSON writes a JSON document, gzip-compressed (fastest level) when
// the client accepts it and the document is larger than a packet.
func dashJSON(c *gin.Context, b []byte) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Encoding")
	if len(b) < 1400 || !acceptsGzip(c.GetHeader("Accept-Encoding")) {
		c.Data(http.StatusOK, "application/json; charset=utf-8", b)
		return
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	_, _ = zw.Write(b)
	_ = zw.Close()
	h.Set("Content-Encoding", "gzip")
	c.Data(http.StatusOK, "application/json; charset=utf-8", z.Bytes())
}
