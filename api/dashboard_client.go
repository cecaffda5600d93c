package api

import (
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/tcpecho"
)

// A TCP echo client's history is esmond data, not a monitor series: one
// metadata record per (server agent, client) with tool-name
// pingapi/tcp-echo and input-destination the client's archive name
// (tcpecho.Client.ArchiveClient), and one point per archive window of each
// event type (pkg/tcpecho ArchiveSink). The dashboard reads it through
// SearchMetadata and Data (DashboardArchive) and aggregates it here.

// dashMaxClientPoints bounds the points read per event type and metadata
// record for one answer: a year of one-minute windows.
const dashMaxClientPoints = 600000

// echoBucket accumulates the archive windows of one drawn point.
type echoBucket struct {
	t            int64
	rtt, kernel  map[float64]int64 // RTT (ms) → echoes
	sent, lost   int64
	windows      int
	hasSent      bool
	windowsNoRTT int
}

// histNearestRank returns the nearest-rank percentiles ps of a histogram
// (value → count), as stats.NearestRank does over the expanded sample.
func histNearestRank(h map[float64]int64, ps ...float64) []float64 {
	out := make([]float64, len(ps))
	var n int64
	keys := make([]float64, 0, len(h))
	for k, c := range h {
		if c > 0 {
			keys = append(keys, k)
			n += c
		}
	}
	if n == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	slices.Sort(keys)
	for i, p := range ps {
		rank := min(max(int64(math.Ceil(p*float64(n)/100-1e-9)), 1), n)
		var cum int64
		for _, k := range keys {
			cum += h[k]
			if cum >= rank {
				out[i] = k
				break
			}
		}
	}
	return out
}

// point summarises b: percentiles of every echo of its windows, loss over
// every probe sent; jitter is null (a window's histogram does not keep the
// order of the echoes); fail counts windows that sent probes and got no
// echo back.
func (b *echoBucket) point() (seriesPoint, float64) {
	p := gapPoint(b.t)
	if b.sent > 0 {
		p.loss = 100 * float64(b.lost) / float64(b.sent)
	}
	q := histNearestRank(b.rtt, 5, 25, 50, 75, 95)
	p.p5, p.p25, p.p50, p.p75, p.p95 = q[0], q[1], q[2], q[3], q[4]
	p.fail = b.windowsNoRTT
	return p, histNearestRank(b.kernel, 50)[0]
}

// clientSeries reads the archived windows of TCP echo client name in
// [from, to) and aggregates them into about width points.
func clientSeries(ctx context.Context, a DashboardArchive, name string, from, to time.Time, width int) ([]seriesPoint, []float64, time.Duration, error) {
	step := max(to.Sub(from)/time.Duration(width), time.Second)
	mds, _, err := a.SearchMetadata(ctx, archive.Filter{ToolName: tcpecho.ArchiveTool, InputDestination: name, Limit: -1})
	if err != nil {
		return nil, nil, step, err
	}
	buckets := map[int64]*echoBucket{}
	get := func(ts int64) *echoBucket {
		k := int64(time.Unix(ts, 0).Sub(from) / step)
		b := buckets[k]
		if b == nil {
			b = &echoBucket{t: from.Add(time.Duration(k) * step).Unix(), rtt: map[float64]int64{}, kernel: map[float64]int64{}}
			buckets[k] = b
		}
		return b
	}
	rng := archive.TimeRange{Start: from.Unix(), End: to.Unix() - 1}
	for _, md := range mds {
		for _, et := range []string{"packet-count-sent", "packet-count-lost-bidir", "histogram-rtt", tcpecho.KernelRTTEventType} {
			if _, ok := md.EventType(et); !ok {
				continue
			}
			pts, err := a.Data(ctx, archive.DataQuery{Key: md.Key, EventType: et, Range: rng, Limit: dashMaxClientPoints})
			if err != nil {
				return nil, nil, step, err
			}
			for _, pt := range pts {
				v, err := archive.ParseValue(et, pt.Val)
				if err != nil {
					continue // not written by the echo service; skip it
				}
				b := get(pt.TS)
				switch et {
				case "packet-count-sent":
					b.sent += v.Int
					b.windows++
					if v.Int > 0 {
						b.hasSent = true
					}
				case "packet-count-lost-bidir":
					b.lost += v.Int
				default:
					h := b.rtt
					if et != "histogram-rtt" {
						h = b.kernel
					}
					for k, c := range v.Hist {
						if ms, err := strconv.ParseFloat(k, 64); err == nil {
							h[ms] += c
						}
					}
				}
			}
		}
	}
	keys := slices.Sorted(func(yield func(int64) bool) {
		for k := range buckets {
			if !yield(k) {
				return
			}
		}
	})
	pts := make([]seriesPoint, 0, len(keys))
	kernel := make([]float64, 0, len(keys))
	for _, k := range keys {
		b := buckets[k]
		if b.hasSent && len(b.rtt) == 0 {
			b.windowsNoRTT = b.windows
		}
		p, kr := b.point()
		pts = append(pts, p)
		kernel = append(kernel, kr)
	}
	return pts, kernel, step, nil
}

// dashClientSeries returns one TCP echo client's series.
//
//	@Summary		Dashboard: one TCP echo client's RTT and loss over a range
//	@Description	The series document of /dashboard/api/host/{name}/series for a TCP echo client, read from its archived windows (tool-name pingapi/tcp-echo, input-destination name; every measurement agent's records together) and aggregated on the server to about one point per pixel (width): p5…p95 are nearest-rank percentiles over every echo of the point's windows (histogram-rtt, ms), loss is lost over sent probes (percent), kernel the median of the kernel's RTT estimate (histogram-rtt-kernel, ms), fail counts windows whose every probe was lost. jitter is always null: a window's histogram does not keep the echoes' order. resolution is "window"; step is the seconds per point.
//	@Tags			dashboard
//	@Produce		json
//	@Param			name	path		string	true	"the client's archive name: its announced name, or the address of a plain client"
//	@Param			from	query		int		false	"start, Unix seconds (default: to - 24 h)"
//	@Param			to		query		int		false	"end, Unix seconds (default: now)"
//	@Param			width	query		int		false	"points wanted, about the chart's width in pixels"	minimum(10)	maximum(8000)	default(1000)
//	@Success		200		{object}	dashClientSeriesDoc
//	@Failure		400		{object}	errorBody	"invalid_parameter"
//	@Failure		401		{object}	errorBody	"missing_token, invalid_token (when archive reads need a token)"
//	@Failure		403		{object}	errorBody	"insufficient_scope"
//	@Failure		503		{object}	errorBody	"keys_unavailable"
//	@Security		BearerAuth
//	@Router			/dashboard/api/client/{name}/series [get]
func (s *Server) dashClientSeries(c *gin.Context) {
	from, to, width, err := seriesParams(c, s.deps.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	name := c.Param("name")
	var pts []seriesPoint
	var kernel []float64
	step := max(to.Sub(from)/time.Duration(width), time.Second)
	if a := s.deps.DashboardArchive; a != nil {
		pts, kernel, step, err = clientSeries(c.Request.Context(), a, name, from, to, width)
		if err != nil {
			s.fail(c, err)
			return
		}
	}
	// Gaps where windows are missing: the archive window is the median
	// spacing of the points (withGaps on measurements).
	kt := make(map[int64]float64, len(pts))
	for i, p := range pts {
		kt[p.t] = kernel[i]
	}
	pts = withGaps(pts, step, false)
	b := appendSeries(nil, name, from, to, "window", step, pts)
	b = append(b[:len(b)-1], `,"kernel":[`...)
	for i, p := range pts {
		if i > 0 {
			b = append(b, ',')
		}
		k, ok := kt[p.t]
		if !ok {
			k = math.NaN()
		}
		b = appendNum(b, k)
	}
	dashJSON(c, append(b, "]}"...))
}

// dashClientSeriesDoc documents the client series document: the host
// series document plus the kernel's RTT.
type dashClientSeriesDoc struct {
	dashSeriesDoc
	Resolution string     `json:"resolution" enums:"window"`
	Kernel     []*float64 `json:"kernel"` // median of the kernel's RTT estimate (ms)
}
