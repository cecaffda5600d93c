package main

import (
	"fmt"
	"io"
)

func runMatch(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "pingapi match: not implemented yet")
	return 2
}
