// Package archive is pingapi's measurement archive: perfSONAR esmond's
// data model (metadata, event types, base data and server-side summaries)
// and pingapi's own measurements, on SQLite (embedded, the default) or
// PostgreSQL (several instances writing one database).
//
// # Public API (for the esmond API, the dashboard, the feed, the CLI)
//
// Open and close:
//
//	st, err := archive.Open(ctx, archive.Options{DSN: cfg.ArchiveDSN, DataDir: cfg.DataDir, Logger: log})
//	defer st.Close()
//	// DSN "": SQLite DataDir/archive.db; "postgres://...": PostgreSQL.
//
// Values and validation (untrusted input; every error is an *InputError
// whose Detail is the 400 "detail"; errors.Is(err, archive.ErrInvalid)):
//
//	archive.EventTypeOf(name) (ValueType, bool)     // esmond's event types
//	archive.ParseValue(eventType, rawJSON) (Value, error)
//	archive.SummaryAllowed(eventType, summaryType) bool
//	archive.SummaryTypeOfURI("aggregations") / SummaryURIName("aggregation")
//	archive.ValidKey(key) bool                       // 32 lowercase hex
//	archive.ReservedField(name) bool                 // not a free-form parameter
//	Value.MarshalJSON                                 // esmond's read form
//
// Metadata (Metadata.Parameters are the free-form fields as strings;
// EventType.TimeUpdated / Summary.TimeUpdated are 0 for JSON null):
//
//	st.PutMetadata(ctx, md) (Metadata, created bool, err)  // identical metadata → same Key
//	st.Metadata(ctx, key) (Metadata, error)                // ErrNotFound
//	st.SearchMetadata(ctx, archive.Filter{...}) ([]Metadata, total int, err)
//	st.DeleteMetadata(ctx, key) error                       // ErrNotFound
//
// Data (TS unix seconds; Point.Val is esmond's JSON for the value):
//
//	st.AddPoints(ctx, key, []archive.DataPoint{{TS, EventType, Val}}) error
//	    // one transaction; ErrExists = 409 (numeric point at an existing ts);
//	    // ErrNotFound = unknown key / unregistered event type; *InputError
//	st.Data(ctx, archive.DataQuery{Key, EventType, SummaryType, Window, Range, Limit, Offset}) ([]Point, error)
//	    // SummaryType "base"/""; summaries computed from base data over
//	    // epoch-aligned windows; ErrNotFound for an unregistered summary
//
// pingapi's own measurements (one row each; the pScheduler ping event
// types are derived from it on read):
//
//	archive.FromResult(res probe.Result, target, archive.ToolMonitor, agent, req) Measurement
//	st.AddMeasurements(ctx, []Measurement) error            // one transaction
//	st.Measurements(ctx, archive.SeriesQuery{Target: "host"}, from, to, limit) ([]Measurement, error)
//	st.Windows(ctx, archive.SeriesQuery{...}, from, to, time.Hour) ([]WindowStats, error)
//	Measurement.Summary() stats.Summary                     // the project's one summary path
//
// The feed (a bounded queue in front of AddMeasurements; drops and counts
// when the database is slow):
//
//	f := archive.NewFeed(st, archive.FeedOptions{QueueSize: n, Logger: log})
//	go f.Run(ctx)
//	f.Record(m) bool   // never blocks; false = dropped
//	f.Stats() FeedStats
//
// Archive keys (hashing is pkg/auth's; the store keeps the hash):
//
//	st.CreateAPIKey(ctx, name, hash) error   // ErrExists
//	st.APIKeys(ctx) ([]APIKey, error)
//	st.RevokeAPIKey(ctx, name) error         // ErrNotFound
//	st.APIKeyByHash(ctx, hash) (APIKey, error) // ErrNotFound; check Revoked
//
// Retention and space:
//
//	archive.Options{Retention: archive.Retention{Raw: 180 * 24 * time.Hour, Summaries: 5 * 365 * 24 * time.Hour,
//	    EventTypes: map[string]time.Duration{"packet-trace": 30 * 24 * time.Hour}}}
//	go st.RunRetention(ctx, time.Hour)      // or st.Prune(ctx) (PruneResult, error)
//	st.DiskUsage(ctx) (DiskUsage, error)     // bytes: Total, Measurements
//
// How it is stored: one row per pingapi measurement (series id, ms time,
// a varint BLOB of the per-request RTTs in µs, TTLs and counters; about 40
// bytes for 10 echoes), one row per client point (canonical JSON), and
// hourly rollups of pingapi's series, materialised lazily once an hour is
// settled, from which their 3600/86400 s summaries and the dashboard's
// hour/day windows are read. Summaries of clients' data are computed from
// their base points on read. Time windows are epoch-aligned; a summary's
// ts is the start of its window.
//
// Consumers define the small interface they need (STYLE.md); *Store
// satisfies them all.
package archive
