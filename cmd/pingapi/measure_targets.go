package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pingapi/pingapi/pkg/target"
)

// maxMeasureTargets caps the targets of one `pingapi measure`, whatever
// their source (arguments, -g, -f): 1,048,576, a /12 of IPv4 or a /108 of
// IPv6. A target costs about 1 KB while it is measured (docs/MEASURE.md).
const maxMeasureTargets = 1 << 20

// maxLineBytes bounds one line of a -f file.
const maxLineBytes = 4096

// gatherTargets collects the target inputs in order: positional arguments,
// then each -g prefix, then each -f file. Every input is checked with
// target.Parse; the total is capped at maxMeasureTargets.
func gatherTargets(f measureFlags, stdin io.Reader) ([]target.Target, error) {
	var out []target.Target
	add := func(where, s string) error {
		if len(out) >= maxMeasureTargets {
			return fmt.Errorf("too many targets: more than %d", maxMeasureTargets)
		}
		t, err := target.Parse(s)
		if err != nil {
			return fmt.Errorf("%s%v", where, err)
		}
		out = append(out, t)
		return nil
	}
	for _, s := range f.targets {
		if err := add("", s); err != nil {
			return nil, err
		}
	}
	for _, c := range f.cidrs {
		addrs, err := expandCIDR(c, maxMeasureTargets-len(out))
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			out = append(out, target.Target{Input: a.String(), Addr: a})
		}
	}
	for _, name := range f.files {
		r := stdin
		if name != "-" {
			fh, err := os.Open(name)
			if err != nil {
				return nil, fmt.Errorf("-f: %w", err)
			}
			defer fh.Close()
			r = fh
		}
		lines, err := parseTargetList(r, name, maxMeasureTargets-len(out))
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if err := add(fmt.Sprintf("%s:%d: ", name, l.line), l.text); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// listLine is one target of a -f file and its 1-based line number.
type listLine struct {
	line int
	text string
}

// parseTargetList reads a target list: one target per line, anything from
// '#' to the end of the line is a comment, surrounding blanks are ignored,
// blank lines are skipped. A line with two words, a line longer than
// maxLineBytes, or more than limit targets is an error naming the line.
// It does not validate the targets themselves.
func parseTargetList(r io.Reader, name string, limit int) ([]listLine, error) {
	var out []listLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if strings.ContainsAny(text, " \t\v\f\r") {
			return nil, fmt.Errorf("%s:%d: one target per line", name, n)
		}
		if len(out) >= limit {
			return nil, fmt.Errorf("%s:%d: too many targets (at most %d in all)", name, n, maxMeasureTargets)
		}
		out = append(out, listLine{line: n, text: text})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", name, n+1, maxLineBytes)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// expandCIDR returns the addresses of prefix s, like fping -g: an IPv4
// prefix of /30 or shorter omits its network and broadcast addresses; /31,
// /32 and IPv6 prefixes give every address. Host bits in s are ignored
// (192.0.2.7/24 is 192.0.2.0/24). More than limit addresses is an error
// saying how many the prefix holds.
func expandCIDR(s string, limit int) ([]netip.Addr, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("-g: %q is not a CIDR prefix (like 192.0.2.0/24)", s)
	}
	if p.Addr().Zone() != "" {
		return nil, fmt.Errorf("-g: %q: zones are not accepted", s)
	}
	p = p.Masked()
	hostBits := p.Addr().BitLen() - p.Bits()
	skipEnds := p.Addr().Is4() && hostBits >= 2
	size := new(big.Int).Lsh(big.NewInt(1), uint(hostBits))
	if skipEnds {
		size.Sub(size, big.NewInt(2))
	}
	if !size.IsInt64() || size.Int64() > int64(limit) {
		return nil, fmt.Errorf("-g: %s holds %s addresses; at most %d targets in all", p, size, limit)
	}
	n := int(size.Int64())
	out := make([]netip.Addr, 0, n)
	a := p.Addr()
	if skipEnds {
		a = a.Next()
	}
	for range n {
		out = append(out, a)
		a = a.Next()
	}
	return out, nil
}

// job is one target to measure: all measure keeps of it while it runs
// (its result is written as soon as it is complete, then dropped).
type job struct {
	t    target.Target
	addr netip.Addr
	err  error // resolution error
	// fping's reply lines: requests handed out and replies so far, and
	// the sum of their RTTs (guarded by measureOutput.mu)
	seen, recv int32
	rttSum     time.Duration
}

// resolveAll resolves every target with at most resolveParallel lookups at
// a time; IP literals cost nothing. Failures stay on their job.
func resolveAll(ctx context.Context, resolve func(context.Context, target.Target, target.Family) (netip.Addr, error),
	ts []target.Target, fam target.Family) []*job {
	const resolveParallel = 32
	jobs := make([]*job, len(ts))
	sem := make(chan struct{}, resolveParallel)
	var wg sync.WaitGroup
	for i, t := range ts {
		jobs[i] = &job{t: t}
		j := jobs[i]
		if t.IsLiteral() {
			j.addr, j.err = resolve(ctx, t, fam) // checks the family, unmaps
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			j.addr, j.err = resolve(ctx, t, fam)
		})
	}
	wg.Wait()
	return jobs
}
