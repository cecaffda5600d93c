package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/pingapi/pingapi/pkg/archive"
	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/config"
)

// archiveCmdTimeout bounds one archive command (opening the database,
// migrations, one statement).
const archiveCmdTimeout = time.Minute

// runArchive is `pingapi archive key create|list|revoke`: the archive's
// write keys, managed in the archive's database directly, so it works
// whether the server runs or not (SQLite in WAL mode and PostgreSQL both
// take a second writer).
func runArchive(args []string, stdout, stderr io.Writer) int {
	return archiveCmd(args, os.LookupEnv, stdout, stderr)
}

func archiveUsage(w io.Writer) {
	fmt.Fprintln(w, `usage: pingapi archive key create NAME [--data-dir DIR] [--env-file FILE]
       pingapi archive key list             [--data-dir DIR] [--env-file FILE]
       pingapi archive key revoke NAME      [--data-dir DIR] [--env-file FILE]

Archive keys let esmond's writers (pScheduler's esmond archiver, esmond's
Python client, curl) write to /esmond/perfsonar/archive/ with
"Authorization: Token <key>". create prints the new key alone on the last
line of standard output; only its hash is stored, so it cannot be shown
again. The archive is the one serve uses: ARCHIVE_DSN and DATA_DIR from the
environment, the .env file or the flags.`)
}

// archiveCmd implements runArchive with the environment injected.
func archiveCmd(args []string, lookup config.LookupFunc, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "key" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			archiveUsage(stdout)
			return 0
		}
		archiveUsage(stderr)
		return 2
	}
	if len(args) < 2 {
		archiveUsage(stderr)
		return 2
	}
	verb := args[1]
	fs := flag.NewFlagSet("archive key "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { archiveUsage(stderr) }
	dataDir := fs.String("data-dir", "", "data directory (default $DATA_DIR, else ./data)")
	envFile := fs.String("env-file", "", "the .env file serve reads (default ./.env)")
	// Flags may come before or after NAME.
	var pos []string
	rest := args[2:]
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	want := map[string]int{"create": 1, "list": 0, "revoke": 1}
	n, known := want[verb]
	if !known {
		fmt.Fprintf(stderr, "pingapi archive key: unknown command %q (create, list, revoke)\n", verb)
		return 2
	}
	if len(pos) != n {
		archiveUsage(stderr)
		return 2
	}
	var cargs []string
	if *dataDir != "" {
		cargs = append(cargs, "--data-dir", *dataDir)
	}
	if *envFile != "" {
		cargs = append(cargs, "--env-file", *envFile)
	}
	cfg, err := config.Load(cargs, lookup)
	if err != nil {
		fmt.Fprintf(stderr, "pingapi archive: %v\n", err)
		return 2
	}
	if !cfg.Archive.Enabled() {
		fmt.Fprintln(stderr, "pingapi archive: the archive is off (ARCHIVE_DSN=off)")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), archiveCmdTimeout)
	defer cancel()
	st, err := archive.Open(ctx, archive.Options{DSN: cfg.Archive.DSN, DataDir: cfg.DataDir})
	if err != nil {
		fmt.Fprintf(stderr, "pingapi archive: %v\n", err)
		return 1
	}
	defer st.Close()
	switch verb {
	case "create":
		return archiveKeyCreate(ctx, st, pos[0], stdout, stderr)
	case "revoke":
		return archiveKeyRevoke(ctx, st, pos[0], stdout, stderr)
	}
	return archiveKeyList(ctx, st, stdout, stderr)
}

// checkKeyName accepts 1..64 printable characters without spaces.
func checkKeyName(name string) error {
	if name == "" || len(name) > 64 {
		return errors.New("a key name has 1 to 64 characters")
	}
	for _, r := range name {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return errors.New("a key name has no spaces or control characters")
		}
	}
	return nil
}

func archiveKeyCreate(ctx context.Context, st *archive.Store, name string, stdout, stderr io.Writer) int {
	if err := checkKeyName(name); err != nil {
		fmt.Fprintf(stderr, "pingapi archive key create: %v\n", err)
		return 2
	}
	key, hash, err := auth.NewArchiveKey()
	if err != nil {
		fmt.Fprintf(stderr, "pingapi archive key create: %v\n", err)
		return 1
	}
	switch err := st.CreateAPIKey(ctx, name, hash); {
	case errors.Is(err, archive.ErrExists):
		fmt.Fprintf(stderr, "pingapi archive key create: a key named %q exists (revoked keys keep their name)\n", name)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "pingapi archive key create: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "archive key %q created; it is shown only now. Writers send it as \"Authorization: Token <key>\".\n", name)
	fmt.Fprintln(stdout, key)
	return 0
}

func archiveKeyRevoke(ctx context.Context, st *archive.Store, name string, stdout, stderr io.Writer) int {
	switch err := st.RevokeAPIKey(ctx, name); {
	case errors.Is(err, archive.ErrNotFound):
		fmt.Fprintf(stderr, "pingapi archive key revoke: no key named %q\n", name)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "pingapi archive key revoke: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "archive key %q revoked\n", name)
	return 0
}

func archiveKeyList(ctx context.Context, st *archive.Store, stdout, stderr io.Writer) int {
	keys, err := st.APIKeys(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "pingapi archive key list: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tSTATUS")
	for _, k := range keys {
		status := "active"
		if !k.Revoked.IsZero() {
			status = "revoked " + k.Revoked.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.ReplaceAll(k.Name, "\t", " "), k.Created.UTC().Format(time.RFC3339), status)
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}
