package config

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/joho/godotenv"
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
		// The line named holds the culprit: the unexpected character, or
		// the opening quote of the unterminated value.
		text := string(bytes.Split(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"))[n-1])
		gerr := godotenvErr(b).Error()
		var culprit string
		if q, ok := strings.CutPrefix(gerr, "unterminated quoted value "); ok && q != "" {
			culprit = q[:1]
		} else if rest, ok := strings.CutPrefix(gerr, "unexpected character "); ok {
			if c, _, ok := strings.Cut(rest, " in variable name"); ok {
				culprit, _ = strconv.Unquote(c)
				// godotenv names the byte as a rune: string(rune(byte)).
				if r := []rune(culprit); len(r) == 1 && r[0] < 0x100 {
					culprit = string([]byte{byte(r[0])})
				}
			}
		}
		if culprit != "" && culprit != "\n" && !strings.Contains(text, culprit) {
			t.Fatalf("error %q names line %d %q, which lacks %q", msg, n, text, culprit)
		}
		switch {
		case reason == "unterminated quoted value", reason == "expected NAME=value", reason == "syntax error",
			strings.HasPrefix(reason, "unexpected character ") && strings.HasSuffix(reason, " in variable name"):
		default:
			t.Fatalf("unexpected reason %q", reason)
		}
	})
}

func godotenvErr(b []byte) error {
	_, err := godotenv.UnmarshalBytes(b)
	return err
}
