package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/joho/godotenv"
)

// maxEnvFileBytes bounds the .env file: it is a handful of lines, and the
// line search on a parse error is quadratic in the number of lines.
const maxEnvFileBytes = 1 << 20

// readEnvFile reads a .env file with godotenv's syntax. A missing file
// returns (nil, nil) when missingOK; any other failure is an error naming the
// file and, for a syntax error, its line.
func readEnvFile(path string, missingOK bool) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if missingOK && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("env file: %w", err)
	}
	if len(b) > maxEnvFileBytes {
		return nil, fmt.Errorf("env file %s: larger than %d bytes", path, maxEnvFileBytes)
	}
	m, err := parseEnv(b)
	if err != nil {
		return nil, fmt.Errorf("env file %s:%w", path, err)
	}
	return m, nil
}

// parseEnv parses the bytes of a .env file. On a syntax error it returns
// an error of the form "LINE: reason" naming the line that breaks the file.
// The reason never quotes the file's content, which may hold secrets.
func parseEnv(b []byte) (map[string]string, error) {
	m, err := godotenv.UnmarshalBytes(b)
	if err == nil {
		return m, nil
	}
	line := errorLine(b, err)
	if line == 0 {
		line = errorLineSearch(b)
	}
	return nil, fmt.Errorf("%d: %s", line, envReason(err))
}

// maxSearchLines bounds errorLineSearch, which is quadratic.
const maxSearchLines = 5000

// errorLine locates a godotenv error from its message, which reports no
// position but quotes what it was parsing: for a bad name, the rest of the
// file from the statement's start; for an unterminated quote, the value,
// whose opening quote is the file's last unescaped quote of that kind. It
// returns 0 when the message does not say.
func errorLine(b []byte, err error) int {
	norm := bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) // as godotenv parses it
	lineAt := func(off int) int { return bytes.Count(norm[:off], []byte("\n")) + 1 }
	msg := err.Error()
	if strings.HasPrefix(msg, "unexpected character") {
		if i := strings.Index(msg, " near "); i >= 0 {
			if rest, uerr := strconv.Unquote(msg[i+len(" near "):]); uerr == nil && bytes.HasSuffix(norm, []byte(rest)) {
				return lineAt(len(norm) - len(rest))
			}
		}
	}
	if v, ok := strings.CutPrefix(msg, "unterminated quoted value "); ok && v != "" {
		q := v[0]
		for i := len(norm) - 1; i >= 0; i-- {
			if norm[i] == q && (i == 0 || norm[i-1] != '\\') {
				return lineAt(i)
			}
		}
	}
	return 0
}

// errorLineSearch is the fallback: the line after the longest prefix of the
// file that still parses (values may span lines inside quotes). Past
// maxSearchLines it gives up and blames the last line.
func errorLineSearch(b []byte) int {
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) > maxSearchLines {
		return len(lines)
	}
	for n := len(lines) - 1; n >= 0; n-- {
		if _, err := godotenv.UnmarshalBytes(bytes.Join(lines[:n], nil)); err == nil {
			return n + 1
		}
	}
	return 1
}

// envReason keeps the part of a godotenv error that does not repeat the
// file's content.
func envReason(err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "unterminated quoted value"):
		return "unterminated quoted value"
	case strings.HasPrefix(msg, "unexpected character"):
		if i := strings.Index(msg, " near "); i >= 0 {
			msg = msg[:i]
		}
		return msg
	case msg == "zero length string":
		return "expected NAME=value"
	}
	return "syntax error"
}
