package archive

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
)

// Point is one data point as the esmond API returns it: TS in unix seconds
// (for a summary, the start of its epoch-aligned window) and Val already in
// esmond's JSON form.
type Point struct {
	TS  int64           `json:"ts"`
	Val json.RawMessage `json:"val"`
}

// tsValue is a parsed point before summarising.
type tsValue struct {
	ts int64
	v  Value
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// windowStart is the start of the epoch-aligned window of length w that
// holds ts (w > 0).
func windowStart(ts, w int64) int64 {
	r := ts % w
	if r < 0 {
		r += w
	}
	return ts - r
}

// summarize computes a summary of points (sorted by ts) of value type t.
// window 0 transforms each point; otherwise points are grouped in
// epoch-aligned windows, the result's ts is the window start.
func summarize(t ValueType, summaryType string, window int64, pts []tsValue) []Point {
	if window <= 0 {
		out := make([]Point, 0, len(pts))
		for _, p := range pts {
			if v, ok := summaryOf(t, summaryType, []Value{p.v}); ok {
				out = append(out, Point{TS: p.ts, Val: v})
			}
		}
		return out
	}
	var out []Point
	for i := 0; i < len(pts); {
		start := windowStart(pts[i].ts, window)
		j := i
		vals := make([]Value, 0, 8)
		for j < len(pts) && windowStart(pts[j].ts, window) == start {
			vals = append(vals, pts[j].v)
			j++
		}
		if v, ok := summaryOf(t, summaryType, vals); ok {
			out = append(out, Point{TS: start, Val: v})
		}
		i = j
	}
	return out
}

// summaryOf is the value of one summary over vals (esmond's semantics):
// aggregation sums numbers, sums numerators and denominators of
// percentages, and unions histograms adding every count; average is the
// arithmetic mean; statistics are esmond's histogram statistics of the
// union.
// decimal15 rounds f to 15 significant decimal digits, all a float64
// holds reliably, so that a sum or mean of float (decimal) inputs reads as
// the decimal it is (0.002, not 0.0020000000000000005), as esmond's
// fixed-point floats read and its test suite expects. Integer averages are
// plain divisions, as esmond's (70/3 = 23.333333333333332).
func decimal15(f float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	if err != nil {
		return f
	}
	return r
}

func summaryOf(t ValueType, summaryType string, vals []Value) (json.RawMessage, bool) {
	if len(vals) == 0 {
		return nil, false
	}
	switch summaryType {
	case SummaryAggregation:
		switch t {
		case TypeInteger:
			var s int64
			for _, v := range vals {
				s += v.Int
			}
			return appendFloat(nil, float64(s)), true
		case TypeFloat:
			var s float64
			for _, v := range vals {
				s += v.Float
			}
			return appendFloat(nil, decimal15(s)), true
		case TypePercentage:
			var n, d int64
			for _, v := range vals {
				n += v.Num
				d += v.Den
			}
			return appendFloat(nil, float64(n)/float64(d)), true
		case TypeHistogram:
			b, _ := json.Marshal(unionHist(vals))
			return b, true
		}
	case SummaryAverage:
		var s float64
		for _, v := range vals {
			if t == TypeInteger {
				s += float64(v.Int)
			} else {
				s += v.Float
			}
		}
		avg := s / float64(len(vals))
		if t == TypeFloat {
			avg = decimal15(avg)
		}
		return appendFloat(nil, avg), true
	case SummaryStatistics:
		if t == TypeHistogram {
			return HistogramStatistics(unionHist(vals)), true
		}
	}
	return nil, false
}

// unionHist adds every count of every histogram (no lost updates: the
// union is computed from all the base points of the window at once).
func unionHist(vals []Value) map[string]int64 {
	if len(vals) == 1 {
		return vals[0].Hist
	}
	u := make(map[string]int64)
	for _, v := range vals {
		for k, c := range v.Hist {
			u[k] += c
		}
	}
	return u
}

// bucket is one bucket of a histogram with a numeric name.
type bucket struct {
	key   string // the name as given
	x     float64
	count int64
}

// HistogramStatistics returns esmond's statistics summary of a histogram
// as JSON: minimum and maximum, mode (the list of the most frequent
// buckets), all as numbers as esmond writes them (its HistogramValidator
// converts the bucket names with float()), mean, median, percentile-25/75/95 (NIST
// interpolated percentiles over the expanded sample, esmond's Percentile
// class), variance (population) and standard-deviation. A histogram with a
// non-numeric bucket or no counts gives {} as esmond does.
func HistogramStatistics(h map[string]int64) json.RawMessage {
	bs := make([]bucket, 0, len(h))
	for k, c := range h {
		x, err := strconv.ParseFloat(k, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return json.RawMessage("{}")
		}
		if c > 0 {
			bs = append(bs, bucket{key: k, x: x, count: c})
		}
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.x, b.x) })
	return histStats(bs)
}

// histStats is HistogramStatistics of buckets sorted by value.
func histStats(bs []bucket) json.RawMessage {
	cum := make([]int64, len(bs)) // cum[i]: values in bs[0..i]
	var n int64
	var sum float64
	var modeCount int64
	for i, b := range bs {
		n += b.count
		cum[i] = n
		sum += b.x * float64(b.count)
		modeCount = max(modeCount, b.count)
	}
	if n == 0 {
		return json.RawMessage("{}")
	}
	mean := sum / float64(n)
	var ss float64
	for _, b := range bs {
		d := b.x - mean
		ss += d * d * float64(b.count)
	}
	variance := ss / float64(n)
	buf := make([]byte, 0, 320)
	buf = append(buf, `{"maximum":`...)
	buf = appendFloat(buf, bs[len(bs)-1].x)
	buf = append(buf, `,"mean":`...)
	buf = appendFloat(buf, mean)
	buf = append(buf, `,"median":`...)
	buf = appendFloat(buf, nistPercentile(bs, cum, 50))
	buf = append(buf, `,"minimum":`...)
	buf = appendFloat(buf, bs[0].x)
	buf = append(buf, `,"mode":[`...)
	first := true
	for _, b := range bs {
		if b.count == modeCount {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = appendFloat(buf, b.x)
		}
	}
	buf = append(buf, ']')
	for _, p := range []int{25, 75, 95} {
		buf = append(buf, `,"percentile-`...)
		buf = strconv.AppendInt(buf, int64(p), 10)
		buf = append(buf, `":`...)
		buf = appendFloat(buf, nistPercentile(bs, cum, float64(p)))
	}
	buf = append(buf, `,"standard-deviation":`...)
	buf = appendFloat(buf, math.Sqrt(variance))
	buf = append(buf, `,"variance":`...)
	buf = appendFloat(buf, variance)
	buf = append(buf, '}')
	return buf
}

// appendCenti appends k/100 with two decimals ("41.02"), k ≥ 0.
func appendCenti(buf []byte, k int64) []byte {
	buf = strconv.AppendInt(buf, k/100, 10)
	r := k % 100
	return append(buf, '.', byte('0'+r/10), byte('0'+r%10))
}

// nistPercentile is the p-th percentile of the sample the sorted buckets
// expand to (cum: running counts, n = cum[last] values), by the NIST
// e-Handbook method esmond uses
// (https://www.itl.nist.gov/div898/handbook/prc/section2/prc262.htm):
// r = p/100·(n+1), k = ⌊r⌋, d = r − k; Y(k) + d·(Y(k+1) − Y(k)), with Y(1)
// for k = 0 and Y(n) for k ≥ n (Y 1-based order statistics).
func nistPercentile(bs []bucket, cum []int64, p float64) float64 {
	n := cum[len(cum)-1]
	r := p / 100 * float64(n+1)
	k := int64(math.Floor(r))
	d := r - float64(k)
	if k <= 0 {
		return bs[0].x
	}
	if k >= n {
		return bs[len(bs)-1].x
	}
	yk, yk1 := orderStat(bs, cum, k), orderStat(bs, cum, k+1)
	return yk + d*(yk1-yk)
}

// orderStat is Y(i), the i-th smallest value (1-based) of the expanded
// sample: the first bucket whose running count reaches i.
func orderStat(bs []bucket, cum []int64, i int64) float64 {
	j, _ := slices.BinarySearch(cum, i)
	return bs[min(j, len(bs)-1)].x
}

// RTTBucket returns the histogram-rtt bucket name of an RTT: milliseconds
// with two decimals, as perfSONAR writes them ("41.02"): the RTT rounded
// to 10 µs.
func RTTBucket(d time.Duration) string {
	us := int64((d + 5*time.Microsecond) / (10 * time.Microsecond))
	return strconv.FormatFloat(float64(us)/100, 'f', 2, 64)
}

// derivedPoint returns the value of a pScheduler ping event type derived
// from one measurement; ok is false when the measurement has no point of
// that event type (no failure, no reply).
func derivedPoint(eventType string, m *Measurement) (Value, bool) {
	recv := int64(m.Received())
	if m.Error != "" {
		if eventType == "failures" {
			b, _ := json.Marshal(map[string]string{"error": m.Error})
			return Value{Type: TypeJSON, JSON: b}, true
		}
		if m.Sent == 0 {
			return Value{}, false
		}
	}
	switch eventType {
	case "histogram-rtt":
		if recv == 0 {
			return Value{}, false
		}
		h := make(map[string]int64, 4)
		for _, r := range m.RTTs {
			if r >= 0 {
				h[RTTBucket(r)]++
			}
		}
		return Value{Type: TypeHistogram, Hist: h}, true
	case "histogram-ttl-reverse":
		if len(m.TTLs) == 0 {
			return Value{}, false
		}
		h := make(map[string]int64, 1)
		for _, t := range m.TTLs {
			h[strconv.Itoa(int(t))]++
		}
		return Value{Type: TypeHistogram, Hist: h}, true
	case "packet-count-sent":
		return Value{Type: TypeInteger, Int: int64(m.Sent)}, true
	case "packet-count-lost-bidir":
		return Value{Type: TypeInteger, Int: max(int64(m.Sent)-recv, 0)}, true
	case "packet-loss-rate-bidir":
		if m.Sent <= 0 {
			return Value{}, false
		}
		return Value{Type: TypePercentage, Num: max(int64(m.Sent)-recv, 0), Den: int64(m.Sent)}, true
	case "packet-duplicates-bidir":
		return Value{Type: TypeInteger, Int: int64(m.Duplicates)}, true
	case "packet-reorders-bidir":
		return Value{Type: TypeInteger, Int: int64(m.Reorders)}, true
	}
	return Value{}, false
}
