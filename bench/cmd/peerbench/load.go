package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// loadConfig is one load run: every peer measures the same targets.
type loadConfig struct {
	n        int
	count    int
	interval time.Duration
	timeout  time.Duration
	fpingGap time.Duration // fping -i; 0 = interval / n
	limit    time.Duration // a peer still running after this is killed
	peers    []string
	reps     int
	dir      string
}

// peerResult is one row of the table.
type peerResult struct {
	Peer      string        `json:"peer"`
	Targets   int           `json:"targets"`
	Requested int64         `json:"requested"` // targets × count
	Counts    counts        `json:"counts"`
	CPU       time.Duration `json:"cpu_ns"` // user + system
	MaxRSSKiB int64         `json:"max_rss_kib"`
	Wall      time.Duration `json:"wall_ns"`
	Rep       int           `json:"rep"`
	LoadAvg   string        `json:"loadavg"` // /proc/loadavg 1-minute figure before the run
	Note      string        `json:"note,omitempty"`
	Command   string        `json:"command"`
}

// CPUPer1000 is CPU seconds per 1,000 requested echoes.
func (r peerResult) CPUPer1000() float64 {
	if r.Requested == 0 {
		return 0
	}
	return r.CPU.Seconds() * 1000 / float64(r.Requested)
}

// Lost is requested echoes without a reply (sent or not).
func (r peerResult) Lost() int64 { return max(r.Requested-r.Counts.Received, 0) }

func runLoad(args []string, stdout, stderr io.Writer) int {
	var cfg loadConfig
	var peers string
	asJSON := false
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.n, "n", 1000, "number of distinct targets in 127.0.0.0/8")
	fs.IntVar(&cfg.count, "c", 5, "echo requests per target")
	fs.DurationVar(&cfg.interval, "i", time.Second, "interval between requests to one target")
	fs.DurationVar(&cfg.timeout, "W", time.Second, "per-packet timeout")
	fs.DurationVar(&cfg.fpingGap, "fping-i", 0, "fping -i (gap between any two sends); 0 = interval/n")
	fs.DurationVar(&cfg.limit, "limit", 120*time.Second, "kill a peer still running after this")
	fs.StringVar(&peers, "peers", "engine,fping,probing", "comma-separated peers to run, in order")
	fs.IntVar(&cfg.reps, "reps", 1, "run every peer this many times, interleaved")
	fs.StringVar(&cfg.dir, "dir", "", "directory for the target file (default: a temporary one)")
	fs.BoolVar(&asJSON, "json", false, "print JSON lines instead of a markdown table")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.n < 1 || cfg.n > 1<<20 || cfg.count < 1 || cfg.reps < 1 {
		fmt.Fprintln(stderr, "load: need 1 <= n <= 1048576, c >= 1, reps >= 1")
		return 2
	}
	cfg.peers = strings.Split(peers, ",")
	if cfg.dir == "" {
		d, err := os.MkdirTemp("", "peerbench")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		defer os.RemoveAll(d)
		cfg.dir = d
	}
	results, err := load(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			_ = enc.Encode(r)
		}
		return 0
	}
	writeLoadTable(stdout, results)
	return 0
}

// load writes the targets to a file and runs each peer on it in turn.
func load(ctx context.Context, cfg loadConfig) ([]peerResult, error) {
	addrs := loopbackTargets(cfg.n)
	file := filepath.Join(cfg.dir, fmt.Sprintf("targets-%d.txt", cfg.n))
	var buf bytes.Buffer
	for _, a := range addrs {
		buf.WriteString(a.String())
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	common := []string{"-f", file, "-c", strconv.Itoa(cfg.count), "-i", cfg.interval.String(), "-W", cfg.timeout.String()}
	var out []peerResult
	for rep := 1; rep <= cfg.reps; rep++ {
		for _, p := range cfg.peers {
			r, err := runPeer(ctx, cfg, p, self, file, common)
			if err != nil {
				return nil, err
			}
			r.Rep = rep
			out = append(out, r)
		}
	}
	return out, nil
}

// runPeer runs one peer once on the target file.
func runPeer(ctx context.Context, cfg loadConfig, p, self, file string, common []string) (peerResult, error) {
	{
		var argv []string
		switch p {
		case "engine":
			argv = append([]string{self, "child-engine"}, common...)
		case "probing":
			argv = append([]string{self, "child-probing"}, common...)
		case "idle":
			argv = append([]string{self, "child-idle"}, common...)
		case "fping":
			argv = fpingArgs(cfg, file)
		default:
			return peerResult{}, fmt.Errorf("unknown peer %q", p)
		}
		load := loadAvg()
		r := runChild(ctx, p, argv, cfg.limit)
		r.Targets, r.Requested, r.LoadAvg = cfg.n, int64(cfg.n*cfg.count), load
		return r, nil
	}
}

// loadAvg is the 1-minute load average: other work on the machine skews
// wall time and loss, so every row records it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// fpingArgs builds Debian fping 5.1's command line: -C (per-echo RTTs on
// stderr), -p the per-target period, -i the gap between any two sends (its
// global pacing: it must be at most period/n for the period to hold), -t the
// per-echo timeout, -q no per-reply lines.
func fpingArgs(cfg loadConfig, file string) []string {
	gap := cfg.fpingGap
	if gap == 0 {
		gap = cfg.interval / time.Duration(cfg.n)
	}
	return []string{"fping", "-C", strconv.Itoa(cfg.count),
		"-p", msec(cfg.interval), "-i", msec(gap), "-t", msec(cfg.timeout), "-q", "-f", file}
}

func msec(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
}

// runChild runs argv, kills it after limit, and takes its CPU time and peak
// RSS from wait4's rusage: the child's figures alone.
func runChild(ctx context.Context, peer string, argv []string, limit time.Duration) peerResult {
	r := peerResult{Peer: peer, Command: strings.Join(argv, " ")}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r.Wall = time.Since(start)
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.CPU = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
			r.MaxRSSKiB = ru.Maxrss // KiB on Linux
		}
	}
	if ctx.Err() != nil {
		r.Note = fmt.Sprintf("killed after %v", limit)
	}
	if peer == "fping" {
		// fping exits 1 when some target is unreachable: still a result.
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			r.Note = err.Error()
			return r
		}
		r.Counts = parseFping(&stderr)
		return r
	}
	if err != nil && r.Note == "" {
		r.Note = strings.TrimSpace(firstLine(stderr.String()) + " " + err.Error())
	}
	if e := json.Unmarshal(stdout.Bytes(), &r.Counts); e != nil && r.Note == "" {
		r.Note = "no counts: " + e.Error()
	}
	if r.Counts.FirstError != "" && r.Note == "" {
		r.Note = fmt.Sprintf("%d errors, first: %s", r.Counts.Errors, r.Counts.FirstError)
	}
	return r
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// parseFping reads fping -C -q output, one line per target:
//
//	127.1.0.1 : 0.031 0.027 - 0.030 0.029
//
// where "-" is a request without a reply. Other lines are ignored.
func parseFping(r io.Reader) counts {
	var c counts
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		host, rest, ok := strings.Cut(sc.Text(), " : ")
		if !ok || strings.Contains(rest, "=") {
			continue
		}
		if _, err := netip.ParseAddr(strings.TrimSpace(host)); err != nil {
			continue
		}
		c.Targets++
		for _, f := range strings.Fields(rest) {
			if f == "-" {
				c.Sent++
				continue
			}
			if _, err := strconv.ParseFloat(f, 64); err == nil {
				c.Sent++
				c.Received++
			}
		}
	}
	return c
}

// loopbackTargets returns n distinct addresses in 127.0.0.0/8 from
// 127.1.0.1, skipping host parts .0 and .255.
func loopbackTargets(n int) []netip.Addr {
	out := make([]netip.Addr, 0, n)
	a := netip.AddrFrom4([4]byte{127, 1, 0, 1})
	for len(out) < n {
		b := a.As4()
		if b[3] != 0 && b[3] != 255 {
			out = append(out, a)
		}
		a = a.Next()
	}
	return out
}

func writeLoadTable(w io.Writer, rs []peerResult) {
	fmt.Fprintln(w, "| peer | rep | targets | echoes | received | lost | dup | CPU s | µs CPU / echo | max RSS MiB | wall s | load | note |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %.3f | %.1f | %.1f | %.1f | %s | %s |\n",
			r.Peer, r.Rep, r.Targets, r.Requested, r.Counts.Received, r.Lost(), r.Counts.Duplicates,
			r.CPU.Seconds(), r.CPUPer1000()*1000, float64(r.MaxRSSKiB)/1024,
			r.Wall.Seconds(), r.LoadAvg, r.Note)
	}
	fmt.Fprintln(w)
	writeSummary(w, summarize(rs))
}
