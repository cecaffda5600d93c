package main

import (
	"fmt"
	"io"
)

func runToken(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "pingapi token: not implemented yet")
	return 2
}
