package stats

import (
	"math"
	"time"
)

// Histogram bucket layout. The bounds are fixed for every Histogram, so any
// two histograms merge by adding counts, whenever and wherever they were
// recorded.
//
// Bucket i, 0 ≤ i < NumBuckets−1, counts RTTs d with
// Upper(i−1) < d ≤ Upper(i), where Upper(−1) = 0 and
// Upper(i) = round(2^(i/BucketsPerOctave) µs) in nanoseconds: four buckets
// per doubling, so each bucket is at most 19 % (2^¼ − 1) wider than its lower
// bound. Upper(0) = 1 µs, Upper(40) = 1.024 ms, Upper(80) ≈ 1.049 s,
// Upper(104) = 2^26 µs ≈ 67.1 s. The last bucket, NumBuckets−1, counts
// everything above Upper(NumBuckets−2) (overflow); zero and negative RTTs
// fall in bucket 0.
const (
	BucketsPerOctave = 4
	NumBuckets       = 106
)

// Upper returns the inclusive upper bound of bucket i; for the overflow
// bucket (and beyond) it returns the largest time.Duration, for i < 0 zero.
func Upper(i int) time.Duration {
	switch {
	case i < 0:
		return 0
	case i >= NumBuckets-1:
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(math.Round(1000 * math.Exp2(float64(i)/BucketsPerOctave)))
}

// BucketOf returns the index of the bucket d falls in.
func BucketOf(d time.Duration) int {
	if d <= Upper(0) {
		return 0
	}
	if d > Upper(NumBuckets-2) {
		return NumBuckets - 1
	}
	// A first guess from the logarithm, corrected against Upper so the
	// result agrees exactly with the documented bounds despite rounding.
	i := int(math.Ceil(BucketsPerOctave * math.Log2(float64(d)/1000)))
	i = min(max(i, 0), NumBuckets-2)
	for i < NumBuckets-2 && d > Upper(i) {
		i++
	}
	for i > 0 && d <= Upper(i-1) {
		i--
	}
	return i
}

// Histogram counts RTTs in the fixed log-scale buckets above. The zero value
// is an empty histogram; it is a plain value (an array), so copying it
// copies the counts. Not safe for concurrent mutation.
type Histogram struct {
	Counts [NumBuckets]uint64
}

// Add counts one RTT.
func (h *Histogram) Add(d time.Duration) { h.Counts[BucketOf(d)]++ }

// Merge adds every count of o into h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
}

// Total is the number of RTTs counted.
func (h *Histogram) Total() uint64 {
	var t uint64
	for _, c := range h.Counts {
		t += c
	}
	return t
}

// Bucket is one non-empty histogram bucket: Count RTTs in (Lower, Upper].
type Bucket struct {
	Lower, Upper time.Duration
	Count        uint64
}

// Buckets returns the non-empty buckets in ascending order.
func (h *Histogram) Buckets() []Bucket {
	var out []Bucket
	for i, c := range h.Counts {
		if c > 0 {
			out = append(out, Bucket{Lower: Upper(i - 1), Upper: Upper(i), Count: c})
		}
	}
	return out
}

// Quantile returns an upper estimate of the p-th percentile (0 < p ≤ 100) by
// nearest rank over the buckets: the upper bound of the bucket that holds
// rank ⌈p/100 × total⌉, so the true nearest-rank value is at most that and
// more than the bucket's lower bound. For the overflow bucket it returns
// Upper(NumBuckets−2). 0 when the histogram is empty.
func (h *Histogram) Quantile(p float64) time.Duration {
	total := h.Total()
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p*float64(total)/100 - 1e-9))
	rank = min(max(rank, 1), total)
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			return Upper(min(i, NumBuckets-2))
		}
	}
	return Upper(NumBuckets - 2)
}
