// Package probe is pingapi's ICMP echo engine: one socket per address family
// shared by every measurement in the process, one goroutine that sends,
// reads and expires for all of them, replies demultiplexed to the
// measurement that registered the request before it was written, kernel
// timestamps at both ends, per-packet deadlines and paced sends.
//
// # Sockets
//
// New opens one ICMP socket for IPv4 and, when the host has IPv6, one for
// IPv6. In ModeAuto it tries an unprivileged datagram socket first
// (SOCK_DGRAM/IPPROTO_ICMP, allowed when the process's group is inside
// net.ipv4.ping_group_range; the kernel then owns the echo identifier and
// only delivers replies that carry it) and a raw socket otherwise (needs
// CAP_NET_RAW; a classic BPF filter makes the kernel queue only echo replies
// carrying the engine's random identifier). When neither works the error
// wraps ErrNoSocket and names both fixes. Receive buffers are 8 MiB by
// default (SO_RCVBUFFORCE as root).
//
// # Matching
//
// Every request is entered in an in-flight table keyed by (target address,
// 16-bit wire sequence) before it is sent; the sequence space is shared by
// all measurements and a sequence is never reused for the same address while
// its entry lives. A reply counts for a request only if it comes from the
// target address, carries the identifier, the sequence and the measurement's
// random 64-bit token (the first 8 payload bytes). A second reply to the
// same request is a duplicate, counted apart. TTL / hop limit come from
// IP_RECVTTL / IPV6_RECVHOPLIMIT.
//
// # Time
//
// RTT is the kernel's receive timestamp of the reply (SO_TIMESTAMPNS) minus
// the kernel's software transmit timestamp of the request (SO_TIMESTAMPING,
// read back from the socket's error queue), so no user-space time enters the
// figure and it agrees with a packet capture to within a few microseconds.
// Where the kernel gives no transmit timestamp the send time is read just
// before the sendmsg syscall. Both are wall-clock (CLOCK_REALTIME) readings.
// Each request has a deadline, Request.Timeout after its send (default
// DefaultTimeout, 2 s): a reply stamped later is lost and Late. The
// scheduler declares a request lost expiryGrace (10 ms) after its deadline,
// so a reply stamped in time but not yet read still counts.
//
// # Pacing and cost
//
// One goroutine, the loop, does all the work: a min-heap orders the
// measurements by their next event (send, deadline, end of the late-reply
// window) and a token bucket caps the engine at Options.Rate packets per
// second with at most two milliseconds' worth in a burst, so thousands of
// measurements started together are spread out, and keep their phase
// afterwards. The requests of a batch for one socket go to the kernel in
// one sendmmsg (when the socket gives transmit timestamps, which stay each
// request's own send time; a request the kernel refuses fails alone). The
// sockets are not in Go's network poller: the loop reads
// them (recvmmsg, buffers allocated once) right after each batch of sends,
// where on loopback the replies already are, and whenever it wakes, at
// least every pollInterval (5 ms) while requests are in flight. A reply
// therefore wakes no thread of its own; it is read at most 5 ms after it
// arrived, which delays when Ping learns of it but not its RTT (kernel
// stamps). To serve several requests per wake-up the loop sends a request
// up to sendSlack (2 ms) early, keeping its measurement's phase, rounds
// deadlines and the ends of late-reply windows up to a 10 ms grid, and a
// new measurement's first request may wait up to pollInterval for a loop
// that is about to wake anyway. There is no goroutine or timer per packet,
// and the send path does not allocate. A measurement's memory is
// proportional to its Count and is freed when Ping returns or its context
// is cancelled.
//
// # Waiting or not
//
// Ping blocks its goroutine until the measurement ends. Start returns at
// once and calls a callback on the engine's loop when it ends: a caller
// with thousands of measurements in flight (the monitor, `pingapi
// measure`) then needs no goroutine per measurement, and none is woken per
// result. StartEach also hands out each request as its fate is final. The
// measurements of one context share one context.AfterFunc. A Start
// measurement costs its 352-byte state, 40 bytes per request and its
// in-flight table entries, and nothing after its callback. The socket
// system calls are made raw (they never block): entering them the
// runtime's way wakes Go's sysmon, which then polls every 20 µs for a
// while, at every send after an idle moment.
//
// # Per-measurement options
//
// TTL/hop limit, TOS/traffic class and the source address are set per
// packet with control messages (IP_TTL, IP_TOS, IP_PKTINFO; IPV6_HOPLIMIT,
// IPV6_TCLASS, IPV6_PKTINFO), which Linux honours on both raw and datagram
// ICMP sockets, so measurements with different settings share the sockets.
// The family follows Request.Target.
//
// It imports nothing of the project.
package probe
