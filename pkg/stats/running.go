package stats

import (
	"math"
	"time"
)

// Running accumulates RTTs one at a time, in sequence order, in constant
// memory: count, min, max, mean and variance by Welford's algorithm, and the
// running sum of absolute consecutive differences for jitter. Summarize
// and report.Summarize feed it the RTTs of one measurement, so every
// summary is computed the same way. The zero value is ready to use. Not
// safe for concurrent use.
type Running struct {
	n        int
	mean     float64 // ns
	m2       float64 // Σ(x−mean)², ns²
	min, max time.Duration
	last     time.Duration
	ipdvSum  float64 // Σ|x_i − x_{i−1}|, ns
}

// Add records one received RTT. Calls must follow sequence order for Jitter
// to mean what DESIGN.md says.
//
// Welford's update (Technometrics 4(3), 1962): with δ = x − mean_{n−1},
// mean_n = mean_{n−1} + δ/n and M2_n = M2_{n−1} + δ·(x − mean_n).
func (r *Running) Add(d time.Duration) {
	x := float64(d)
	r.n++
	if r.n == 1 {
		r.min, r.max = d, d
	} else {
		r.min, r.max = min(r.min, d), max(r.max, d)
		r.ipdvSum += math.Abs(float64(d - r.last))
	}
	r.last = d
	delta := x - r.mean
	r.mean += delta / float64(r.n)
	r.m2 += delta * (x - r.mean)
}

// Summary is the Summary of the RTTs added, for sent requests and
// duplicates duplicate replies, without percentiles (P50 to P99 are zero:
// they need every RTT, which Running does not keep). Received is Count.
func (r *Running) Summary(sent, duplicates int) Summary {
	return Summary{
		Sent: sent, Received: r.n, Duplicates: duplicates, Loss: Loss(sent, r.n),
		Min: r.Min(), Mean: r.Mean(), Max: r.Max(), StdDev: r.StdDev(), Jitter: r.Jitter(),
	}
}

// Count is the number of RTTs added.
func (r *Running) Count() int { return r.n }

// Min is the smallest RTT added, 0 when none.
func (r *Running) Min() time.Duration { return r.min }

// Max is the largest RTT added, 0 when none.
func (r *Running) Max() time.Duration { return r.max }

// Mean is the arithmetic mean, rounded to the nanosecond; 0 when none.
func (r *Running) Mean() time.Duration { return round(r.mean) }

// StdDev is the population standard deviation sqrt(M2/n) (iputils mdev),
// rounded to the nanosecond; 0 when fewer than 2 RTTs.
func (r *Running) StdDev() time.Duration {
	if r.n < 2 {
		return 0
	}
	return round(math.Sqrt(max(r.m2, 0) / float64(r.n)))
}

// Jitter is the mean absolute difference of consecutive RTTs,
// Σ|x_i − x_{i−1}| / (n − 1) (RFC 4689 §3.2.5 IPDV, averaged), rounded to
// the nanosecond; 0 when fewer than 2 RTTs.
func (r *Running) Jitter() time.Duration {
	if r.n < 2 {
		return 0
	}
	return round(r.ipdvSum / float64(r.n-1))
}

func round(ns float64) time.Duration { return time.Duration(math.Round(ns)) }
