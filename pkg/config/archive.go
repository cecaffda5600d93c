package config

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Archive is the measurement archive's part of Config.
type Archive struct {
	// DSN (ARCHIVE_DSN): "" is a SQLite file under DATA_DIR,
	// postgres://... PostgreSQL, "off" no archive at all.
	DSN string
	// Agent (ARCHIVE_AGENT) is the measurement-agent this instance stamps
	// on its measurements; invalid (unset): the address each target is
	// probed from.
	Agent netip.Addr
	// RetentionRaw (ARCHIVE_RETENTION_RAW) is how long base data are kept.
	RetentionRaw time.Duration
	// RetentionSummaries (ARCHIVE_RETENTION_SUMMARIES) is how long the
	// hourly and daily summaries of pingapi's measurements are kept.
	RetentionSummaries time.Duration
	// RetentionEventTypes (ARCHIVE_RETENTION) overrides RetentionRaw for
	// clients' data of some event types.
	RetentionEventTypes map[string]time.Duration
	// QueueSize (ARCHIVE_QUEUE_SIZE) bounds the measurements waiting to be
	// archived; beyond it they are dropped and counted.
	QueueSize int
}

// Enabled reports whether the archive is on.
func (a Archive) Enabled() bool { return a.DSN != "off" }

// archive reads the ARCHIVE_* variables.
func (b *builder) archive() Archive {
	var a Archive
	a.DSN, _ = b.str("ARCHIVE_DSN", "")
	if v, from := b.str("ARCHIVE_AGENT", ""); v != "" {
		ip, err := netip.ParseAddr(v)
		if err != nil {
			b.fail("ARCHIVE_AGENT", v, from, "must be an IP address (the measurement-agent)")
		} else {
			a.Agent = ip.WithZone("")
		}
	}
	a.RetentionRaw = b.retention("ARCHIVE_RETENTION_RAW", 180*24*time.Hour, "180d, 26w, 1y, 4320h")
	a.RetentionSummaries = b.retention("ARCHIVE_RETENTION_SUMMARIES", 5*365*24*time.Hour, "5y, 730d, 8760h")
	if v, from := b.str("ARCHIVE_RETENTION", ""); v != "" {
		a.RetentionEventTypes = map[string]time.Duration{}
		for _, item := range splitList(v) {
			name, dur, ok := strings.Cut(item, "=")
			d, err := parseDays(strings.TrimSpace(dur))
			if !ok || strings.TrimSpace(name) == "" || err != nil || d < time.Hour {
				b.fail("ARCHIVE_RETENTION", v, from, "must be a list of event-type=duration (packet-trace=30d,throughput=1y), each at least 1h")
				break
			}
			a.RetentionEventTypes[strings.TrimSpace(name)] = d
		}
	}
	a.QueueSize = b.integer("ARCHIVE_QUEUE_SIZE", 100000, 1, 100_000_000)
	return a
}

// retention reads a retention of at least an hour (parseDays syntax).
func (b *builder) retention(name string, def time.Duration, examples string) time.Duration {
	v, from := b.str(name, "")
	if v == "" {
		return def
	}
	d, err := parseDays(v)
	if err != nil || d < time.Hour {
		b.fail(name, v, from, "must be a duration of at least 1h ("+examples+")")
		return def
	}
	return d
}

// parseDays parses a Go duration or a whole number of days (d), weeks (w)
// or 365-day years (y).
func parseDays(v string) (time.Duration, error) {
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}
	if n := len(v); n > 1 {
		if u, ok := unit[v[n-1]]; ok {
			k, err := strconv.Atoi(v[:n-1])
			if err != nil || k < 0 || k > 1000*365 {
				return 0, strconv.ErrSyntax
			}
			return time.Duration(k) * u, nil
		}
	}
	return time.ParseDuration(v)
}
