package main

import (
	"fmt"
	"io"
)

func runVersion(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "pingapi version: not implemented yet")
	return 2
}
