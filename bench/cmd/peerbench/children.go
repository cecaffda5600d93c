package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	probing "github.com/prometheus-community/pro-bing"

	"github.com/pingapi/pingapi/pkg/probe"
)

// counts is what a child prints on stdout: one JSON object.
type counts struct {
	Targets    int    `json:"targets"`
	Sent       int64  `json:"sent"`
	Received   int64  `json:"received"`
	Duplicates int64  `json:"duplicates"`
	Late       int64  `json:"late,omitempty"`
	Errors     int64  `json:"errors,omitempty"`
	FirstError string `json:"first_error,omitempty"`
}

// childFlags are the flags every load child takes.
type childFlags struct {
	file     string
	count    int
	interval time.Duration
	timeout  time.Duration
}

func parseChildFlags(name string, args []string, stderr io.Writer) (childFlags, []netip.Addr, error) {
	var cf childFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cf.file, "f", "", "file of target addresses, one per line")
	fs.IntVar(&cf.count, "c", 5, "echo requests per target")
	fs.DurationVar(&cf.interval, "i", time.Second, "interval between requests to one target")
	fs.DurationVar(&cf.timeout, "W", time.Second, "per-packet timeout")
	if err := fs.Parse(args); err != nil {
		return cf, nil, err
	}
	addrs, err := readAddrs(cf.file)
	return cf, addrs, err
}

// readAddrs reads one IP address per line; blank lines and # comments are
// skipped.
func readAddrs(path string) ([]netip.Addr, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []netip.Addr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		a, err := netip.ParseAddr(line)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

func printCounts(w io.Writer, c counts) int {
	if err := json.NewEncoder(w).Encode(c); err != nil {
		return 1
	}
	return 0
}

// childEngine measures every target concurrently on one shared probe.Engine,
// one goroutine per target, as the API and monitor do.
func childEngine(args []string, stdout, stderr io.Writer) int {
	cf, addrs, err := parseChildFlags("child-engine", args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	eng, err := probe.New(probe.Options{})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer eng.Close()
	ctx := context.Background()
	var sent, recv, dups, late, errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for _, a := range addrs {
		wg.Go(func() {
			res, err := eng.Ping(ctx, probe.Request{Target: a, Count: cf.count, Interval: cf.interval, Timeout: cf.timeout}, nil)
			if err != nil {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
			sent.Add(int64(res.Sent))
			recv.Add(int64(res.Received))
			dups.Add(int64(res.Duplicates))
			late.Add(int64(res.Late))
		})
	}
	wg.Wait()
	c := counts{Targets: len(addrs), Sent: sent.Load(), Received: recv.Load(), Duplicates: dups.Load(),
		Late: late.Load(), Errors: errs.Load()}
	if s, ok := firstErr.Load().(string); ok {
		c.FirstError = s
	}
	return printCounts(stdout, c)
}

// childIdle is the harness without any pinging: one goroutine per target
// that waits as long as a measurement would and keeps a probe.Result-sized
// packet slice, so its peak RSS is the floor under childEngine's (Go
// runtime, goroutine stacks, per-target results).
func childIdle(args []string, stdout, stderr io.Writer) int {
	cf, addrs, err := parseChildFlags("child-idle", args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	wait := time.Duration(cf.count-1)*cf.interval + 50*time.Millisecond
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range addrs {
		wg.Go(func() {
			res := probe.Result{Packets: make([]probe.Packet, 0, cf.count)}
			t := time.NewTimer(wait)
			<-t.C
			for i := range cf.count {
				res.Packets = append(res.Packets, probe.Packet{Seq: i})
			}
			sent.Add(int64(len(res.Packets)))
		})
	}
	wg.Wait()
	return printCounts(stdout, counts{Targets: len(addrs), Sent: sent.Load()})
}

// childProbing runs one pro-bing Pinger per target, privileged (raw socket),
// all concurrently: how go-ping and pro-bing users measure many hosts.
func childProbing(args []string, stdout, stderr io.Writer) int {
	cf, addrs, err := parseChildFlags("child-probing", args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var sent, recv, dups, errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for _, a := range addrs {
		wg.Go(func() {
			p := probing.New(a.String())
			p.SetPrivileged(true)
			p.Count = cf.count
			p.Interval = cf.interval
			// pro-bing has no per-packet deadline; its Timeout bounds the run.
			p.Timeout = time.Duration(cf.count-1)*cf.interval + cf.timeout
			if err := p.Run(); err != nil {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
			st := p.Statistics()
			sent.Add(int64(st.PacketsSent))
			recv.Add(int64(st.PacketsRecv))
			dups.Add(int64(st.PacketsRecvDuplicates))
		})
	}
	wg.Wait()
	c := counts{Targets: len(addrs), Sent: sent.Load(), Received: recv.Load(), Duplicates: dups.Load(), Errors: errs.Load()}
	if s, ok := firstErr.Load().(string); ok {
		c.FirstError = s
	}
	return printCounts(stdout, c)
}

// rttOut is what child-rtt prints: the RTT of every received reply, in ns.
type rttOut struct {
	Sent int     `json:"sent"`
	RTTs []int64 `json:"rtts_ns"`
}

// childRTT measures one target with the engine and prints every RTT.
func childRTT(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("child-rtt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	count := fs.Int("c", 1000, "echo requests")
	interval := fs.Duration("i", 10*time.Millisecond, "interval")
	target := fs.String("t", "127.0.0.1", "target address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	a, err := netip.ParseAddr(*target)
	if err != nil || !a.IsLoopback() {
		fmt.Fprintln(stderr, "child-rtt: target must be a loopback address")
		return 2
	}
	eng, err := probe.New(probe.Options{})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer eng.Close()
	res, err := eng.Ping(context.Background(), probe.Request{Target: a, Count: *count, Interval: *interval, Timeout: time.Second}, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	out := rttOut{Sent: res.Sent}
	for _, p := range res.Packets {
		if p.Received {
			out.RTTs = append(out.RTTs, int64(p.RTT))
		}
	}
	if err := json.NewEncoder(stdout).Encode(out); err != nil {
		return 1
	}
	return 0
}
