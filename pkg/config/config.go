// Package config turns the environment, a .env file and flags into one
// validated Config for `pingapi serve`.
package config

import "time"

// Config is the validated configuration of `pingapi serve`.
type Config struct {
	ListenAddr string // LISTEN_ADDR
	DataDir    string // DATA_DIR
	LogLevel   string // LOG_LEVEL

	// Authentication. Dev mode is on when neither Auth0Domain nor JWKSURL is set.
	Auth0Domain        string        // AUTH0_DOMAIN
	Auth0Issuer        string        // AUTH0_ISSUER
	Auth0Audience      string        // AUTH0_AUDIENCE
	JWKSURL            string        // AUTH_JWKS_URL
	Algorithms         []string      // AUTH_ALGORITHMS, default RS256
	RequiredScope      string        // AUTH_REQUIRED_SCOPE (for /pingapi)
	MonitorReadScope   string        // MONITOR_READ_SCOPE
	MonitorWriteScope  string        // MONITOR_WRITE_SCOPE
	JWKSRefresh        time.Duration // AUTH_JWKS_REFRESH
	DevMode            bool          // derived

	// Monitor: path of a Ping903-style configuration file (MONITOR_CONFIG or
	// serve --config). Empty: the monitor runs with only the mutable list.
	MonitorConfig string
}
