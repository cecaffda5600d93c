package config

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// TCPEcho is the TCP echo service's part of Config (TCPECHO_*). Both
// listeners empty: the service is off.
type TCPEcho struct {
	Listen    string // TCPECHO_LISTEN: host:port of the plain listener; "" off
	TLSListen string // TCPECHO_TLS_LISTEN: host:port of the authenticated TLS listener; "" off
	TLSCert   string // TCPECHO_TLS_CERT: PEM certificate chain file
	TLSKey    string // TCPECHO_TLS_KEY: PEM private key file

	Interval        time.Duration // TCPECHO_INTERVAL: between probes to one client
	Timeout         time.Duration // TCPECHO_TIMEOUT: an echo later than this is lost
	SilentIntervals int           // TCPECHO_SILENT_INTERVALS: K
	MaxClients      int           // TCPECHO_MAX_CLIENTS
	MaxPerAddr      int           // TCPECHO_MAX_PER_ADDR
	Window          time.Duration // TCPECHO_WINDOW: archive record length
	AgentScope      string        // TCPECHO_AGENT_SCOPE: scope an agent's token needs
}

// Enabled reports whether either listener is configured.
func (t TCPEcho) Enabled() bool { return t.Listen != "" || t.TLSListen != "" }

// tcpEcho reads the TCPECHO_* variables.
func (b *builder) tcpEcho() TCPEcho {
	var t TCPEcho
	t.Listen = b.hostPort("TCPECHO_LISTEN")
	t.TLSListen = b.hostPort("TCPECHO_TLS_LISTEN")
	t.TLSCert, _ = b.str("TCPECHO_TLS_CERT", "")
	t.TLSKey, _ = b.str("TCPECHO_TLS_KEY", "")
	if v, from := b.str("TCPECHO_TLS_LISTEN", ""); t.TLSListen != "" && (t.TLSCert == "" || t.TLSKey == "") {
		b.fail("TCPECHO_TLS_LISTEN", v, from, "needs TCPECHO_TLS_CERT and TCPECHO_TLS_KEY (PEM files, e.g. the certificates NGINX uses)")
	}
	t.Interval = b.duration("TCPECHO_INTERVAL", 3*time.Second, 100*time.Millisecond, time.Hour)
	t.Timeout = b.duration("TCPECHO_TIMEOUT", min(2*time.Second, t.Interval), time.Millisecond, 8*time.Hour)
	if v, from := b.str("TCPECHO_TIMEOUT", ""); v != "" && t.Timeout > 8*t.Interval {
		b.fail("TCPECHO_TIMEOUT", v, from, fmt.Sprintf("must be at most 8 intervals (%v)", 8*t.Interval))
	}
	t.SilentIntervals = b.integer("TCPECHO_SILENT_INTERVALS", 5, 1, 1000)
	t.MaxClients = b.integer("TCPECHO_MAX_CLIENTS", 10000, 1, 10_000_000)
	t.MaxPerAddr = b.integer("TCPECHO_MAX_PER_ADDR", 64, 1, 10_000_000)
	t.Window = b.duration("TCPECHO_WINDOW", time.Minute, time.Second, 24*time.Hour)
	if v, from := b.str("TCPECHO_WINDOW", ""); v != "" && (t.Window < t.Interval || t.Window < t.Timeout) {
		b.fail("TCPECHO_WINDOW", v, from, "must be at least TCPECHO_INTERVAL and TCPECHO_TIMEOUT")
	} else if v != "" && t.Window%time.Second != 0 {
		b.fail("TCPECHO_WINDOW", v, from, "must be a whole number of seconds (the archive's timestamps are seconds)")
	}
	t.AgentScope = b.scope("TCPECHO_AGENT_SCOPE")
	if t.AgentScope == "" {
		t.AgentScope = "echo:agent"
	}
	return t
}

// hostPort validates an optional host:port listen address.
func (b *builder) hostPort(name string) string {
	v, from := b.str(name, "")
	if v == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		b.fail(name, v, from, "must be host:port, e.g. :7007 or 127.0.0.1:7007")
		return ""
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		b.fail(name, v, from, "port must be a number from 0 to 65535")
		return ""
	}
	return v
}
