package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pingapi/pingapi/pkg/tcpecho"
)

// runAgent is `pingapi agent`: the client of the TCP echo service. It
// runs until SIGTERM or SIGINT.
func runAgent(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return agentMain(ctx, args, stderr)
}

// agentMain parses the flags and runs the agent until ctx is done. Exit
// status: 0 after a signal, 2 for a usage error.
func agentMain(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pingapi agent --server HOST:PORT [--tls] [--token-file F | --key-file F] [--name NAME] [--ca-file F]")
		fmt.Fprintln(stderr, "\nConnects to a pingapi server's TCP echo listener and echoes every byte it")
		fmt.Fprintln(stderr, "receives, so that the server measures the round trip to this host; reconnects")
		fmt.Fprintln(stderr, "with exponential backoff and jitter. Plain mode (TCPECHO_LISTEN) needs only")
		fmt.Fprintln(stderr, "--server; --tls (TCPECHO_TLS_LISTEN) needs a credential and a --name.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	server := fs.String("server", "", "`HOST:PORT` of the server's TCP echo listener")
	useTLS := fs.Bool("tls", false, "connect with TLS and authenticate (the server's TCPECHO_TLS_LISTEN)")
	tokenFile := fs.String("token-file", "", "`FILE` holding a bearer token with the server's agent scope (echo:agent); read at every connection")
	keyFile := fs.String("key-file", "", "`FILE` holding an archive key, instead of --token-file")
	host, _ := os.Hostname()
	name := fs.String("name", host, "`NAME` announced to the server (letters, digits, '.', '_', '-'; default: the host name)")
	caFile := fs.String("ca-file", "", "PEM `FILE` of the CA that signed the server's certificate (default: the system's roots)")
	serverName := fs.String("server-name", "", "name to verify the server's certificate against (default: HOST of --server)")
	idle := fs.Duration("idle-timeout", tcpecho.DefaultAgentIdleTimeout, "reconnect after this long without a probe from the server")
	maxBackoff := fs.Duration("max-backoff", tcpecho.DefaultAgentMaxBackoff, "longest wait between two connection attempts")
	logFormat := fs.String("log-format", "text", "text or json, written to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "pingapi agent: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected argument %q", fs.Arg(0))
	case *server == "":
		return usageErr("--server HOST:PORT is required")
	case *logFormat != "text" && *logFormat != "json":
		return usageErr("--log-format must be text or json")
	case *idle <= 0 || *maxBackoff <= 0:
		return usageErr("--idle-timeout and --max-backoff must be positive")
	}
	if _, _, err := net.SplitHostPort(*server); err != nil {
		return usageErr("--server %q: want HOST:PORT", *server)
	}
	var log *slog.Logger
	if *logFormat == "json" {
		log = slog.New(slog.NewJSONHandler(stderr, nil))
	} else {
		log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	a := &tcpecho.Agent{Server: *server, IdleTimeout: *idle, MaxBackoff: *maxBackoff, Logger: log}
	if *useTLS {
		if (*tokenFile == "") == (*keyFile == "") {
			return usageErr("--tls needs exactly one of --token-file and --key-file")
		}
		if err := tcpecho.CheckName(*name); err != nil {
			return usageErr("--name %q: %v", *name, err)
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: *serverName}
		if *caFile != "" {
			pem, err := os.ReadFile(*caFile)
			if err != nil {
				return usageErr("%v", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return usageErr("--ca-file %s: no PEM certificate in it", *caFile)
			}
		}
		scheme, file := "Bearer", *tokenFile
		if *keyFile != "" {
			scheme, file = "Key", *keyFile
		}
		// Read at every connection: a token refreshed in place is picked up.
		a.Credential = func() (string, string, error) {
			b, err := os.ReadFile(file)
			if err != nil {
				return "", "", err
			}
			cred := strings.TrimSpace(string(b))
			if cred == "" {
				return "", "", fmt.Errorf("%s is empty", file)
			}
			return scheme, cred, nil
		}
		a.TLS, a.Name = cfg, *name
	} else if *tokenFile != "" || *keyFile != "" {
		log.Warn("agent: --token-file and --key-file are only used with --tls; the plain listener asks for no credential")
	}
	log.Info("agent starting", "server", *server, "tls", *useTLS, "name", a.Name, "max_backoff", *maxBackoff)
	start := time.Now()
	_ = a.Run(ctx)
	log.Info("agent stopped", "ran", time.Since(start).Round(time.Second))
	return 0
}
