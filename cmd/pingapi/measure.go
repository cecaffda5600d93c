package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
	"github.com/pingapi/pingapi/pkg/target"
)

// Exit statuses of `pingapi measure`.
const (
	exitAllAnswered  = 0 // every target answered at least once
	exitSomeSilent   = 1 // at least one target never answered
	exitUsageOrSetup = 2 // bad flags or targets, engine or resolution failure
)

// measureEngine is the part of probe.Engine that measure uses; tests fake it.
type measureEngine interface {
	StartEach(ctx context.Context, req probe.Request, onPacket func(probe.Packet), done func(probe.Result, error))
	Close() error
}

// measureEnv is what runMeasure wires in from the process; tests replace
// every field.
type measureEnv struct {
	open    func(probe.Options) (measureEngine, error)
	resolve func(ctx context.Context, t target.Target, fam target.Family) (netip.Addr, error)
	stdin   io.Reader
}

// runMeasure is `pingapi measure`: see docs/MEASURE.md. SIGINT stops the
// measurements and prints what was measured; a second SIGINT kills the
// process as usual.
func runMeasure(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	context.AfterFunc(ctx, stop)
	return measure(ctx, realMeasureEnv(), args, stdout, stderr)
}

// realMeasureEnv wires measure to the real engine, DNS and stdin. The CLI
// is the operator's own tool: no allow/deny policy applies.
func realMeasureEnv() measureEnv {
	res := &target.Resolver{}
	return measureEnv{
		open: func(o probe.Options) (measureEngine, error) {
			e, err := probe.New(o)
			if err != nil {
				return nil, err
			}
			return e, nil
		},
		resolve: res.Resolve,
		stdin:   os.Stdin,
	}
}

// measureFlags are the parsed command line.
type measureFlags struct {
	count    int
	interval time.Duration
	timeout  time.Duration
	size     int
	ttl      int
	tos      int
	source   string
	v4, v6   bool
	json     bool
	quiet    bool
	counts   int  // -C: as -c, and fping's per-target RTT list
	alive    bool // -a
	unreach  bool // -u
	elapsed  bool // -e
	cidrs    []string
	files    []string
	targets  []string // positional
	archive  string   // --archive: also keep the measurements there (ARCHIVE_DSN syntax)
}

func (f *measureFlags) family() target.Family {
	switch {
	case f.v4:
		return 4
	case f.v6:
		return 6
	}
	return 0
}

const measureUsage = `usage: pingapi measure [-c count | -C count] [-i interval | -p ms] [-W timeout] [-s size]
                       [-t ttl] [-Q tos] [-S source] [-4|-6] [-q] [--json] [-a] [-u] [-e]
                       [--archive DSN]
                       [-g CIDR]... [-f FILE|-]... [TARGET...]`

// parseMeasureFlags parses args; flags and targets may be interleaved, as
// ping(8) allows, and "--" ends the flags.
func parseMeasureFlags(args []string, stderr io.Writer) (measureFlags, error) {
	f := measureFlags{count: 5}
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	// measure prints a parse error once, with the usage; only -h prints
	// the flags' defaults.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.IntVar(&f.count, "c", f.count, "echo requests per target")
	fs.Var((*secondsFlag)(&f.interval), "i", "interval between requests to one target: seconds (0.2) or a duration (200ms); default 1s, minimum 10ms")
	fs.Var((*secondsFlag)(&f.timeout), "W", "per-packet timeout: seconds or a duration; default 2s")
	fs.IntVar(&f.size, "s", 0, "ICMP payload bytes (default 56)")
	fs.IntVar(&f.ttl, "t", 0, "IP TTL / hop limit, 1..255 (default: system)")
	fs.IntVar(&f.tos, "Q", 0, "IPv4 TOS / IPv6 traffic class byte, 0..255")
	fs.StringVar(&f.source, "S", "", "source address")
	fs.BoolVar(&f.v4, "4", false, "IPv4 only")
	fs.BoolVar(&f.v6, "6", false, "IPv6 only")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per target (JSON Lines)")
	fs.BoolVar(&f.quiet, "q", false, "no per-reply lines, only the summaries")
	fs.IntVar(&f.counts, "C", 0, "like -c, and print each target's RTTs on one line as fping -C does (- for a loss)")
	var period int
	fs.IntVar(&period, "p", 0, "fping's period: milliseconds between requests to one target (same as -i)")
	fs.BoolVar(&f.alive, "a", false, "print only the targets that answered, as each completes (fping -a)")
	fs.BoolVar(&f.unreach, "u", false, "print only the targets that never answered, as each completes (fping -u)")
	fs.BoolVar(&f.elapsed, "e", false, "with -a: add the RTT of the first reply (fping -e)")
	fs.StringVar(&f.archive, "archive", "", "also keep the measurements in the archive: a SQLite file (data/archive.db) or postgres://... (as ARCHIVE_DSN)")
	fs.Func("g", "generate targets from a CIDR prefix, like fping -g (repeatable)", func(s string) error {
		f.cidrs = append(f.cidrs, s)
		return nil
	})
	fs.Func("f", "read targets from FILE, one per line, # comments; - is stdin (repeatable)", func(s string) error {
		f.files = append(f.files, s)
		return nil
	})
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(stderr, measureUsage)
				fs.SetOutput(stderr)
				fs.PrintDefaults()
			}
			return f, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// flag stops at the first non-flag; take it and go on, unless the
		// caller ended the flags with "--" (then everything is a target).
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			f.targets = append(f.targets, rest...)
			break
		}
		f.targets = append(f.targets, rest[0])
		args = rest[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	sizeSet := set["s"]
	switch {
	case set["C"] && set["c"]:
		return f, errors.New("-c and -C are mutually exclusive")
	case set["C"]:
		f.count = f.counts
		if f.counts < 1 {
			return f, errors.New("-C must be at least 1")
		}
	}
	switch {
	case set["p"] && set["i"]:
		return f, errors.New("-i and -p are mutually exclusive")
	case set["p"] && period < 10:
		return f, errors.New("-p must be at least 10 (milliseconds)")
	case set["p"]:
		f.interval = time.Duration(period) * time.Millisecond
	}
	switch {
	case f.json && (f.alive || f.unreach):
		return f, errors.New("--json and -a/-u are mutually exclusive")
	case f.json && f.counts > 0:
		return f, errors.New("--json and -C are mutually exclusive (the JSON has every packet)")
	}
	switch {
	case f.count < 1:
		return f, errors.New("-c must be at least 1")
	case f.count > probe.MaxCount:
		return f, fmt.Errorf("-c must be at most %d", probe.MaxCount)
	case f.interval != 0 && f.interval < 10*time.Millisecond:
		return f, errors.New("-i must be at least 10ms")
	case f.timeout < 0:
		return f, errors.New("-W must not be negative")
	case sizeSet && (f.size < probe.MinSize || f.size > probe.MaxSize):
		// Checked here, not by the engine, so that a bad size is a usage
		// error before any output rather than an error per target.
		return f, fmt.Errorf("-s must be within %d..%d (the payload starts with the measurement's %d-byte token)",
			probe.MinSize, probe.MaxSize, probe.MinSize)
	case f.ttl < 0 || f.ttl > 255:
		return f, errors.New("-t must be within 1..255")
	case f.tos < 0 || f.tos > 255:
		return f, errors.New("-Q must be within 0..255")
	case f.v4 && f.v6:
		return f, errors.New("-4 and -6 are mutually exclusive")
	case len(f.targets) == 0 && len(f.cidrs) == 0 && len(f.files) == 0:
		return f, errors.New("no target given")
	}
	return f, nil
}

// secondsFlag is a duration flag that also takes ping's plain seconds
// ("0.2", "1").
type secondsFlag time.Duration

func (s *secondsFlag) String() string { return time.Duration(*s).String() }

func (s *secondsFlag) Set(v string) error {
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs > 3600 {
			return errors.New("out of range")
		}
		*s = secondsFlag(time.Duration(secs * float64(time.Second)))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("want seconds (0.5) or a duration (500ms)")
	}
	if d < 0 || d > time.Hour {
		return errors.New("out of range")
	}
	*s = secondsFlag(d)
	return nil
}

// measure parses args, gathers and resolves the targets, measures them all
// concurrently on one engine, and prints each target's lines as they come.
func measure(ctx context.Context, env measureEnv, args []string, stdout, stderr io.Writer) int {
	f, err := parseMeasureFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "pingapi measure: %v\n%s\n", err, measureUsage)
		}
		return exitUsageOrSetup
	}
	var src netip.Addr
	if f.source != "" {
		if src, err = netip.ParseAddr(f.source); err != nil {
			fmt.Fprintf(stderr, "pingapi measure: -S: %q is not an IP address\n", f.source)
			return exitUsageOrSetup
		}
	}
	inputs, err := gatherTargets(f, env.stdin)
	if err != nil {
		fmt.Fprintf(stderr, "pingapi measure: %v\n", err)
		return exitUsageOrSetup
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := env.open(probe.Options{Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "pingapi measure: %v\n", err)
		return exitUsageOrSetup
	}
	defer eng.Close()

	jobs := resolveAll(ctx, env.resolve, inputs, f.family())
	req := probe.Request{Count: f.count, Interval: f.interval, Timeout: f.timeout, Size: f.size,
		TTL: f.ttl, TOS: f.tos, Source: src}
	var arch *measureArchive
	if f.archive != "" {
		if arch, err = openMeasureArchive(ctx, f.archive, jobs); err != nil {
			fmt.Fprintf(stderr, "pingapi measure: --archive: %v\n", err)
			return exitUsageOrSetup
		}
	}
	out := newMeasureOutput(stdout, stderr, f, jobs)
	for _, j := range jobs {
		if j.err != nil {
			out.failed(j, j.err)
		}
	}
	runJobs(ctx, arch.wrap(eng), jobs, req, out)
	code := out.finish()
	if err := arch.close(); err != nil {
		fmt.Fprintf(stderr, "pingapi measure: --archive: %v\n", err)
		if code == 0 {
			code = exitUsageOrSetup
		}
	}
	return code
}
