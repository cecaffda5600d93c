package stats

import (
	"testing"
	"time"
)

func TestUpper(t *testing.T) {
	tests := []struct {
		i    int
		want time.Duration
	}{
		{-1, 0},
		{0, time.Microsecond},
		{1, 1189}, // 2^¼ µs = 1.189207 µs
		{4, 2 * time.Microsecond},
		{40, 1024 * time.Microsecond},
		{104, (1 << 26) * time.Microsecond},
		{NumBuckets - 1, 1<<63 - 1},
	}
	for _, tt := range tests {
		if got := Upper(tt.i); got != tt.want {
			t.Errorf("Upper(%d) = %v, want %v", tt.i, got, tt.want)
		}
	}
}

func TestBucketOf(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{-5, 0},
		{0, 0},
		{time.Microsecond, 0},
		{time.Microsecond + 1, 1},
		{2 * time.Microsecond, 4},
		{2*time.Microsecond + 1, 5},
		{1024 * time.Microsecond, 40},
		{time.Hour, NumBuckets - 1},
	}
	for _, tt := range tests {
		if got := BucketOf(tt.d); got != tt.want {
			t.Errorf("BucketOf(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
	// Every documented bound is inclusive and the next nanosecond moves on.
	for i := 0; i < NumBuckets-1; i++ {
		if got := BucketOf(Upper(i)); got != i {
			t.Errorf("BucketOf(Upper(%d)=%v) = %d", i, Upper(i), got)
		}
		if got := BucketOf(Upper(i) + 1); got != i+1 {
			t.Errorf("BucketOf(Upper(%d)+1) = %d, want %d", i, got, i+1)
		}
	}
}

func TestHistogram(t *testing.T) {
	var a, b Histogram
	for _, d := range []time.Duration{500 * time.Nanosecond, 50 * time.Microsecond, 50 * time.Microsecond} {
		a.Add(d)
	}
	for _, d := range []time.Duration{10 * time.Millisecond, 2 * time.Minute} {
		b.Add(d)
	}
	a.Merge(&b)
	if a.Total() != 5 {
		t.Fatalf("Total = %d, want 5", a.Total())
	}
	got := a.Buckets()
	if len(got) != 4 || got[0].Count != 1 || got[1].Count != 2 || got[3].Upper != Upper(NumBuckets-1) {
		t.Fatalf("Buckets = %+v", got)
	}
	for _, bk := range got {
		if bk.Lower >= bk.Upper {
			t.Fatalf("bucket bounds %+v", bk)
		}
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{20, Upper(0)}, // rank 1: 500 ns
		{40, Upper(BucketOf(50 * time.Microsecond))}, // rank 2
		{80, Upper(BucketOf(10 * time.Millisecond))}, // rank 4
		{100, Upper(NumBuckets - 2)},                 // overflow reports the last finite bound
	}
	for _, tt := range tests {
		if q := a.Quantile(tt.p); q != tt.want {
			t.Errorf("Quantile(%v) = %v, want %v", tt.p, q, tt.want)
		}
	}
	var empty Histogram
	if empty.Quantile(50) != 0 || empty.Total() != 0 || empty.Buckets() != nil {
		t.Fatal("empty histogram not empty")
	}
}
