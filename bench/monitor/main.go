// Command monitorbench drives pkg/monitor on the real ICMP engine against
// loopback hosts (127.x.y.z) for a number of probe intervals and reports
// echoes per second, replies lost, process CPU time per echo, RSS and heap
// per host. With -fping it also runs fping on the same hosts for the same
// number of echoes and reports its CPU per echo. Needs root (or
// CAP_NET_RAW) for the raw socket. See docs/PERFORMANCE-monitor.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/target"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// counting wraps the engine and counts echoes of finished probes.
type counting struct {
	p                  monitor.Pinger
	probes, sent, recv atomic.Int64
	errs               atomic.Int64
}

func (c *counting) Ping(ctx context.Context, req probe.Request, f func(probe.Packet)) (probe.Result, error) {
	res, err := c.p.Ping(ctx, req, f)
	c.count(ctx, res, err)
	return res, err
}

// Start keeps the monitor on the engine's asynchronous path (see
// monitor.Starter), counting as Ping does.
func (c *counting) Start(ctx context.Context, req probe.Request, done func(probe.Result, error)) {
	s, ok := c.p.(monitor.Starter)
	if !ok {
		go func() { done(c.Ping(ctx, req, nil)) }()
		return
	}
	s.Start(ctx, req, func(res probe.Result, err error) {
		c.count(ctx, res, err)
		done(res, err)
	})
}

func (c *counting) count(ctx context.Context, res probe.Result, err error) {
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		c.errs.Add(1)
	}
	c.probes.Add(1)
	c.sent.Add(int64(res.Sent))
	c.recv.Add(int64(res.Received))
}

type sample struct {
	at                 time.Time
	cpu                time.Duration
	probes, sent, recv int64
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssKB returns VmRSS and VmHWM of the process in KiB.
func rssKB() (rss, hwm int64) {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		var v int64
		if _, err := fmt.Sscanf(l, "VmRSS: %d kB", &v); err == nil {
			rss = v
		}
		if _, err := fmt.Sscanf(l, "VmHWM: %d kB", &v); err == nil {
			hwm = v
		}
	}
	return
}

func hostName(i int) string { return fmt.Sprintf("127.%d.%d.%d", 1+i/62500, i/250%250, i%250+1) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("monitorbench", flag.ContinueOnError)
	n := fs.Int("hosts", 10000, "loopback hosts to monitor")
	rounds := fs.Int("rounds", 2, "probe intervals to run; the last one is measured (steady state)")
	interval := fs.Duration("probe-interval", monitor.DefaultProbeInterval, "probe-interval")
	count := fs.Int("ping-count", monitor.DefaultPingCount, "ping-count")
	pingInt := fs.Duration("ping-interval", monitor.DefaultPingInterval, "ping-interval")
	rate := fs.Float64("rate", 0, "engine send rate cap, packets/s (0: engine default)")
	fping := fs.Bool("fping", false, "also run fping on the same hosts, same echoes, for CPU per echo")
	goroutines := fs.String("goroutines", "", "write a goroutine dump at the end of each round to FILE.N")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measured round to this file")
	heapprofile := fs.String("heapprofile", "", "write a heap profile at the end of the measured round to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := probe.New(probe.Options{Rate: *rate, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "monitorbench:", err)
		return 1
	}
	defer eng.Close()
	names := make([]string, *n)
	for i := range names {
		names[i] = hostName(i)
	}
	set := monitor.DefaultSettings()
	set.ProbeInterval, set.PingCount, set.PingInterval = *interval, *count, *pingInt
	set.Tolerance = min(set.Tolerance, set.PingCount-1) // Validate wants it below ping-count

	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	cp := &counting{p: eng}
	m, err := monitor.New(monitor.Options{Settings: set, Immutable: names, Pinger: cp, Logger: log, MaxHosts: max(*n, monitor.DefaultMaxHosts),
		Policy: target.DevPolicy()}) // the hosts are loopback addresses
	if err != nil {
		fmt.Fprintln(stderr, "monitorbench:", err)
		return 1
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	tableBytes := float64(ms1.HeapAlloc-ms0.HeapAlloc) / float64(*n)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); m.Run(ctx) }()
	snap := func() sample {
		return sample{time.Now(), cpuTime(), cp.probes.Load(), cp.sent.Load(), cp.recv.Load()}
	}
	var peakGoroutines int
	a := snap() // the measured window is the last round
	for r := 1; r <= *rounds; r++ {
		end := start.Add(time.Duration(r) * *interval)
		for time.Now().Before(end) {
			time.Sleep(min(time.Second, time.Until(end)))
			peakGoroutines = max(peakGoroutines, runtime.NumGoroutine())
		}
		s := snap()
		if r == *rounds-1 {
			a = s
		}
		if *goroutines != "" {
			if f, err := os.Create(fmt.Sprintf("%s.%d", *goroutines, r)); err == nil {
				pprof.Lookup("goroutine").WriteTo(f, 1)
				f.Close()
			}
		}
		if r == *rounds-1 && *cpuprofile != "" {
			if f, err := os.Create(*cpuprofile); err == nil {
				pprof.StartCPUProfile(f)
				defer f.Close()
			}
		}
		rss, _ := rssKB()
		es := eng.Stats()
		fmt.Fprintf(stderr, "round %d: probes %d sent %d recv %d cpu %v rss %d MiB goroutines %d; engine sent %d matched %d active %d in-flight %d drops %d\n",
			r, s.probes, s.sent, s.recv, s.cpu.Round(time.Millisecond), rss/1024, runtime.NumGoroutine(),
			es.Sent, es.Matched, es.Active, es.InFlight, es.SocketDrops)
	}
	b := snap()
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if *heapprofile != "" {
		if f, err := os.Create(*heapprofile); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	rss, hwm := rssKB()
	var live runtime.MemStats
	runtime.ReadMemStats(&live)
	liveG := runtime.NumGoroutine()
	cancel()
	<-done
	st := m.Stats()
	var heap runtime.MemStats
	runtime.ReadMemStats(&heap)

	window := b.at.Sub(a.at).Seconds()
	sent, recv := b.sent-a.sent, b.recv-a.recv
	cpu := b.cpu - a.cpu
	fmt.Fprintf(stdout, "hosts                 %d\n", *n)
	fmt.Fprintf(stdout, "settings              probe-interval %v, ping-count %d, ping-interval %v\n", *interval, *count, *pingInt)
	fmt.Fprintf(stdout, "measured window       %.1f s (round %d of %d)\n", window, *rounds, *rounds)
	fmt.Fprintf(stdout, "echoes sent           %d (%.0f/s)\n", sent, float64(sent)/window)
	fmt.Fprintf(stdout, "replies lost          %d (%.4f %%)\n", sent-recv, 100*float64(sent-recv)/float64(max(sent, 1)))
	fmt.Fprintf(stdout, "probes finished       %d (engine errors %d)\n", b.probes-a.probes, cp.errs.Load())
	fmt.Fprintf(stdout, "cpu                   %.2f s = %.1f %% of one core\n", cpu.Seconds(), 100*cpu.Seconds()/window)
	fmt.Fprintf(stdout, "cpu per echo          %.1f µs\n", float64(cpu.Microseconds())/float64(max(sent, 1)))
	fmt.Fprintf(stdout, "rss at end / peak     %d / %d MiB\n", rss/1024, hwm/1024)
	fmt.Fprintf(stdout, "rss per host          %.0f bytes (peak RSS / hosts)\n", float64(hwm*1024)/float64(*n))
	fmt.Fprintf(stdout, "host table heap       %.0f bytes per host (idle table)\n", tableBytes)
	fmt.Fprintf(stdout, "at end                heap in use %d MiB, goroutine stacks %d MiB, %d goroutines, GC cycles %d\n",
		live.HeapInuse>>20, live.StackInuse>>20, liveG, live.NumGC)
	fmt.Fprintf(stdout, "peak goroutines       %d\n", peakGoroutines)
	fmt.Fprintf(stdout, "scheduler skips       overruns %d, saturated %d, late rounds %d\n", st.Overruns, st.Saturated, st.LateRounds)
	if *fping {
		fpingRun(names, *count, *pingInt, stdout, stderr)
	}
	return 0
}

// fpingRun runs fping on the same hosts with the same echoes per host and
// reports its CPU per echo (getrusage of the child).
func fpingRun(names []string, count int, pingInt time.Duration, stdout, stderr io.Writer) {
	f, err := os.CreateTemp("", "monitorbench-hosts-*")
	if err != nil {
		fmt.Fprintln(stderr, "fping:", err)
		return
	}
	defer os.Remove(f.Name())
	f.WriteString(strings.Join(names, "\n") + "\n")
	f.Close()
	// -i: gap between any two sends (ms); -p: per-target period (ms).
	cmd := exec.Command("fping", "-q", "-c", fmt.Sprint(count), "-p", fmt.Sprint(pingInt.Milliseconds()),
		"-i", "1", "-f", f.Name())
	t0 := time.Now()
	out, _ := cmd.CombinedOutput()
	el := time.Since(t0)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	echoes := len(names) * count
	lost := 0
	for _, l := range strings.Split(string(out), "\n") {
		var x, r, pct int
		if i := strings.Index(l, "xmt/rcv/%loss = "); i >= 0 {
			if _, err := fmt.Sscanf(l[i:], "xmt/rcv/%%loss = %d/%d/%d%%", &x, &r, &pct); err == nil {
				lost += x - r
			}
		}
	}
	fmt.Fprintf(stdout, "fping                 %d echoes in %.1f s, lost %d, cpu %.2f s, %.1f µs per echo\n",
		echoes, el.Seconds(), lost, cpu.Seconds(), float64(cpu.Microseconds())/float64(echoes))
}
