package main

import (
	"fmt"
	"io"
)

func runMeasure(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "pingapi measure: not implemented yet")
	return 2
}
