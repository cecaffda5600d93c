package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pingapi/pingapi/pkg/auth"
	"github.com/pingapi/pingapi/pkg/client"
	"github.com/pingapi/pingapi/pkg/monitor"
)

// connFlags are the server address and token of the client subcommands
// (query, check, match). Precedence: flags, then the environment
// (PINGAPI_URL, PINGAPI_TOKEN), then the credentials file, then the
// default URL.
type connFlags struct {
	url, token, credentials, ping903conf string
	realm                                string        // -R: HTTP Basic realm whose credentials to use
	timeout                              time.Duration // each request; 0: 10 s
}

// timeoutOr is the request time limit, 10 s by default.
func (c connFlags) timeoutOr() time.Duration {
	if c.timeout > 0 {
		return c.timeout
	}
	return 10 * time.Second
}

// credentials reads a credentials file: "key = value" lines (url, token),
// '#' comments. A missing default file is no error.
func readCredentials(path string, explicit bool, stderr io.Writer) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "warning: %s is readable by others (chmod 600 it)\n", path)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || (k != "url" && k != "token") {
			return nil, fmt.Errorf("%s:%d: want url = URL or token = TOKEN", path, line)
		}
		out[k] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return out, sc.Err()
}

// client builds the API client from the flags, the environment and the
// credentials file.
func (c *connFlags) client(getenv func(string) string, stderr io.Writer) (*client.Client, error) {
	url, token := c.url, c.token
	if url == "" {
		url = getenv("PINGAPI_URL")
	}
	if token == "" {
		token = getenv("PINGAPI_TOKEN")
	}
	if url == "" && c.ping903conf != "" {
		mc, err := monitor.LoadConfig(c.ping903conf)
		if err != nil {
			return nil, err
		}
		url = "http://" + mc.Settings.Listen
	}
	if url == "" || token == "" {
		path, explicit := c.credentials, c.credentials != ""
		if !explicit {
			if home := getenv("HOME"); home != "" {
				path = filepath.Join(home, ".pingapi", "credentials")
			}
		}
		if path != "" {
			cred, err := readCredentials(path, explicit, stderr)
			if err != nil {
				return nil, err
			}
			if url == "" {
				url = cred["url"]
			}
			if token == "" {
				token = cred["token"]
			}
		}
	}
	cl, err := client.New(url, token, c.timeoutOr())
	if err != nil {
		return nil, err
	}
	if home := getenv("HOME"); home != "" {
		entries, err := readPing903Cred(filepath.Join(home, ".ping903.cred"))
		if err != nil {
			return nil, err
		}
		if len(entries) > 0 {
			cl.SetBasic(func(host, port, path, realm string) (string, string, bool) {
				e, ok := auth.FindCred(entries, host, port, path, realm)
				return e.User, e.Password, ok
			}, c.realm)
		}
	}
	return cl, nil
}

// readPing903Cred reads ping903q's credentials file (ping903.cred: WHERE
// [REALM] USER PASSWORD lines) for HTTP Basic; a missing file is none.
func readPing903Cred(path string) ([]auth.CredEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return auth.ParseCredFile(f, path)
}

// describeError turns a client error into a plain sentence.
func describeError(cl *client.Client, err error) string {
	var ce *client.Error
	switch {
	case errors.Is(err, client.ErrServerDown):
		return fmt.Sprintf("cannot reach the pingapi server at %s (%s); is it running? set --url or PINGAPI_URL",
			cl.URL(), strings.TrimPrefix(err.Error(), client.ErrServerDown.Error()+": "))
	case errors.Is(err, client.ErrTokenRefused):
		msg := "the server refused the token"
		if errors.As(err, &ce) && ce.Message != "" {
			msg += " (" + ce.Message + ")"
		}
		return msg + "; set --token, PINGAPI_TOKEN or the credentials file"
	}
	return err.Error()
}
