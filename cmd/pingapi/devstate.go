package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/pingapi/pingapi/pkg/auth"
)

// The dev server's record: `pingapi serve` in dev mode writes the absolute
// path of its data directory to $XDG_CONFIG_HOME/pingapi/dev-server (or
// ~/.config/pingapi/dev-server), so that `pingapi token`, run from any
// directory, signs with the key that server accepts instead of creating a
// new one under ./data.

// devStatePath returns the record's path, "" when no home is known.
func devStatePath(getenv func(string) string) string {
	base := getenv("XDG_CONFIG_HOME")
	if base == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "pingapi", "dev-server")
}

// recordDevServer writes dataDir (made absolute) to the record.
func recordDevServer(getenv func(string) string, dataDir string) error {
	path := devStatePath(getenv)
	if path == "" {
		return errors.New("no HOME nor XDG_CONFIG_HOME")
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(abs+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// devServerDataDir returns the data directory the record names when it
// holds a dev signing key.
func devServerDataDir(getenv func(string) string) (string, bool) {
	path := devStatePath(getenv)
	if path == "" {
		return "", false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	dir := strings.TrimSpace(string(b))
	if !filepath.IsAbs(dir) || !hasDevKey(dir) {
		return "", false
	}
	return dir, true
}

func hasDevKey(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, auth.DevKeyFile))
	return err == nil
}
