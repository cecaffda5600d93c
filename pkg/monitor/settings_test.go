package monitor

import (
	"testing"
	"time"
)

func TestSettingsValidate(t *testing.T) {
	ok := DefaultSettings()
	tests := []struct {
		name string
		mod  func(*Settings)
		want string
	}{
		{"defaults", func(*Settings) {}, ""},
		{"zero interval", func(s *Settings) { s.ProbeInterval = 0 }, "probe-interval must be positive, got 0s"},
		{"zero count", func(s *Settings) { s.PingCount = 0 }, "ping-count must be between 1 and 10000, got 0"},
		{"fast ping", func(s *Settings) { s.PingInterval = time.Millisecond }, "ping-interval must be at least 10ms, got 1ms"},
		{"negative tolerance", func(s *Settings) { s.Tolerance = -1 }, "tolerance must not be negative, got -1"},
		{"huge payload", func(s *Settings) { s.DataLength = 70000 }, "data-length must be between 0 and 65500, got 70000"},
		{"probe equals interval", func(s *Settings) { s.ProbeInterval = 10 * time.Second },
			"ping-count × ping-interval (10 × 1s = 10s) must be below probe-interval (10s): raise probe-interval or lower ping-count or ping-interval"},
		{"tolerance equals ping-count", func(s *Settings) { s.PingCount = 3 },
			"tolerance (3) must be below ping-count (3): a host that lost every echo would count as alive"},
		{"tolerance just below", func(s *Settings) { s.PingCount = 4 }, ""},
		{"just fits", func(s *Settings) { s.ProbeInterval = 10*time.Second + 1 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.mod(&s)
			err := s.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSettingsAliveAndTimeout(t *testing.T) {
	s := DefaultSettings()
	for _, tt := range []struct {
		xmit, recv int
		want       bool
	}{{10, 10, true}, {10, 7, true}, {10, 6, false}, {0, 0, false}} {
		if got := s.Alive(tt.xmit, tt.recv); got != tt.want {
			t.Errorf("Alive(%d, %d) = %v, want %v", tt.xmit, tt.recv, got, tt.want)
		}
	}
	for _, tt := range []struct {
		s    Settings
		want time.Duration
	}{
		{DefaultSettings(), time.Second},
		{Settings{ProbeInterval: 2 * time.Second, PingCount: 3, PingInterval: 100 * time.Millisecond}, time.Second},
		{Settings{ProbeInterval: 1 * time.Second, PingCount: 3, PingInterval: 300 * time.Millisecond}, 400 * time.Millisecond},
	} {
		if got := tt.s.Timeout(); got != tt.want {
			t.Errorf("Timeout(%+v) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
