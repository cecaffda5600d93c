// Package stats summarises round-trip time samples: min, mean, max,
// population standard deviation, jitter, loss, duplicates, percentiles and
// histograms. Standard library only; it imports nothing of the project.
//
// Every function and type here is a pure computation over its arguments or
// its receiver; none holds shared state. Values of Running and Histogram are
// not safe for concurrent mutation: guard them with the owner's lock.
package stats

import (
	"math"
	"slices"
	"time"
)

// Summary describes one measurement. Durations are exact; callers convert to
// milliseconds for display.
type Summary struct {
	Sent       int
	Received   int
	Duplicates int
	Loss       float64 // percent, 100*(Sent-Received)/Sent, 0 when Sent is 0
	Min        time.Duration
	Mean       time.Duration
	Max        time.Duration
	StdDev     time.Duration // population standard deviation (iputils mdev)
	Jitter     time.Duration // mean |RTT[i]-RTT[i-1]| in sequence order; 0 with < 2 replies
	P50        time.Duration // nearest-rank percentiles of the received RTTs
	P90        time.Duration
	P95        time.Duration
	P99        time.Duration
}

// Summarize computes a Summary. rtts are the RTTs of the received replies in
// sequence order (not arrival order); sent is the number of requests sent.
// duplicates is passed through: duplicate replies are never part of rtts.
//
// Formulas (n = len(rtts), x_i = rtts[i]):
//
//   - Loss = 100 × (sent − n) / sent percent, clamped to [0, 100]; 0 when
//     sent is 0 (DESIGN.md; iputils ping prints the same figure).
//   - Mean and population variance σ² = Σ(x_i − mean)² / n by Welford's
//     online algorithm (B. P. Welford, "Note on a method for calculating
//     corrected sums of squares and products", Technometrics 4(3), 1962;
//     Knuth TAOCP vol. 2 §4.2.2), which avoids the cancellation of
//     Σx² − n·mean². StdDev = σ, the population (not sample, n−1) deviation
//     that iputils ping prints as "mdev".
//   - Jitter = Σ_{i=1}^{n−1} |x_i − x_{i−1}| / (n − 1): the absolute
//     IP packet delay variation of consecutive packets (RFC 4689 §3.2.5,
//     RFC 3393), averaged; what mtr shows as "Javg". 0 when n < 2.
//   - Percentile p by nearest rank: the value of rank ⌈p/100 × n⌉ (1-based)
//     in the sorted RTTs (NIST/SEMATECH e-Handbook; Wikipedia "Percentile",
//     nearest-rank method). Always one of the observed values.
//
// All duration results are rounded to the nanosecond. rtts is not modified.
func Summarize(sent int, rtts []time.Duration, duplicates int) Summary {
	var r Running
	for _, d := range rtts {
		r.Add(d)
	}
	s := r.Summary(sent, duplicates)
	if len(rtts) == 0 {
		return s
	}
	sorted := slices.Clone(rtts)
	slices.Sort(sorted)
	s.P50 = NearestRank(sorted, 50)
	s.P90 = NearestRank(sorted, 90)
	s.P95 = NearestRank(sorted, 95)
	s.P99 = NearestRank(sorted, 99)
	return s
}

// Loss returns 100 × (sent − received) / sent in percent, clamped to
// [0, 100]: never negative even if a caller counts more replies than
// requests. It is 0 when sent ≤ 0.
func Loss(sent, received int) float64 {
	if sent <= 0 || received >= sent {
		return 0
	}
	if received <= 0 {
		return 100
	}
	return 100 * float64(sent-received) / float64(sent)
}

// NearestRank returns the p-th percentile (0 < p ≤ 100) of sorted, an
// ascending slice, by the nearest-rank method: sorted[⌈p/100 × n⌉ − 1].
// p ≤ 0 gives the minimum, p > 100 the maximum, an empty slice 0.
func NearestRank(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// p/100*n in floating point can land a hair above an integer (e.g.
	// 0.29*100); compute p*n/100 and trim that noise before the ceiling.
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	rank = max(rank, 1)
	rank = min(rank, n)
	return sorted[rank-1]
}

// Millis converts a duration to milliseconds rounded to the microsecond:
// the one conversion every document of pingapi (the measurement, the
// monitor's record, measure's text) uses.
func Millis(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}
