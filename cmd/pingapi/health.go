package main

import (
	"fmt"
	"io"
)

func runHealth(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "pingapi health: not implemented yet")
	return 2
}
