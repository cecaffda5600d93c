package main

import (
	"context"
	"io"
	"os"
	"strings"
)

// runPing903q is ping903q's command line on one entry point: with -H it is
// the Nagios check (check), otherwise the query tool (query). It lets the
// seed's Nagios snippet (`ping903q -r -H $HOSTADDRESS$ -w $ARG1$ -c $ARG2$`)
// run with only the program's name changed, once main routes to it (a
// ping903q link to the binary, or `pingapi` called with check's flags).
func runPing903q(args []string, stdout, stderr io.Writer) int {
	return ping903q(context.Background(), args, os.Getenv, stdout, stderr)
}

func ping903q(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if isCheckInvocation(args) {
		return check(ctx, args, getenv, stdout, stderr)
	}
	return query(ctx, args, getenv, stdout, stderr)
}

// isCheckInvocation reports whether args hold ping903q's Nagios flag -H
// (-H HOST or -H=HOST) before any "--".
func isCheckInvocation(args []string) bool {
	for _, a := range args {
		switch {
		case a == "--":
			return false
		case a == "-H", a == "--H", strings.HasPrefix(a, "-H="), strings.HasPrefix(a, "--H="):
			return true
		}
	}
	return false
}
