// Package tcpecho measures the round-trip time to clients that connect in
// over TCP and echo back every byte they receive: hosts behind NAT and
// firewalls that ICMP cannot reach (shared/seeds/001: "the server sends a
// byte every three seconds to each client and, receiving it back,
// calculates the RTT").
//
// The wire protocol is the seed's: the server writes one byte per interval
// and the client writes every byte it reads straight back. Any client that
// does that works, e.g. `socat TCP:server:7007 EXEC:cat`. The byte is the
// low 8 bits of a per-connection sequence number, so a late echo is matched
// to its own probe; a probe unanswered at its deadline is lost, an echo after
// it is "late" (still lost), a second echo of one probe is a duplicate, and
// a byte that matches no recent probe is stray. A client that sends strays
// beyond a small allowance (garbage, a flood), that stays silent for K
// intervals (it stopped echoing, or never reads), or whose send buffer
// fills is disconnected; the others are not affected.
//
// Two RTTs are kept and never mixed (docs/TCPECHO.md):
//
//   - the application RTT: from handing the probe byte to the kernel to the
//     kernel's receive timestamp (SO_TIMESTAMPNS) of the echo, or to the
//     read's return on the monotonic clock where no timestamp exists;
//   - the kernel's estimate from TCP_INFO: tcpi_rtt (smoothed, RFC 6298),
//     tcpi_rttvar, tcpi_min_rtt and the retransmission counters, read when
//     each echo arrives.
//
// In the authenticated mode (ServeTLS) the same echo runs inside TLS after
// the client has sent one hello line with a credential and its name (see
// ParseHello); Agent is the client side of that mode, and of the plain one.
//
// Concurrency: one scheduler goroutine per Server sends every probe,
// expires deadlines, closes silent clients and, on Linux, reads the plain
// clients too (their sockets leave Go's netpoller for an epoll set the
// scheduler drains at each wake-up, so an echo costs no goroutine or
// thread wake-up of its own); writes never block. TLS clients (and every
// client elsewhere) have one reader goroutine each. Every exported method
// of Server is safe for concurrent use.
package tcpecho
