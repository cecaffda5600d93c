package archive

import "time"

// Retention says how long the archive keeps data (esmond's
// ps_remove_data.conf). Zero fields take the defaults (DefaultRawRetention).
type Retention struct {
	// Raw is how long base data are kept: pingapi's measurement rows and
	// clients' points.
	Raw time.Duration
	// EventTypes overrides Raw for clients' points of an event type
	// (pingapi's own event types are all derived from one row and share Raw).
	EventTypes map[string]time.Duration
}

// Default retention.
const (
	DefaultRawRetention = 180 * 24 * time.Hour
)

func (r Retention) withDefaults() Retention {
	if r.Raw <= 0 {
		r.Raw = DefaultRawRetention
	}
	return r
}
