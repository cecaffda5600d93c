package main

import (
	"os"
	"testing"
)

// TestMain points the dev server's record (see devstate.go) at a temporary
// directory: the tests run serve in dev mode and must not rewrite the
// developer's ~/.config/pingapi/dev-server.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pingapi-test-config-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
