// Command archive benchmarks pkg/archive: ingest CPU per measurement,
// bytes on disk per measurement and read latencies, on SQLite or on a
// throwaway PostgreSQL server (Debian's package, fsync on). Results go to
// docs/PERFORMANCE.md ("Archive"); see there for the commands.
//
// The load is the monitor's: hosts × minutes measurements of 10 echoes,
// written in batches of one second of a 100,000-host monitor at Ping903's
// defaults (1,700 measurements), in time order. RTTs: each host has a base
// RTT from 1 to 150 ms and a jitter of 1-5 % of it; 1 host in 50 loses 10 %.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pingapi/pingapi/internal/pgtest"
	"github.com/pingapi/pingapi/pkg/archive"
)

func main() { os.Exit(run()) }

func run() int {
	hosts := flag.Int("hosts", 10000, "monitored hosts")
	minutes := flag.Int("minutes", 1440, "minutes of data, one measurement per host per minute")
	batch := flag.Int("batch", 1700, "measurements per transaction")
	backend := flag.String("backend", "sqlite", "sqlite or postgres (a throwaway server, fsync on)")
	dir := flag.String("dir", "", "directory of the SQLite file (default: a temporary one, removed)")
	reads := flag.Int("reads", 200, "read queries per kind (medians over them)")
	reuse := flag.Bool("reuse", false, "SQLite: -dir holds the data of an earlier run with the same -hosts and -minutes; only read")
	flag.Parse()
	ctx := context.Background()

	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(time.Duration(*minutes) * time.Minute)
	// The clock follows the data while ingesting (the monitor's feed writes
	// what it just measured), then stands a day after it for the reads
	// (every hour settled).
	var clockNs atomic.Int64
	clock := func() time.Time { return time.Unix(0, clockNs.Load()) }

	var (
		st  *archive.Store
		err error
		pg  *pgtest.Server
	)
	switch *backend {
	case "sqlite":
		d := *dir
		if d == "" {
			d, _ = os.MkdirTemp("", "archive-bench-")
			defer os.RemoveAll(d)
		}
		st, err = archive.Open(ctx, archive.Options{DataDir: d, Now: clock})
	case "postgres":
		pg, err = pgtest.StartDurable()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer pg.Stop()
		st, err = archive.Open(ctx, archive.Options{DSN: pg.DSN(), Now: clock})
	default:
		fmt.Fprintln(os.Stderr, "unknown backend", *backend)
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()

	agent := netip.MustParseAddr("192.0.2.1")
	gen := newGen(*hosts, agent)
	fmt.Printf("backend %s: %d hosts x %d minutes = %d measurements of 10 echoes, batches of %d\n",
		*backend, *hosts, *minutes, *hosts**minutes, *batch)

	// Ingest.
	var cpu, srvCPU, wall time.Duration
	n := 0
	buf := make([]archive.Measurement, 0, *batch)
	flush := func() {
		c0, s0, w0 := selfCPU(), serverCPU(pg), time.Now()
		if err := st.AddMeasurements(ctx, buf); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cpu += selfCPU() - c0
		srvCPU += serverCPU(pg) - s0
		wall += time.Since(w0)
		n += len(buf)
		buf = buf[:0]
	}
	for mi := range *minutes {
		if *reuse {
			break
		}
		at := start.Add(time.Duration(mi) * time.Minute)
		clockNs.Store(at.Add(time.Minute).UnixNano())
		for h := range *hosts {
			buf = append(buf, gen.measurement(h, at.Add(time.Duration(h)*time.Minute/time.Duration(*hosts))))
			if len(buf) == cap(buf) {
				flush()
			}
		}
		if mi%60 == 59 {
			fmt.Fprintf(os.Stderr, "  %d measurements, %.1f us CPU each so far\n", n, us(cpu)/float64(n))
		}
	}
	if len(buf) > 0 {
		flush()
	}
	if !*reuse {
		if code := report(ctx, st, pg, n, *hosts, cpu, srvCPU, wall); code != 0 {
			return code
		}
	}
	clockNs.Store(end.Add(24 * time.Hour).UnixNano())

	// A host with 30 days of data for the long reads.
	long := newGen(1, netip.MustParseAddr("192.0.2.2"))
	long.names[0] = "long.example"
	lb := make([]archive.Measurement, 0, 1440)
	for mi := range 30 * 1440 {
		if *reuse {
			break
		}
		lb = append(lb, long.measurement(0, end.Add(-30*24*time.Hour).Add(time.Duration(mi)*time.Minute)))
		if len(lb) == cap(lb) {
			if err := st.AddMeasurements(ctx, lb); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			lb = lb[:0]
		}
	}
	// Reads.
	rng := rand.New(rand.NewPCG(1, 2))
	keyOf := func(target string) string {
		mds, _, err := st.SearchMetadata(ctx, archive.Filter{InputDestination: target})
		if err != nil || len(mds) != 1 {
			fmt.Fprintln(os.Stderr, "series of", target, err)
			os.Exit(1)
		}
		return mds[0].Key
	}
	day := archive.TimeRange{Start: end.Add(-24 * time.Hour).Unix(), End: end.Unix()}
	month := archive.TimeRange{Start: end.Add(-30 * 24 * time.Hour).Unix(), End: end.Unix()}
	timeit := func(name string, f func(i int) int) {
		lat := make([]time.Duration, 0, *reads)
		pts := 0
		c0, s0 := selfCPU(), serverCPU(pg)
		for i := range *reads {
			t0 := time.Now()
			pts = f(i)
			lat = append(lat, time.Since(t0))
		}
		cpu := (selfCPU() - c0 + serverCPU(pg) - s0) / time.Duration(*reads)
		slices.Sort(lat)
		fmt.Printf("read %-66s median %7.2f ms  p95 %7.2f ms  CPU %6.2f ms/query  (%d points)\n", name+":",
			ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100]), ms(cpu), pts)
	}
	data := func(q archive.DataQuery) int {
		p, err := st.Data(ctx, q)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return len(p)
	}
	timeit("one host's day of base histogram-rtt", func(int) int {
		return data(archive.DataQuery{Key: keyOf(gen.names[rng.IntN(*hosts)]), EventType: "histogram-rtt", Range: day})
	})
	lk := keyOf("long.example")
	t0 := time.Now()
	np := data(archive.DataQuery{Key: lk, EventType: "histogram-rtt", SummaryType: archive.SummaryStatistics, Window: 3600, Range: month})
	fmt.Printf("read %-66s %7.2f ms once (%d points; materialises 720 hourly rollups)\n", "30 days of hourly statistics, first read:", ms(time.Since(t0)), np)
	timeit("30 days of hourly statistics (histogram-rtt/statistics/3600)", func(int) int {
		return data(archive.DataQuery{Key: lk, EventType: "histogram-rtt", SummaryType: archive.SummaryStatistics, Window: 3600, Range: month})
	})
	timeit("30 days of daily aggregation (histogram-rtt/aggregations/86400)", func(int) int {
		return data(archive.DataQuery{Key: lk, EventType: "histogram-rtt", SummaryType: archive.SummaryAggregation, Window: 86400, Range: month})
	})
	timeit("dashboard: 30 days of hourly windows of one host", func(int) int {
		ws, err := st.Windows(ctx, archive.SeriesQuery{Target: "long.example"}, end.Add(-30*24*time.Hour), end, time.Hour)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return len(ws)
	})
	timeit("metadata search for one destination", func(int) int {
		h := rng.IntN(*hosts)
		mds, _, err := st.SearchMetadata(ctx, archive.Filter{Destination: []string{gen.addrs[h].String()}})
		if err != nil || len(mds) != 1 {
			fmt.Fprintln(os.Stderr, "search", err, len(mds))
			os.Exit(1)
		}
		return len(mds)
	})
	return 0
}

// report prints the ingest and size figures.
func report(ctx context.Context, st *archive.Store, pg *pgtest.Server, n, hosts int, cpu, srvCPU, wall time.Duration) int {
	fmt.Printf("ingest: %d measurements in %v of write time (%.0f/s); client CPU %.1f us per measurement",
		n, wall.Round(time.Millisecond), float64(n)/wall.Seconds(), us(cpu)/float64(n))
	if pg != nil {
		fmt.Printf(", server CPU %.1f us, total %.1f us", us(srvCPU)/float64(n), us(cpu+srvCPU)/float64(n))
	}
	fmt.Println()

	// Size.
	u, err := st.DiskUsage(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if pg != nil {
		fmt.Printf("size: measurement partitions %d bytes = %.1f B per measurement; whole database %d bytes = %.1f B per measurement\n",
			u.Measurements, float64(u.Measurements)/float64(n), u.Total, float64(u.Total)/float64(n))
	} else {
		fmt.Printf("size: SQLite file %d bytes = %.1f B per measurement (metadata of %d series included); measurement table %d bytes = %.1f B per measurement\n",
			u.Total, float64(u.Total)/float64(n), hosts, u.Measurements, float64(u.Measurements)/float64(n))
	}

	return 0
}

// gen makes the measurements of a set of hosts.
type gen struct {
	agent  netip.Addr
	names  []string
	addrs  []netip.Addr
	base   []time.Duration
	jitter []float64
	loss   []float64
	ttl    []uint8
	rng    *rand.Rand
}

func newGen(hosts int, agent netip.Addr) *gen {
	g := &gen{agent: agent, rng: rand.New(rand.NewPCG(uint64(hosts), 7))}
	for h := range hosts {
		g.names = append(g.names, "host"+strconv.Itoa(h)+".example")
		g.addrs = append(g.addrs, netip.AddrFrom4([4]byte{10, byte(h >> 16), byte(h >> 8), byte(h)}))
		g.base = append(g.base, time.Millisecond+time.Duration(g.rng.Float64()*149*float64(time.Millisecond)))
		g.jitter = append(g.jitter, 0.01+0.04*g.rng.Float64())
		l := 0.0
		if h%50 == 0 {
			l = 0.1
		}
		g.loss = append(g.loss, l)
		g.ttl = append(g.ttl, uint8(40+g.rng.IntN(24)))
	}
	return g
}

func (g *gen) measurement(h int, at time.Time) archive.Measurement {
	m := archive.Measurement{Time: at, Agent: g.agent, Target: g.names[h], Addr: g.addrs[h], Tool: archive.ToolMonitor,
		PacketSize: 56, Interval: time.Second, SampleSize: 10, Sent: 10, RTTs: make([]time.Duration, 10)}
	for i := range m.RTTs {
		if g.rng.Float64() < g.loss[h] {
			m.RTTs[i] = archive.Lost
			continue
		}
		d := time.Duration(float64(g.base[h]) * (1 + g.jitter[h]*g.rng.NormFloat64()))
		m.RTTs[i] = max(d, 10*time.Microsecond).Round(time.Microsecond)
		m.TTLs = append(m.TTLs, g.ttl[h])
	}
	return m
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the CPU time of the PostgreSQL server: the postmaster, its
// live children and the children it has reaped.
func serverCPU(pg *pgtest.Server) time.Duration {
	if pg == nil || pg.Dir() == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(pg.Dir(), "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pm := strings.SplitN(string(b), "\n", 2)[0]
	tick := float64(time.Second) / 100 // USER_HZ
	var total float64
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		f := procStat(e.Name())
		if f == nil {
			continue
		}
		switch {
		case e.Name() == pm:
			total += f[11] + f[12] + f[13] + f[14] // utime stime cutime cstime
		case strconv.FormatFloat(f[1], 'f', 0, 64) == pm:
			total += f[11] + f[12]
		}
	}
	return time.Duration(total * tick)
}

// procStat returns the fields of /proc/pid/stat after the command name:
// index i is proc(5)'s field i+3 (1: ppid, 11-14: utime, stime, cutime,
// cstime); the state letter reads as 0.
func procStat(pid string) []float64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	var out []float64
	for _, f := range strings.Fields(s[i+1:]) {
		v, _ := strconv.ParseFloat(f, 64)
		out = append(out, v)
	}
	if len(out) < 15 {
		return nil
	}
	return out
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
