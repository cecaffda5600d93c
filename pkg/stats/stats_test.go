package stats

import (
	"math"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		sent int
		rtts []time.Duration
		dups int
		want Summary
	}{
		{
			name: "nothing sent",
			want: Summary{},
		},
		{
			name: "all lost",
			sent: 5,
			want: Summary{Sent: 5, Loss: 100},
		},
		{
			name: "one reply",
			sent: 1,
			rtts: []time.Duration{5 * ms},
			want: Summary{Sent: 1, Received: 1, Min: 5 * ms, Mean: 5 * ms, Max: 5 * ms,
				P50: 5 * ms, P90: 5 * ms, P95: 5 * ms, P99: 5 * ms},
		},
		{
			// mean 2; σ² = (1+1)/2 = 1 → σ = 1 ms (sample s would be 1.414);
			// jitter |3−1|/1 = 2; p50 rank ⌈1.0⌉=1, p90 rank ⌈1.8⌉=2.
			name: "two replies",
			sent: 2,
			rtts: []time.Duration{1 * ms, 3 * ms},
			want: Summary{Sent: 2, Received: 2, Min: 1 * ms, Mean: 2 * ms, Max: 3 * ms,
				StdDev: 1 * ms, Jitter: 2 * ms,
				P50: 1 * ms, P90: 3 * ms, P95: 3 * ms, P99: 3 * ms},
		},
		{
			// loss 1/4; σ² = (100+0+100)/3 → σ = 8.164965809 ms;
			// jitter (10+10)/2 = 10; p50 rank ⌈1.5⌉=2.
			name: "three of four",
			sent: 4,
			rtts: []time.Duration{10 * ms, 20 * ms, 30 * ms},
			want: Summary{Sent: 4, Received: 3, Loss: 25, Min: 10 * ms, Mean: 20 * ms, Max: 30 * ms,
				StdDev: 8164966, Jitter: 10 * ms,
				P50: 20 * ms, P90: 30 * ms, P95: 30 * ms, P99: 30 * ms},
		},
		{
			// Same RTTs, replies in sequence order 30,10,20: only jitter
			// changes, (20+10)/2 = 15 ms.
			name: "out of order in sequence",
			sent: 3,
			rtts: []time.Duration{30 * ms, 10 * ms, 20 * ms},
			want: Summary{Sent: 3, Received: 3, Min: 10 * ms, Mean: 20 * ms, Max: 30 * ms,
				StdDev: 8164966, Jitter: 15 * ms,
				P50: 20 * ms, P90: 30 * ms, P95: 30 * ms, P99: 30 * ms},
		},
		{
			name: "duplicates counted apart",
			sent: 3,
			rtts: []time.Duration{1 * ms, 2 * ms, 3 * ms},
			dups: 2,
			// σ² = 2/3 → 0.816496581 ms
			want: Summary{Sent: 3, Received: 3, Duplicates: 2, Min: 1 * ms, Mean: 2 * ms, Max: 3 * ms,
				StdDev: 816497, Jitter: 1 * ms,
				P50: 2 * ms, P90: 3 * ms, P95: 3 * ms, P99: 3 * ms},
		},
		{
			// 1..10 ms: σ² = (n²−1)/12 = 8.25 → 2.872281323 ms; p50 rank 5,
			// p90 rank 9, p95 rank ⌈9.5⌉=10.
			name: "ten",
			sent: 10,
			rtts: []time.Duration{1 * ms, 2 * ms, 3 * ms, 4 * ms, 5 * ms, 6 * ms, 7 * ms, 8 * ms, 9 * ms, 10 * ms},
			want: Summary{Sent: 10, Received: 10, Min: 1 * ms, Mean: 5500 * time.Microsecond, Max: 10 * ms,
				StdDev: 2872281, Jitter: 1 * ms,
				P50: 5 * ms, P90: 9 * ms, P95: 10 * ms, P99: 10 * ms},
		},
		{
			name: "more replies than sent never gives negative loss",
			sent: 1,
			rtts: []time.Duration{1 * ms, 1 * ms},
			want: Summary{Sent: 1, Received: 2, Min: 1 * ms, Mean: 1 * ms, Max: 1 * ms,
				P50: 1 * ms, P90: 1 * ms, P95: 1 * ms, P99: 1 * ms},
		},
		{
			// Welford keeps nanosecond precision on a 10 s offset, where
			// Σx²−n·mean² in float64 loses it (σ = 0.816 ns → 1 ns).
			name: "numerically stable on a large offset",
			sent: 3,
			rtts: []time.Duration{10*time.Second + 1, 10*time.Second + 2, 10*time.Second + 3},
			want: Summary{Sent: 3, Received: 3, Min: 10*time.Second + 1, Mean: 10*time.Second + 2,
				Max: 10*time.Second + 3, StdDev: 1, Jitter: 1,
				P50: 10*time.Second + 2, P90: 10*time.Second + 3, P95: 10*time.Second + 3, P99: 10*time.Second + 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tt.rtts...)
			got := Summarize(tt.sent, tt.rtts, tt.dups)
			if got != tt.want {
				t.Errorf("Summarize(%d, %v, %d)\n got %+v\nwant %+v", tt.sent, tt.rtts, tt.dups, got, tt.want)
			}
			for i := range in {
				if in[i] != tt.rtts[i] {
					t.Fatalf("Summarize modified its input: %v", tt.rtts)
				}
			}
		})
	}
}

// TestStdDevIsPopulation pins the divisor: n (iputils mdev), not n−1.
func TestStdDevIsPopulation(t *testing.T) {
	rtts := []time.Duration{2 * ms, 4 * ms, 4 * ms, 4 * ms, 5 * ms, 5 * ms, 7 * ms, 9 * ms}
	// mean 5, Σ(x−mean)² = 32: population σ = sqrt(32/8) = 2 ms exactly;
	// sample s = sqrt(32/7) = 2.138 ms.
	got := Summarize(len(rtts), rtts, 0).StdDev
	if got != 2*ms {
		t.Fatalf("StdDev = %v, want 2ms (population); sample would be %v",
			got, time.Duration(math.Sqrt(32.0/7)*float64(ms)))
	}
}

func TestLoss(t *testing.T) {
	tests := []struct {
		sent, recv int
		want       float64
	}{
		{0, 0, 0}, {-1, 0, 0}, {1, 0, 100}, {1, 1, 0}, {3, 2, 100.0 / 3}, {200, 140, 30}, {2, 5, 0}, {4, -1, 100},
	}
	for _, tt := range tests {
		if got := Loss(tt.sent, tt.recv); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Loss(%d, %d) = %v, want %v", tt.sent, tt.recv, got, tt.want)
		}
	}
}

func TestNearestRank(t *testing.T) {
	sorted := make([]time.Duration, 100)
	for i := range sorted {
		sorted[i] = time.Duration(i + 1)
	}
	tests := []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{sorted, 0, 1},
		{sorted, -5, 1},
		{sorted, 1, 1},
		{sorted, 29, 29}, // 0.29*100 is 28.999999999999996 in float64
		{sorted, 50, 50},
		{sorted, 99, 99},
		{sorted, 99.5, 100},
		{sorted, 100, 100},
		{sorted, 250, 100},
		{sorted[:5], 50, 3}, // rank ⌈2.5⌉ = 3
		{sorted[:5], 40, 2}, // rank 2
	}
	for _, tt := range tests {
		if got := NearestRank(tt.in, tt.p); got != tt.want {
			t.Errorf("NearestRank(n=%d, %v) = %v, want %v", len(tt.in), tt.p, got, tt.want)
		}
	}
}

// TestRunningMatchesSummarize: the incremental path a monitor uses agrees
// with the batch path.
func TestRunningMatchesSummarize(t *testing.T) {
	rtts := []time.Duration{3 * ms, 1 * ms, 4 * ms, 1 * ms, 5 * ms, 9 * ms, 2 * ms, 6 * ms}
	var r Running
	for _, d := range rtts {
		r.Add(d)
	}
	s := Summarize(len(rtts), rtts, 0)
	if r.Count() != s.Received || r.Min() != s.Min || r.Max() != s.Max || r.Mean() != s.Mean ||
		r.StdDev() != s.StdDev || r.Jitter() != s.Jitter {
		t.Fatalf("Running %+v disagrees with Summarize %+v", r, s)
	}
	// jitter by hand: |1-3|+|4-1|+|1-4|+|5-1|+|9-5|+|2-9|+|6-2| = 2+3+3+4+4+7+4 = 27 over 7
	if want := time.Duration(math.Round(27.0 / 7 * float64(ms))); s.Jitter != want {
		t.Fatalf("Jitter = %v, want %v", s.Jitter, want)
	}
}

func TestMillis(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want float64
	}{
		{1500 * time.Microsecond, 1.5},
		{41212345 * time.Nanosecond, 41.212}, // rounded to the microsecond
		{41212500 * time.Nanosecond, 41.213}, // half away from zero
		{499 * time.Nanosecond, 0},
		{-1500 * time.Nanosecond, -0.002},
	}
	for _, tt := range tests {
		if got := Millis(tt.d); got != tt.want {
			t.Errorf("Millis(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

// FuzzSummarize checks invariants on arbitrary samples: ordering of the
// order statistics, loss in range, σ bounded by the range.
func FuzzSummarize(f *testing.F) {
	f.Add(uint8(3), int64(1000), int64(5000), int64(2500), int64(1))
	f.Add(uint8(0), int64(0), int64(0), int64(0), int64(0))
	f.Add(uint8(200), int64(1<<40), int64(-7), int64(1<<62), int64(99))
	f.Fuzz(func(t *testing.T, sent uint8, a, b, c, d int64) {
		var rtts []time.Duration
		for _, v := range []int64{a, b, c, d} {
			if v >= 0 && v < int64(time.Hour) {
				rtts = append(rtts, time.Duration(v))
			}
		}
		s := Summarize(int(sent), rtts, 0)
		if s.Loss < 0 || s.Loss > 100 {
			t.Fatalf("loss %v", s.Loss)
		}
		if len(rtts) == 0 {
			return
		}
		if !(s.Min <= s.P50 && s.P50 <= s.P90 && s.P90 <= s.P95 && s.P95 <= s.P99 && s.P99 <= s.Max) {
			t.Fatalf("percentiles out of order: %+v", s)
		}
		if s.Mean < s.Min || s.Mean > s.Max {
			t.Fatalf("mean outside range: %+v", s)
		}
		if s.StdDev > s.Max-s.Min || s.Jitter > s.Max-s.Min {
			t.Fatalf("spread exceeds range: %+v", s)
		}
	})
}

func BenchmarkSummarize(b *testing.B) {
	rtts := make([]time.Duration, 1000)
	for i := range rtts {
		rtts[i] = time.Duration(i*7919%1000+1) * time.Microsecond
	}
	for b.Loop() {
		Summarize(len(rtts), rtts, 0)
	}
}

func BenchmarkHistogramAdd(b *testing.B) {
	var h Histogram
	for i := 0; b.Loop(); i++ {
		h.Add(time.Duration(i%100000) * time.Microsecond)
	}
}
