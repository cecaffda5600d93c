package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pingapi/pingapi/pkg/auth"
)

// defaultDataDir is the data directory when neither --data-dir nor DATA_DIR
// is given; relative to the working directory, as in serve.
const defaultDataDir = "data"

// runToken mints a dev-mode token from the data directory's signing key
// (creating the key if it does not exist yet) and prints only the token.
func runToken(args []string, stdout, stderr io.Writer) int {
	return token(args, os.Getenv, stdout, stderr)
}

// scopeFlag collects --scope values; each may hold several space-separated
// scopes. Once set, it replaces the default scopes.
type scopeFlag struct {
	set    bool
	scopes []string
}

func (s *scopeFlag) String() string { return strings.Join(s.scopes, " ") }

func (s *scopeFlag) Set(v string) error {
	s.set = true
	s.scopes = append(s.scopes, strings.Fields(v)...)
	return nil
}

// token implements runToken with the environment injected for tests.
func token(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pingapi token [--ttl D] [--sub S] [--scope S]... [--data-dir DIR]")
		fmt.Fprintln(stderr, "\nPrints a dev-mode token signed by the key under the data directory, which")
		fmt.Fprintln(stderr, "`pingapi serve` in dev mode (no AUTH0_DOMAIN, no AUTH_JWKS_URL) accepts.")
		fmt.Fprintln(stderr, "Without --data-dir or DATA_DIR it uses the data directory of the last")
		fmt.Fprintln(stderr, "dev-mode server (recorded in ~/.config/pingapi/dev-server), else ./data;")
		fmt.Fprintln(stderr, "standard error names the key used.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	dataDir := getenv("DATA_DIR")
	if dataDir == "" {
		dataDir = defaultDataDir
	}
	ttl := fs.Duration("ttl", time.Hour, "lifetime of the token (e.g. 30m, 24h)")
	sub := fs.String("sub", "dev", "subject (sub claim); per-subject limits apply to it")
	var scopes scopeFlag
	fs.Var(&scopes, "scope", "scope to grant; repeatable or space-separated (default \""+strings.Join(auth.DefaultDevScopes, " ")+"\"; --scope '' grants none)")
	dir := fs.String("data-dir", dataDir, "data directory holding the dev signing key (default $DATA_DIR, else ./data)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pingapi token: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *ttl <= 0 || *ttl > auth.MaxDevTTL {
		fmt.Fprintf(stderr, "pingapi token: --ttl must be between 1s and %v, got %v\n", auth.MaxDevTTL, *ttl)
		return 2
	}
	if strings.TrimSpace(*sub) == "" {
		fmt.Fprintln(stderr, "pingapi token: --sub must not be empty")
		return 2
	}
	granted := auth.DefaultDevScopes
	if scopes.set {
		granted = scopes.scopes
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "pingapi token: --data-dir must not be empty")
		return 2
	}
	// Which key: the data directory given (--data-dir, DATA_DIR), else the
	// one of the last dev-mode server, else ./data.
	given := getenv("DATA_DIR") != ""
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "data-dir" })
	why := "the data directory given"
	if !given {
		why = "./" + defaultDataDir + ", the default"
		if d, ok := devServerDataDir(getenv); ok {
			*dir, why = d, "the data directory of the last `pingapi serve` in dev mode (recorded in "+devStatePath(getenv)+")"
		}
	}
	created := !hasDevKey(*dir)
	dev, err := auth.LoadOrCreateDev(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "pingapi token: %v\n", err)
		return 2
	}
	keyPath := dev.Path()
	if abs, err := filepath.Abs(keyPath); err == nil {
		keyPath = abs
	}
	switch {
	case created && given:
		fmt.Fprintf(stderr, "pingapi token: created the signing key %s (kid %s)\n", keyPath, dev.KeyID())
	case created:
		fmt.Fprintf(stderr, "pingapi token: warning: created a NEW signing key %s (kid %s) in %s: a `pingapi serve` with another DATA_DIR will refuse this token; use --data-dir DIR of the server\n",
			keyPath, dev.KeyID(), why)
	default:
		fmt.Fprintf(stderr, "pingapi token: signed with %s (kid %s), from %s\n", keyPath, dev.KeyID(), why)
	}
	tok, err := dev.Mint(*sub, *ttl, granted)
	if err != nil {
		fmt.Fprintf(stderr, "pingapi token: %v\n", err)
		return 2
	}
	for _, v := range []string{"AUTH0_DOMAIN", "AUTH_JWKS_URL"} {
		if getenv(v) != "" {
			fmt.Fprintf(stderr, "pingapi token: warning: %s is set, so `pingapi serve` runs in production mode and will reject this dev token\n", v)
			break
		}
	}
	fmt.Fprintln(stdout, tok)
	return 0
}
