package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/pingapi/pingapi/pkg/client"
	"github.com/pingapi/pingapi/pkg/wire"
)

// Exit statuses of query, as ping903q's: with one host 0 alive, 2 not
// alive, 3 unknown (not monitored, no data yet, server error); with
// several (or -a) 0 all alive, 1 some, 2 none (3 on a server error).
const (
	exitAlive    = 0
	exitSome     = 1
	exitNotAlive = 2
	exitUnknown  = 3
)

// queryBatchBytes bounds the names of one /host request, so that its URL
// stays far below the server's header limit (16 KiB).
const queryBatchBytes = 4000

// runQuery is `pingapi query`: ping903q's command line (query, match and
// Nagios modes).
func runQuery(args []string, stdout, stderr io.Writer) int {
	return ping903q(context.Background(), args, os.Getenv, stdout, stderr)
}

func query(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return ping903q(ctx, args, getenv, stdout, stderr)
}

// queryHostsCmd is ping903q's query mode: a line per host (and ping(8)'s
// statistics when verbose), and its exit status.
func queryHostsCmd(ctx context.Context, conn connFlags, all, verbose bool, hosts []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cl, err := conn.client(getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ping903q: %v\n", err)
		return exitUnknown
	}
	var alive, total int
	var last wire.Record
	show := func(r wire.Record) {
		total++
		if isAlive(r) {
			alive++
		}
		last = r
		printRecord(stdout, r, verbose)
	}
	if all {
		err = cl.AllHosts(ctx, func(r wire.Record) error { show(r); return nil })
	} else {
		err = queryHosts(ctx, cl, hosts, show, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ping903q: %s\n", describeError(cl, err))
		return exitUnknown
	}
	if !all && len(hosts) == 1 {
		switch {
		case total == 0 || last.Status == wire.StatusInit:
			return exitUnknown
		case isAlive(last):
			return exitAlive
		}
		return exitNotAlive
	}
	if !all {
		total = len(hosts) // hosts not monitored count as not alive
	}
	switch {
	case alive == total:
		return exitAlive
	case alive == 0:
		return exitNotAlive
	}
	return exitSome
}

// queryHosts shows the records of hosts in order, in batches; hosts that
// are not monitored are reported on stderr.
func queryHosts(ctx context.Context, cl *client.Client, hosts []string, show func(wire.Record), stderr io.Writer) error {
	for start := 0; start < len(hosts); {
		end, size := start, 0
		for end < len(hosts) && (end == start || size+len(hosts[end])+1 <= queryBatchBytes) {
			size += len(hosts[end]) + 1
			end++
		}
		batch := hosts[start:end]
		start = end
		recs, err := cl.Hosts(ctx, batch...)
		if err != nil && !errors.Is(err, client.ErrNotMonitored) {
			return err
		}
		byName := make(map[string]wire.Record, len(recs))
		for _, r := range recs {
			byName[r.Name] = r
		}
		for _, h := range batch {
			if r, ok := byName[h]; ok {
				show(r)
			} else {
				fmt.Fprintf(stderr, "%s is not monitored\n", h)
			}
		}
	}
	return nil
}

// isAlive is true for a valid record whose last probe found the host alive.
func isAlive(r wire.Record) bool { return r.Validity && r.Alive }

// printRecord prints "HOST is alive" / "HOST is not alive" and, verbose,
// ping(8)'s summary lines.
func printRecord(w io.Writer, r wire.Record, verbose bool) {
	switch {
	case r.Status == wire.StatusInit:
		fmt.Fprintf(w, "%s: no data yet\n", r.Name)
		return
	case isAlive(r):
		fmt.Fprintf(w, "%s is alive\n", r.Name)
	default:
		fmt.Fprintf(w, "%s is not alive\n", r.Name)
	}
	if !verbose || !r.Validity {
		return
	}
	fmt.Fprintf(w, "--- %s ping statistics ---\n", r.Name)
	ms := int64((r.StopTimestamp - r.StartTimestamp) * 1000)
	dup := ""
	if r.Dup > 0 {
		dup = fmt.Sprintf("+%d duplicates, ", r.Dup)
	}
	fmt.Fprintf(w, "%d packets transmitted, %d received, %s%s%% packet loss, time %dms\n",
		r.Xmit, r.Recv, dup, pingLoss(r.Xmit, r.Recv), ms)
	if r.Recv > 0 {
		fmt.Fprintf(w, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", r.TMin, r.Avg, r.TMax, r.StdDev)
	}
}

// pingLoss formats the loss as ping(8) (iputils) does: a C float printed
// with %g, six significant digits: 1 of 3 lost is 33.3333.
func pingLoss(xmit, recv int) string {
	if xmit <= 0 {
		return "0"
	}
	loss := float32(float64(xmit-recv) * 100 / float64(xmit))
	return strconv.FormatFloat(float64(loss), 'g', 6, 64)
}
