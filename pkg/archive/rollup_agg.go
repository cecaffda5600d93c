package archive

// The hourly aggregate of a pingapi series (see rollup.go for when it is
// materialised): its counting, merging, encoding and the esmond values
// written straight from its sorted histograms.

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/pingapi/pingapi/pkg/stats"
)

// kc is one histogram bucket: key, count.
type kc struct{ k, c int64 }

// hourAgg is the aggregate of a series' measurements in one hour (or, once
// merged, of a longer window). Histograms are sorted by key.
type hourAgg struct {
	n, sent, recv, dups, reorders int64
	rttSumUs                      int64 // Σ RTT in µs, for the mean
	jitSumUs, jitN                int64 // Σ per-measurement jitter (µs) over those with ≥ 2 replies
	rtt                           []kc  // RTT bucket (10 µs units, RTTBucket) → replies
	ttl                           []kc  // reply TTL → replies

	rttM, ttlM map[int64]int64 // while adding measurements; finish sorts them into rtt, ttl
}

func newHourAgg() *hourAgg { return &hourAgg{} }

// add counts one measurement; call finish after the last.
func (a *hourAgg) add(m *Measurement) {
	if a.rttM == nil {
		a.rttM, a.ttlM = map[int64]int64{}, map[int64]int64{}
	}
	a.n++
	a.sent += int64(m.Sent)
	a.dups += int64(m.Duplicates)
	a.reorders += int64(m.Reorders)
	rep := m.Replies()
	a.recv += int64(len(rep))
	for _, r := range rep {
		us := int64(r / time.Microsecond)
		a.rttSumUs += us
		a.rttM[(us+5)/10]++
	}
	for _, t := range m.TTLs {
		a.ttlM[int64(t)]++
	}
	if len(rep) >= 2 {
		a.jitSumUs += int64(stats.Summarize(m.Sent, rep, m.Duplicates).Jitter / time.Microsecond)
		a.jitN++
	}
}

// finish moves what add counted into the sorted histograms.
func (a *hourAgg) finish() {
	if a.rttM == nil {
		return
	}
	a.rtt = mergeKC(a.rtt, sortedKC(a.rttM))
	a.ttl = mergeKC(a.ttl, sortedKC(a.ttlM))
	a.rttM, a.ttlM = nil, nil
}

func sortedKC(m map[int64]int64) []kc {
	out := make([]kc, 0, len(m))
	for k, c := range m {
		out = append(out, kc{k, c})
	}
	slices.SortFunc(out, func(x, y kc) int { return cmp.Compare(x.k, y.k) })
	return out
}

// mergeKC adds two sorted histograms (a union adds every count).
func mergeKC(a, b []kc) []kc {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]kc, 0, max(len(a), len(b)))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].k < b[j].k:
			out = append(out, a[i])
			i++
		case a[i].k > b[j].k:
			out = append(out, b[j])
			j++
		default:
			out = append(out, kc{a[i].k, a[i].c + b[j].c})
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// merge adds o (finished) into a (finished).
func (a *hourAgg) merge(o *hourAgg) {
	a.n += o.n
	a.sent += o.sent
	a.recv += o.recv
	a.dups += o.dups
	a.reorders += o.reorders
	a.rttSumUs += o.rttSumUs
	a.jitSumUs += o.jitSumUs
	a.jitN += o.jitN
	a.rtt = mergeKC(a.rtt, o.rtt)
	a.ttl = mergeKC(a.ttl, o.ttl)
}

func (a *hourAgg) encode() []byte {
	a.finish()
	b := make([]byte, 0, 16+4*len(a.rtt))
	b = append(b, 1)
	for _, v := range []int64{a.n, a.sent, a.recv, a.dups, a.reorders, a.rttSumUs, a.jitSumUs, a.jitN} {
		b = binary.AppendUvarint(b, uint64(max(v, 0)))
	}
	for _, h := range [][]kc{a.rtt, a.ttl} {
		b = binary.AppendUvarint(b, uint64(len(h)))
		var prev int64
		for _, e := range h {
			b = binary.AppendUvarint(b, uint64(e.k-prev))
			b = binary.AppendUvarint(b, uint64(e.c))
			prev = e.k
		}
	}
	return b
}

var errBadRollup = errors.New("archive: corrupt rollup")

func decodeHourAgg(b []byte) (*hourAgg, error) {
	if len(b) == 0 || b[0] != 1 {
		return nil, errBadRollup
	}
	b = b[1:]
	next := func() (int64, bool) {
		v, k := binary.Uvarint(b)
		if k <= 0 || v > 1<<62 {
			return 0, false
		}
		b = b[k:]
		return int64(v), true
	}
	a := newHourAgg()
	for _, p := range []*int64{&a.n, &a.sent, &a.recv, &a.dups, &a.reorders, &a.rttSumUs, &a.jitSumUs, &a.jitN} {
		v, ok := next()
		if !ok {
			return nil, errBadRollup
		}
		*p = v
	}
	for _, h := range []*[]kc{&a.rtt, &a.ttl} {
		n, ok := next()
		if !ok || n > int64(len(b)) {
			return nil, errBadRollup
		}
		out := make([]kc, n)
		var k int64
		for i := range out {
			d, ok1 := next()
			c, ok2 := next()
			if !ok1 || !ok2 || (i > 0 && d == 0) {
				return nil, errBadRollup
			}
			k += d
			out[i] = kc{k, c}
		}
		*h = out
	}
	return a, nil
}

// rttHistJSON is the histogram-rtt value of a as JSON, written directly
// from the sorted buckets.
func (a *hourAgg) rttHistJSON() []byte {
	b := make([]byte, 0, 2+16*len(a.rtt))
	b = append(b, '{')
	for i, e := range a.rtt {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = appendCenti(b, e.k)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, e.c, 10)
	}
	return append(b, '}')
}

// rttKey is the bucket name of an RTT bucket in 10 µs units ("41.02").
func rttKey(k int64) string { return string(appendCenti(nil, k)) }

// rttStatistics is HistogramStatistics of a's RTT histogram, computed on
// the sorted buckets in place (no map of names, no copy): the same
// figures, esmond's definitions.
func (a *hourAgg) rttStatistics() []byte {
	h := a.rtt
	var n, modeCount int64
	var sum float64
	for _, e := range h {
		n += e.c
		sum += float64(e.k) / 100 * float64(e.c)
		modeCount = max(modeCount, e.c)
	}
	if n == 0 {
		return []byte("{}")
	}
	mean := sum / float64(n)
	var ss float64
	for _, e := range h {
		d := float64(e.k)/100 - mean
		ss += d * d * float64(e.c)
	}
	variance := ss / float64(n)
	// The order statistics the NIST percentiles need, found in one scan.
	ps := [4]float64{50, 25, 75, 95}
	var ranks [8]int64
	var ds [4]float64
	for i, p := range ps {
		r := p / 100 * float64(n+1)
		k := int64(math.Floor(r))
		ds[i] = r - float64(k)
		ranks[2*i], ranks[2*i+1] = min(max(k, 1), n), min(max(k+1, 1), n)
		if k <= 0 {
			ds[i] = 0
		}
		if k >= n {
			ranks[2*i], ds[i] = n, 0
		}
	}
	var ys [8]float64
	order := [8]int{0, 1, 2, 3, 4, 5, 6, 7}
	slices.SortFunc(order[:], func(x, y int) int { return cmp.Compare(ranks[x], ranks[y]) })
	var seen int64
	j := 0
	for _, e := range h {
		seen += e.c
		for j < 8 && ranks[order[j]] <= seen {
			ys[order[j]] = float64(e.k) / 100
			j++
		}
	}
	pct := func(i int) float64 { return ys[2*i] + ds[i]*(ys[2*i+1]-ys[2*i]) }
	buf := make([]byte, 0, 256)
	x := func(k int64) float64 { return float64(k) / 100 }
	buf = append(buf, `{"maximum":`...)
	buf = appendFloat(buf, x(h[len(h)-1].k))
	buf = append(buf, `,"mean":`...)
	buf = appendFloat(buf, mean)
	buf = append(buf, `,"median":`...)
	buf = appendFloat(buf, pct(0))
	buf = append(buf, `,"minimum":`...)
	buf = appendFloat(buf, x(h[0].k))
	buf = append(buf, `,"mode":[`...)
	first := true
	for _, e := range h {
		if e.c == modeCount {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = appendFloat(buf, x(e.k))
		}
	}
	buf = append(buf, `],"percentile-25":`...)
	buf = appendFloat(buf, pct(1))
	buf = append(buf, `,"percentile-75":`...)
	buf = appendFloat(buf, pct(2))
	buf = append(buf, `,"percentile-95":`...)
	buf = appendFloat(buf, pct(3))
	buf = append(buf, `,"standard-deviation":`...)
	buf = appendFloat(buf, math.Sqrt(variance))
	buf = append(buf, `,"variance":`...)
	buf = appendFloat(buf, variance)
	return append(buf, '}')
}
