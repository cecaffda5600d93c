package monitor

import (
	"fmt"
	"time"
)

// Defaults of the Ping903 settings (ping903.conf(5)).
const (
	DefaultProbeInterval = 60 * time.Second
	DefaultPingCount     = 10
	DefaultPingInterval  = time.Second
	DefaultTolerance     = 3
	DefaultDataLength    = 56
	DefaultListen        = "localhost:8080"
)

// Settings are the probing parameters, named as in Ping903.
//
// A probe of one host sends PingCount echo requests, one every PingInterval,
// and waits for the last one at most Timeout(). Each host is probed once per
// ProbeInterval. A host is dead ("alive": false) when more than Tolerance of
// its PingCount requests were lost: with the defaults, fewer than 7 replies
// out of 10.
type Settings struct {
	ProbeInterval time.Duration // probe-interval: time between two probes of a host
	PingCount     int           // ping-count: echo requests per probe
	PingInterval  time.Duration // ping-interval: time between two requests of a probe
	Tolerance     int           // tolerance: lost requests still counted as alive
	DataLength    int           // data-length: ICMP payload bytes
	// Listen is Ping903's listen statement. pingapi parses it but the HTTP
	// socket is governed by serve's LISTEN_ADDR (see docs/MONITOR.md).
	Listen string
}

// DefaultSettings returns Ping903's defaults.
func DefaultSettings() Settings {
	return Settings{
		ProbeInterval: DefaultProbeInterval,
		PingCount:     DefaultPingCount,
		PingInterval:  DefaultPingInterval,
		Tolerance:     DefaultTolerance,
		DataLength:    DefaultDataLength,
		Listen:        DefaultListen,
	}
}

// Limits enforced by Validate.
const (
	MinPingInterval = 10 * time.Millisecond // the engine's minimum
	MaxPingCount    = 10000
	MaxDataLength   = 65500
)

// Validate reports the first setting that is out of range, or the rule that
// a whole probe (ping-count × ping-interval) must fit in probe-interval, so
// that two probes of one host never overlap.
func (s Settings) Validate() error {
	switch {
	case s.ProbeInterval <= 0:
		return fmt.Errorf("probe-interval must be positive, got %v", s.ProbeInterval)
	case s.PingCount < 1 || s.PingCount > MaxPingCount:
		return fmt.Errorf("ping-count must be between 1 and %d, got %d", MaxPingCount, s.PingCount)
	case s.PingInterval < MinPingInterval:
		return fmt.Errorf("ping-interval must be at least %v, got %v", MinPingInterval, s.PingInterval)
	case s.Tolerance < 0:
		return fmt.Errorf("tolerance must not be negative, got %d", s.Tolerance)
	case s.DataLength < 0 || s.DataLength > MaxDataLength:
		return fmt.Errorf("data-length must be between 0 and %d, got %d", MaxDataLength, s.DataLength)
	case s.Tolerance >= s.PingCount:
		return fmt.Errorf("tolerance (%d) must be below ping-count (%d): a host that lost every echo would count as alive", s.Tolerance, s.PingCount)
	}
	if total := time.Duration(s.PingCount) * s.PingInterval; total >= s.ProbeInterval {
		return fmt.Errorf("ping-count × ping-interval (%d × %v = %v) must be below probe-interval (%v): raise probe-interval or lower ping-count or ping-interval",
			s.PingCount, s.PingInterval, total, s.ProbeInterval)
	}
	return nil
}

// Timeout is how long a probe waits for the reply to each request: one
// ping-interval, at least 1 s, but never so long that the probe would run
// into the next one. (count-1)×interval + Timeout stays below probe-interval.
func (s Settings) Timeout() time.Duration {
	t := max(s.PingInterval, time.Second)
	if room := s.ProbeInterval - time.Duration(s.PingCount-1)*s.PingInterval; t > room {
		t = max(room, MinPingInterval)
	}
	return t
}

// Alive applies the dead rule: a probe that sent xmit requests and got recv
// replies is alive when at most Tolerance requests were lost.
func (s Settings) Alive(xmit, recv int) bool {
	return xmit > 0 && xmit-recv <= s.Tolerance
}
