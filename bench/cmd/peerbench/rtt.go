package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pingapi/pingapi/pkg/stats"
)

// rttResult is one loopback RTT sample set.
type rttResult struct {
	Peer    string
	Sent    int
	RTTs    []time.Duration // sorted
	Command string
	Wire    []time.Duration // sorted wire RTTs from tcpdump, when captured
	Drops   string          // tcpdump's "N packets dropped by kernel"
}

func (r rttResult) p(q float64) time.Duration { return stats.NearestRank(r.RTTs, q) }

// runRTT measures the loopback RTT with iputils ping and with the engine,
// one after the other, rounds times, and prints medians and their
// difference in µs.
func runRTT(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rtt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1000, "echoes per peer per round")
	interval := fs.Duration("i", 10*time.Millisecond, "interval")
	target := fs.String("t", "127.0.0.1", "loopback target")
	rounds := fs.Int("rounds", 1, "alternate ping and engine this many times")
	pcap := fs.Bool("pcap", false, "also capture each run with tcpdump on lo and compare with the wire (only meaningful in a private network namespace: it pairs every echo on lo)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ctx := context.Background()
	fmt.Fprintln(stdout, "| round | peer | received / sent | median µs | p10 µs | p90 µs | mean µs | wire pairs | wire median µs | median − wire µs |")
	fmt.Fprintln(stdout, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	var diffs []float64
	var pooled [2][]time.Duration // ping, engine
	for round := 1; round <= *rounds; round++ {
		// Alternate who goes first so a drift in machine load favours neither.
		var ping, eng rttResult
		var err error
		for k := range 2 {
			var cap *capture
			if *pcap {
				if cap, err = startCapture(ctx); err != nil {
					fmt.Fprintln(stderr, "rtt: tcpdump:", err)
					return 1
				}
			}
			if (k+round)%2 == 1 {
				ping, err = rttPing(ctx, *target, *n, *interval)
				if cap != nil {
					ping.Wire, ping.Drops = cap.stop()
				}
			} else {
				eng, err = rttEngine(ctx, self, *target, *n, *interval)
				if cap != nil {
					eng.Wire, eng.Drops = cap.stop()
				}
			}
			if err != nil {
				fmt.Fprintln(stderr, "rtt:", err)
				return 1
			}
		}
		for _, r := range []rttResult{ping, eng} {
			var sum time.Duration
			for _, d := range r.RTTs {
				sum += d
			}
			mean := time.Duration(0)
			if len(r.RTTs) > 0 {
				mean = sum / time.Duration(len(r.RTTs))
			}
			wire, diff := "", ""
			if *pcap {
				wm := stats.NearestRank(r.Wire, 50)
				wire, diff = fmt.Sprintf("%.1f", us(wm)), fmt.Sprintf("%+.1f", us(r.p(50))-us(wm))
			}
			fmt.Fprintf(stdout, "| %d | %s | %d / %d | %.1f | %.1f | %.1f | %.1f | %d | %s | %s |\n", round, r.Peer,
				len(r.RTTs), r.Sent, us(r.p(50)), us(r.p(10)), us(r.p(90)), us(mean), len(r.Wire), wire, diff)
			if r.Drops != "" && !strings.HasPrefix(r.Drops, "0 ") {
				fmt.Fprintf(stderr, "rtt: round %d %s: tcpdump: %s\n", round, r.Peer, r.Drops)
			}
		}
		diffs = append(diffs, us(eng.p(50))-us(ping.p(50)))
		pooled[0] = append(pooled[0], ping.RTTs...)
		pooled[1] = append(pooled[1], eng.RTTs...)
	}
	fmt.Fprintln(stdout)
	for i, d := range diffs {
		fmt.Fprintf(stdout, "round %d: median(engine) − median(ping) = %+.1f µs\n", i+1, d)
	}
	for i := range pooled {
		slices.Sort(pooled[i])
	}
	pm, em := stats.NearestRank(pooled[0], 50), stats.NearestRank(pooled[1], 50)
	fmt.Fprintf(stdout, "all rounds: median ping %.1f µs, median engine %.1f µs, difference %+.1f µs; median of per-round differences %+.1f µs\n",
		us(pm), us(em), us(em)-us(pm), median(diffs))
	return 0
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// rttPing runs iputils ping and parses "time=0.045 ms" from each reply line.
// iputils takes the receive time from the kernel (SO_TIMESTAMP) like the
// engine; it prints 3 decimals of ms, so its samples have 1 µs resolution.
func rttPing(ctx context.Context, target string, n int, interval time.Duration) (rttResult, error) {
	argv := []string{"ping", "-n", "-c", strconv.Itoa(n), "-i", strconv.FormatFloat(interval.Seconds(), 'f', -1, 64), target}
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		return rttResult{}, err
	}
	r := parsePing(bytes.NewReader(out))
	r.Peer, r.Sent, r.Command = "iputils ping", n, strings.Join(argv, " ")
	return r, nil
}

// parsePing extracts the RTT of every reply line of ping(8) output.
func parsePing(rd io.Reader) rttResult {
	var r rttResult
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		_, after, ok := strings.Cut(sc.Text(), " time=")
		if !ok {
			continue
		}
		num, unit, _ := strings.Cut(after, " ")
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || unit != "ms" {
			continue
		}
		r.RTTs = append(r.RTTs, time.Duration(v*float64(time.Millisecond)+0.5))
	}
	slices.Sort(r.RTTs)
	return r
}

func rttEngine(ctx context.Context, self, target string, n int, interval time.Duration) (rttResult, error) {
	argv := []string{self, "child-rtt", "-t", target, "-c", strconv.Itoa(n), "-i", interval.String()}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return rttResult{}, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var o rttOut
	if err := json.Unmarshal(out, &o); err != nil {
		return rttResult{}, err
	}
	r := rttResult{Peer: "pingapi engine", Sent: o.Sent, Command: "peerbench child-rtt -t " + target}
	for _, v := range o.RTTs {
		r.RTTs = append(r.RTTs, time.Duration(v))
	}
	slices.Sort(r.RTTs)
	return r, nil
}
