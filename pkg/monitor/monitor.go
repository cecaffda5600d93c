// Package monitor probes a large list of hosts continuously on the shared
// engine and keeps per-host statistics (Ping903's job): the host table, the
// hash-spread scheduler, the Ping903 configuration parser and the persisted
// mutable ip-list.
package monitor

// Monitor is the running monitor. Safe for concurrent use.
type Monitor struct{}
