package main

import (
	"fmt"
	"io"
)

func runQuery(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "pingapi query: not implemented yet")
	return 2
}
