package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func runMatch(args []string, stdout, stderr io.Writer) int {
	return match(context.Background(), args, os.Getenv, stdout, stderr)
}

// match prints the monitored names of each HOST (an address or a
// hostname): one per line for one HOST, "HOST: NAME..." for several. Exit 0
// when every HOST is monitored, 2 when one is not, 3 on an error.
func match(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pingapi match", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn connFlags
	conn.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pingapi match [--url URL] [--token TOKEN] HOST...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUnknown
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUnknown
	}
	cl, err := conn.client(getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "pingapi match: %v\n", err)
		return exitUnknown
	}
	res, err := cl.Match(ctx, fs.Args()...)
	if err != nil {
		fmt.Fprintf(stderr, "pingapi match: %s\n", describeError(cl, err))
		return exitUnknown
	}
	status := exitAlive
	for _, m := range res {
		if m.Error != "" {
			fmt.Fprintf(stderr, "%s: %s\n", m.Name, m.Error)
		}
		if len(m.Hosts) == 0 {
			status = exitNotAlive
		}
		if fs.NArg() == 1 {
			for _, h := range m.Hosts {
				fmt.Fprintln(stdout, h)
			}
			continue
		}
		fmt.Fprintf(stdout, "%s: %s\n", m.Name, strings.Join(m.Hosts, " "))
	}
	if len(res) == 0 {
		status = exitNotAlive
	}
	return status
}
