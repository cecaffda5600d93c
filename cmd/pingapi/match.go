package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

func runMatch(args []string, stdout, stderr io.Writer) int {
	return match(context.Background(), args, os.Getenv, stdout, stderr)
}

// match is `pingapi match HOST...`, ping903q -m.
func match(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return ping903q(ctx, append([]string{"-m"}, args...), getenv, stdout, stderr)
}

// matchHosts is ping903q's match mode: the monitored names of each HOST
// (an address or a hostname): one per line for one HOST, "HOST: NAME..."
// for several. Exit 0 when every HOST is monitored, 2 when one is not, 3
// on an error.
func matchHosts(ctx context.Context, conn connFlags, hosts []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cl, err := conn.client(getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ping903q: %v\n", err)
		return exitUnknown
	}
	res, err := cl.Match(ctx, hosts...)
	if err != nil {
		fmt.Fprintf(stderr, "ping903q: %s\n", describeError(cl, err))
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
		if len(hosts) == 1 {
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
