package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
// an error of the form "LINE: reason", where LINE is the first line after
// the longest prefix of the file that parses: the line that breaks it. The
// reason never quotes the file's content, which may hold secrets.
func parseEnv(b []byte) (map[string]string, error) {
	m, err := godotenv.UnmarshalBytes(b)
	if err == nil {
		return m, nil
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	bad := len(lines)
	// godotenv reports no position. Values may span lines inside quotes, so
	// the culprit is the line after the longest prefix that still parses.
	for n := len(lines) - 1; n >= 0; n-- {
		if _, perr := godotenv.UnmarshalBytes(bytes.Join(lines[:n], nil)); perr == nil {
			bad = n + 1
			break
		}
	}
	return nil, fmt.Errorf("%d: %s", bad, envReason(err))
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
