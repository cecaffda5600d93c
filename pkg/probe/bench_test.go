package probe_test

import (
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
)

// Benchmarks on loopback: targets spread over 127.0.0.0/8, driven only
// through the public API (probe.New and concurrent Ping calls).
//
//	go test -run '^$' -bench . -benchmem ./pkg/probe/
//	go test -run '^$' -bench 'Fleet' -benchtime 1x ./pkg/probe/
//
// Besides ns/op they report cpu-µs/echo (process user+system CPU time per
// echo, which includes the kernel's work answering on loopback), lost (echo
// replies not received) and, for Fleet, the peak resident set.

// loopTarget returns the i-th benchmark target, 127.x.y.z, never 127.0.0.0.
func loopTarget(i int) netip.Addr {
	i++
	return netip.AddrFrom4([4]byte{127, byte(i >> 16), byte(i >> 8), byte(i)})
}

func cpuTime() time.Duration {
	u, s := cpuSplit()
	return u + s
}

// cpuSplit returns the process's user and system CPU time.
func cpuSplit() (user, sys time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

func maxRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss * 1024
}

// fleet runs targets measurements of count echoes every interval, all at
// once, and returns echoes sent and received.
func fleet(b *testing.B, e *probe.Engine, targets, count int, interval time.Duration) (sent, recv int) {
	b.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range targets {
		wg.Go(func() {
			r, err := e.Ping(b.Context(), probe.Request{Target: loopTarget(i), Count: count, Interval: interval, Timeout: 2 * time.Second}, nil)
			if err != nil {
				b.Error(err)
			}
			mu.Lock()
			sent += r.Sent
			recv += r.Received
			mu.Unlock()
		})
	}
	wg.Wait()
	return sent, recv
}

// BenchmarkPingLoopback measures the cost of one echo (op = one echo) with
// 1,000 concurrent measurements at a 10 ms interval.
func BenchmarkPingLoopback(b *testing.B) {
	e, err := probe.New(probe.Options{})
	if err != nil {
		b.Skip(err)
	}
	defer e.Close()
	const targets = 1000
	count := max(1, b.N/targets)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	sent, recv := fleet(b, e, targets, count, 10*time.Millisecond)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Microseconds())/float64(sent), "cpu-µs/echo")
	b.ReportMetric(float64(sent-recv), "lost")
}

// BenchmarkFleet is the load: N targets, 5 echoes each at 1 s.
// Run it with -benchtime 1x: one op is one whole round (about 5 s).
func BenchmarkFleet(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			e, err := probe.New(probe.Options{})
			if err != nil {
				b.Skip(err)
			}
			defer e.Close()
			var sent, recv int
			var usr, sys time.Duration
			for b.Loop() {
				u0, s0 := cpuSplit()
				s, r := fleet(b, e, n, 5, time.Second)
				u1, s1 := cpuSplit()
				usr += u1 - u0
				sys += s1 - s0
				sent += s
				recv += r
			}
			st := e.Stats()
			b.ReportMetric(float64((usr+sys).Microseconds())/float64(sent), "cpu-µs/echo")
			b.ReportMetric(float64(usr.Microseconds())/float64(sent), "user-µs/echo")
			b.ReportMetric(float64(sent-recv), "lost")
			b.ReportMetric(float64(st.SocketDrops), "sockdrops")
			b.ReportMetric(float64(maxRSS())/(1<<20), "maxrss-MiB")
		})
	}
}

// BenchmarkSustained is the monitor's load: 100,000 hosts, each probed
// every 6 s (about 16,700 echoes/s), three rounds. Run it with -benchtime
// 1x. cores is process CPU time over wall time (2 is the whole machine).
func BenchmarkSustained(b *testing.B) {
	e, err := probe.New(probe.Options{})
	if err != nil {
		b.Skip(err)
	}
	defer e.Close()
	const hosts, rounds, period = 100000, 3, 6 * time.Second
	var sent, recv int
	var cpu, wall time.Duration
	for b.Loop() {
		cpu0, t0 := cpuTime(), time.Now()
		s, r := fleet(b, e, hosts, rounds, period)
		cpu += cpuTime() - cpu0
		wall += time.Since(t0)
		sent += s
		recv += r
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(sent), "cpu-µs/echo")
	b.ReportMetric(float64(sent-recv), "lost")
	b.ReportMetric(float64(sent)/wall.Seconds(), "echoes/s")
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
	b.ReportMetric(float64(e.Stats().SocketDrops), "sockdrops")
	b.ReportMetric(float64(maxRSS())/(1<<20), "maxrss-MiB")
}
