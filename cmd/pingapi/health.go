package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// defaultHealthAddr is where `pingapi serve` listens when LISTEN_ADDR is not
// set (dev mode's loopback default).
const defaultHealthAddr = "127.0.0.1:8080"

// runHealth is the container HEALTHCHECK (the image has no curl): it GETs
// the server's /healthz and exits 0 on 200 OK, 1 otherwise.
func runHealth(args []string, stdout, stderr io.Writer) int {
	return health(context.Background(), args, os.Getenv, stdout, stderr)
}

// health implements runHealth with the environment injected for tests.
// Without --url the address comes from LISTEN_ADDR (see healthURL).
func health(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "URL to GET (default: /healthz on LISTEN_ADDR, or http://127.0.0.1:8080/healthz)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pingapi health: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "pingapi health: --timeout must be positive")
		return 2
	}
	target := *url
	if target == "" {
		var err error
		if target, err = healthURL(getenv("LISTEN_ADDR")); err != nil {
			fmt.Fprintf(stderr, "pingapi health: %v\n", err)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := checkHealth(ctx, target); err != nil {
		fmt.Fprintf(stderr, "pingapi health: %s: %v\n", target, err)
		return 1
	}
	if !*quiet {
		fmt.Fprintf(stdout, "ok %s\n", target)
	}
	return 0
}

// healthURL turns a listen address (host:port, as in LISTEN_ADDR) into the
// URL of its /healthz. An unspecified host (":8080", "0.0.0.0:8080") is
// reached on 127.0.0.1, "[::]:8080" on [::1]. Empty means the default.
func healthURL(listen string) (string, error) {
	listen = strings.TrimSpace(listen)
	if listen == "" {
		listen = defaultHealthAddr
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("LISTEN_ADDR %q: %w", listen, err)
	}
	if port == "" {
		return "", fmt.Errorf("LISTEN_ADDR %q: no port", listen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("LISTEN_ADDR %q: port %q is not a number in 1..65535", listen, port)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	u := "http://" + net.JoinHostPort(host, port) + "/healthz"
	if p, err := url.Parse(u); err != nil || p.Hostname() != host || p.Port() != port {
		return "", fmt.Errorf("LISTEN_ADDR %q: host %q cannot be used in a URL", listen, host)
	}
	return u, nil
}

// checkHealth GETs url once, without proxies or redirects, and returns nil
// on 200 OK. The body is drained up to a small limit so the connection closes
// cleanly.
func checkHealth(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirected")
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
