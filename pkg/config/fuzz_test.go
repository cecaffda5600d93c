package config

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseEnv: a .env file is untrusted bytes. parseEnv never panics, and
// a syntax error names a line of the file and never echoes its content.
func FuzzParseEnv(f *testing.F) {
	for _, s := range []string{
		"", "A=1\n", "A = 1\nB: 2\n", "export A=1", "A=\"multi\nline\"\nB=2",
		"A='x", "LOG-LEVEL=info", "# only a comment\n", "A=${B}\nB=$A",
		"=novalue\n", "A\n", "A=1 # comment\r\nB=\"q\\\"x\"\n", "\xff=\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			return
		}
		m, err := parseEnv(b)
		if err == nil {
			if m == nil {
				t.Fatal("nil map without error")
			}
			return
		}
		msg := err.Error()
		num, reason, ok := strings.Cut(msg, ": ")
		if !ok {
			t.Fatalf("error %q has no line", msg)
		}
		n, aerr := strconv.Atoi(num)
		if lines := bytes.Count(b, []byte("\n")) + 1; aerr != nil || n < 1 || n > lines {
			t.Fatalf("error %q: line out of 1..%d", msg, lines)
		}
		switch {
		case reason == "unterminated quoted value", reason == "expected NAME=value", reason == "syntax error",
			strings.HasPrefix(reason, "unexpected character ") && strings.HasSuffix(reason, " in variable name"):
		default:
			t.Fatalf("unexpected reason %q", reason)
		}
	})
}
