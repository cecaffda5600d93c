package api

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/stats"
)

// DashboardArchive is what the dashboard reads of the measurement archive
// (*archive.Store): one target's measurements over a time range, and their
// aggregates over epoch-aligned windows; and, for TCP echo clients, whose
// history is esmond data, the metadata search and the data of one record.
// It must be safe for concurrent use.
type DashboardArchive interface {
	Measurements(ctx context.Context, q archive.SeriesQuery, from, to time.Time, limit int) ([]archive.Measurement, error)
	Windows(ctx context.Context, q archive.SeriesQuery, from, to time.Time, window time.Duration) ([]archive.WindowStats, error)
	SearchMetadata(ctx context.Context, f archive.Filter) ([]archive.Metadata, int, error)
	Data(ctx context.Context, q archive.DataQuery) ([]archive.Point, error)
}

var _ DashboardArchive = (*archive.Store)(nil)

// Ranges of the series endpoint.
const (
	dashDefaultWidth = 1000                     // points when the page does not say
	dashMaxWidth     = 8000                     // at most this many points per answer
	dashRawSpan      = 7 * 24 * time.Hour       // longest range drawn from raw measurements
	dashHourlySpan   = 92 * 24 * time.Hour      // longest range drawn from hourly windows
	dashMaxSpan      = 5 * 366 * 24 * time.Hour // longest range asked for
	dashMaxRaw       = 500000                   // measurements read for one raw series at most
)

// seriesPoint is one point of a drawn series: a bucket of raw measurements
// or one archive window. NaN fields are drawn as gaps.
type seriesPoint struct {
	t                      int64   // Unix seconds
	p5, p25, p50, p75, p95 float64 // ms
	loss                   float64 // percent
	jitter                 float64 // ms
	fail                   int     // failed measurements in the point
}

// gapPoint is the point inserted where data are missing, so the chart
// draws a gap instead of a line across it.
func gapPoint(t int64) seriesPoint {
	n := math.NaN()
	return seriesPoint{t: t, p5: n, p25: n, p50: n, p75: n, p95: n, loss: n, jitter: n}
}

// bucket accumulates the measurements of one point.
type bucket struct {
	t          int64
	rtts       []time.Duration
	sent, recv int
	jitter     time.Duration
	withJitter int
	fail       int
}

func (b *bucket) add(m *archive.Measurement) {
	if len(b.rtts) == 0 && b.sent == 0 && b.fail == 0 {
		b.t = m.Time.Unix()
	}
	if m.Error != "" {
		b.fail++ // the measurement could not run
		return
	}
	rep := m.Replies()
	b.sent += m.Sent
	b.recv += len(rep)
	b.rtts = append(b.rtts, rep...)
	if len(rep) >= 2 {
		b.jitter += m.Summary().Jitter
		b.withJitter++
	}
	if len(rep) == 0 {
		b.fail++ // every echo lost: marked as a failure too
	}
}

// point summarises b: percentiles by nearest rank over every RTT of the
// bucket (pkg/stats), loss over every echo sent.
func (b *bucket) point() seriesPoint {
	p := gapPoint(b.t)
	p.fail = b.fail
	if b.sent > 0 {
		p.loss = stats.Loss(b.sent, b.recv)
	}
	if len(b.rtts) > 0 {
		slices.Sort(b.rtts)
		q := func(f float64) float64 { return stats.Millis(stats.NearestRank(b.rtts, f)) }
		p.p5, p.p25, p.p50, p.p75, p.p95 = q(5), q(25), q(50), q(75), q(95)
	}
	if b.withJitter > 0 {
		p.jitter = stats.Millis(b.jitter / time.Duration(b.withJitter))
	}
	return p
}

// bucketSamples reads target's measurements in [from, to) into at most
// about width points: one per measurement while they are sparser than a
// pixel, else one per step of (to-from)/width.
func bucketSamples(ctx context.Context, a DashboardArchive, target string, from, to time.Time, width int) ([]seriesPoint, time.Duration, error) {
	step := max(to.Sub(from)/time.Duration(width), time.Second)
	ms, err := a.Measurements(ctx, archive.SeriesQuery{Target: target}, from, to, dashMaxRaw)
	if err != nil {
		return nil, step, err
	}
	var out []seriesPoint
	var cur bucket
	idx := int64(-1)
	for i := range ms {
		k := int64(ms[i].Time.Sub(from) / step)
		if k != idx {
			if idx >= 0 {
				out = append(out, cur.point())
			}
			cur = bucket{rtts: cur.rtts[:0]}
			idx = k
		}
		cur.add(&ms[i])
	}
	if idx >= 0 {
		out = append(out, cur.point())
	}
	return out, step, nil
}

// windowPoints converts archive windows into points. A window whose every
// measurement failed or lost every echo is marked failed.
func windowPoints(ws []archive.WindowStats) []seriesPoint {
	out := make([]seriesPoint, 0, len(ws))
	for _, w := range ws {
		p := gapPoint(w.Start.Unix())
		if w.Sent > 0 {
			p.loss = w.Loss
		}
		if w.Received > 0 {
			p.p5, p.p25, p.p50 = stats.Millis(w.P5), stats.Millis(w.P25), stats.Millis(w.Median)
			p.p75, p.p95 = stats.Millis(w.P75), stats.Millis(w.P95)
			p.jitter = stats.Millis(w.Jitter)
		} else if w.Measurements > 0 {
			p.fail = w.Measurements
		}
		out = append(out, p)
	}
	return out
}

// withGaps inserts a gap point wherever two consecutive points are further
// apart than expected: for windows, a missing window; for measurements,
// more than three times their median spacing and more than one and a half
// buckets (a pause of the monitor, an unreachable archive).
func withGaps(pts []seriesPoint, step time.Duration, windowed bool) []seriesPoint {
	if len(pts) < 2 {
		return pts
	}
	limit := int64(3 * step / time.Second / 2)
	if !windowed {
		d := make([]int64, len(pts)-1)
		for i := 1; i < len(pts); i++ {
			d[i-1] = pts[i].t - pts[i-1].t
		}
		slices.Sort(d)
		limit = max(3*d[len(d)/2], limit)
	}
	out := make([]seriesPoint, 0, len(pts)+8)
	for i, p := range pts {
		if i > 0 && p.t-pts[i-1].t > limit {
			out = append(out, gapPoint(pts[i-1].t+(p.t-pts[i-1].t)/2))
		}
		out = append(out, p)
	}
	return out
}

// seriesResolution picks the source for a range: raw measurements for up to
// a week, hourly windows up to a quarter, daily windows beyond, so a year
// is about as many points (and as fast) as an hour.
func seriesResolution(span time.Duration) (string, time.Duration) {
	switch {
	case span <= dashRawSpan:
		return "raw", 0
	case span <= dashHourlySpan:
		return "hour", time.Hour
	default:
		return "day", 24 * time.Hour
	}
}

// dashSeries returns one host's series.
//
//	@Summary		Dashboard: one host's RTT, loss and jitter over a range
//	@Description	Column-oriented series for uPlot, aggregated on the server to about one point per pixel (width): raw measurements (bucketed when denser than width) for ranges up to 7 days, hourly windows up to 92 days, daily windows beyond. t is Unix seconds; p5…p95 (nearest-rank percentiles over every RTT of the point) and jitter in ms; loss in percent; fail counts measurements that failed or lost every echo (for a window: all of its measurements, when none got a reply). null marks a gap (no data). Without an archive the arrays are empty.
//	@Tags			dashboard
//	@Produce		json
//	@Param			name	path		string	true	"host name as archived"
//	@Param			from	query		int		false	"start, Unix seconds (default: to - 24 h)"
//	@Param			to		query		int		false	"end, Unix seconds (default: now)"
//	@Param			width	query		int		false	"points wanted, about the chart's width in pixels"	minimum(10)	maximum(8000)	default(1000)
//	@Success		200		{object}	dashSeriesDoc
//	@Failure		400		{object}	errorBody	"invalid_parameter"
//	@Failure		401		{object}	errorBody	"missing_token, invalid_token (when archive reads need a token)"
//	@Failure		403		{object}	errorBody	"insufficient_scope"
//	@Failure		503		{object}	errorBody	"keys_unavailable"
//	@Security		BearerAuth
//	@Router			/dashboard/api/host/{name}/series [get]
func (s *Server) dashSeries(c *gin.Context) {
	now := s.deps.Now()
	from, to, width, err := seriesParams(c, now)
	if err != nil {
		s.fail(c, err)
		return
	}
	name := c.Param("name")
	res, win := seriesResolution(to.Sub(from))
	var pts []seriesPoint
	step := win
	if a := s.deps.DashboardArchive; a != nil {
		if win == 0 {
			pts, step, err = bucketSamples(c.Request.Context(), a, name, from, to, width)
			s.dash.windows.warm(s.dash.ctx, a, name, now)
		} else {
			var ws []archive.WindowStats
			ws, err = s.dash.windows.windows(c.Request.Context(), a, name, win, from, to, now)
			pts = windowPoints(ws)
		}
		if err != nil {
			s.fail(c, err)
			return
		}
	}
	pts = withGaps(pts, step, win != 0)
	dashJSON(c, appendSeries(nil, name, from, to, res, step, pts))
}

// dashSeriesDoc documents the series document (written by appendSeries).
type dashSeriesDoc struct {
	Target     string     `json:"target" example:"192.0.2.1"`
	From       int64      `json:"from" example:"1764400000"`
	To         int64      `json:"to" example:"1764486400"`
	Resolution string     `json:"resolution" enums:"raw,hour,day"`
	Step       int64      `json:"step" example:"86"` // seconds per point (a bucket or a window)
	T          []int64    `json:"t"`
	P5         []*float64 `json:"p5"`
	P25        []*float64 `json:"p25"`
	P50        []*float64 `json:"p50"`
	P75        []*float64 `json:"p75"`
	P95        []*float64 `json:"p95"`
	Loss       []*float64 `json:"loss"`
	Jitter     []*float64 `json:"jitter"`
	Fail       []int      `json:"fail"`
}

// seriesParams parses from, to and width.
func seriesParams(c *gin.Context, now time.Time) (from, to time.Time, width int, err error) {
	to, from = now, now.Add(-24*time.Hour)
	width = dashDefaultWidth
	if v := c.Query("to"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n <= 0 || n > now.Unix()+86400*366 {
			return from, to, 0, badParam("to", "Unix seconds")
		}
		to = time.Unix(n, 0)
		from = to.Add(-24 * time.Hour)
	}
	if v := c.Query("from"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 {
			return from, to, 0, badParam("from", "Unix seconds")
		}
		from = time.Unix(n, 0)
	}
	if !from.Before(to) || to.Sub(from) > dashMaxSpan {
		return from, to, 0, badParam("from", "Unix seconds before to, at most 5 years earlier")
	}
	if v := c.Query("width"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 10 || n > dashMaxWidth {
			return from, to, 0, badParam("width", "an integer from 10 to 8000")
		}
		width = n
	}
	return from, to, width, nil
}

func badParam(name, want string) *Error {
	return newError(http.StatusBadRequest, CodeInvalidParameter, name+": want "+want, nil)
}

// appendSeries writes the series document by hand: it is the largest
// answer of the page and the hottest path of a zoom.
func appendSeries(b []byte, name string, from, to time.Time, res string, step time.Duration, pts []seriesPoint) []byte {
	b = append(b, `{"target":`...)
	b = appendJSONString(b, name)
	b = append(b, `,"from":`...)
	b = strconv.AppendInt(b, from.Unix(), 10)
	b = append(b, `,"to":`...)
	b = strconv.AppendInt(b, to.Unix(), 10)
	b = append(b, `,"resolution":"`...)
	b = append(b, res...)
	b = append(b, `","step":`...)
	b = strconv.AppendInt(b, int64(step/time.Second), 10)
	b = append(b, `,"t":[`...)
	for i, p := range pts {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, p.t, 10)
	}
	col := func(key string, f func(*seriesPoint) float64) {
		b = append(b, `],"`...)
		b = append(b, key...)
		b = append(b, `":[`...)
		for i := range pts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendNum(b, f(&pts[i]))
		}
	}
	col("p5", func(p *seriesPoint) float64 { return p.p5 })
	col("p25", func(p *seriesPoint) float64 { return p.p25 })
	col("p50", func(p *seriesPoint) float64 { return p.p50 })
	col("p75", func(p *seriesPoint) float64 { return p.p75 })
	col("p95", func(p *seriesPoint) float64 { return p.p95 })
	col("loss", func(p *seriesPoint) float64 { return p.loss })
	col("jitter", func(p *seriesPoint) float64 { return p.jitter })
	col("fail", func(p *seriesPoint) float64 { return float64(p.fail) })
	return append(b, "]}"...)
}

// appendNum writes v rounded to the microsecond (3 decimals), or null for
// NaN and infinities.
func appendNum(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, math.Round(v*1000)/1000, 'f', -1, 64)
}
