package tcpecho

import (
	"net/netip"
	"time"

	"github.com/pingapi/pingapi/pkg/stats"
)

// Kernel is the TCP stack's own view of a connection, from TCP_INFO
// (linux/tcp.h). It is a different figure from the application RTT: the
// kernel times ACKs of segments, smooths them (RFC 6298) and includes the
// peer's delayed ACKs; see docs/TCPECHO.md.
type Kernel struct {
	Valid        bool          // false where TCP_INFO is not available
	RTT          time.Duration // tcpi_rtt: smoothed RTT (SRTT)
	RTTVar       time.Duration // tcpi_rttvar: RTT variation (RTTVAR)
	MinRTT       time.Duration // tcpi_min_rtt: the lowest RTT seen (windowed)
	Retransmits  int           // tcpi_retransmits: consecutive RTO retransmissions now pending
	TotalRetrans int64         // tcpi_total_retrans: segments retransmitted over the connection
}

// Client is the public view of one client connection, as GET
// /tcpecho/clients returns it. Durations are milliseconds; a figure with no
// sample yet is null.
type Client struct {
	// ID identifies the connection within this server's run.
	ID uint64 `json:"id" example:"17"`
	// Key is the client's identity: the announced name of an agent, else
	// the address and port it connects from (clients behind one NAT address
	// stay apart).
	Key string `json:"key" example:"203.0.113.7:51234"`
	// Address is the remote address and port of the connection.
	Address string `json:"address" example:"203.0.113.7:51234"`
	// Name is the name an authenticated agent announced; empty for plain clients.
	Name string `json:"name,omitempty" example:"berlin-office"`
	// Subject is the authenticated subject (the token's sub) of an agent.
	Subject string `json:"subject,omitempty" example:"agent-berlin"`
	// Mode is "plain" (TCPECHO_LISTEN) or "tls" (TCPECHO_TLS_LISTEN, authenticated).
	Mode string `json:"mode" enums:"plain,tls" example:"plain"`
	// State is "connected", or "gone" for a recently disconnected client.
	State string `json:"state" enums:"connected,gone" example:"connected"`
	// GoneReason says why a gone client was disconnected: eof, silent,
	// garbage, not_reading, replaced, error, shutdown.
	GoneReason     string     `json:"gone_reason,omitempty" example:"silent"`
	ConnectedSince time.Time  `json:"connected_since"`
	DisconnectedAt *time.Time `json:"disconnected_at,omitempty"`
	LastEcho       *time.Time `json:"last_echo,omitempty"` // arrival of the last matched echo

	Sent       int     `json:"sent"`        // probes sent
	Received   int     `json:"received"`    // echoes matched before their deadline
	Lost       int     `json:"lost"`        // probes whose deadline passed unanswered (late ones included)
	Late       int     `json:"late"`        // echoes that came after their deadline
	Duplicates int     `json:"duplicates"`  // second echoes of one probe
	Stray      int     `json:"stray"`       // bytes that matched no recent probe, duplicates included
	PacketLoss float64 `json:"packet_loss"` // percent: 100 × lost / (received + lost); a probe in flight is not counted yet

	// The application RTT: probe handed to the kernel → echo's kernel receive timestamp.
	LastRTT   *float64 `json:"last_rtt" example:"24.3"`
	RTTMin    *float64 `json:"rtt_min" example:"23.9"`
	RTTMean   *float64 `json:"rtt_mean" example:"24.6"`
	RTTMax    *float64 `json:"rtt_max" example:"31.0"`
	RTTStdDev *float64 `json:"rtt_stddev" example:"0.8"` // population standard deviation
	Jitter    *float64 `json:"jitter" example:"0.4"`     // mean |RTTᵢ − RTTᵢ₋₁| (RFC 4689 IPDV averaged)

	// Kernel is the kernel's estimate (TCP_INFO) at the last echo; null
	// before the first echo or where TCP_INFO is not available.
	Kernel *KernelView `json:"kernel"`
}

// ArchiveClient is the name of c's series in the archive
// (input-destination of its metadata, see ArchiveSink): the announced name,
// or the IP address of a plain client. The dashboard uses it to find a
// client's history.
func (c Client) ArchiveClient() string {
	if c.Name != "" {
		return c.Name
	}
	if ap, err := netip.ParseAddrPort(c.Address); err == nil {
		return ap.Addr().String()
	}
	return c.Address
}

// KernelView is Kernel in the units of the API.
type KernelView struct {
	RTT          float64 `json:"rtt" example:"24.1"`     // tcpi_rtt, ms (smoothed)
	RTTVar       float64 `json:"rttvar" example:"0.9"`   // tcpi_rttvar, ms
	MinRTT       float64 `json:"min_rtt" example:"23.8"` // tcpi_min_rtt, ms
	Retransmits  int     `json:"retransmits"`            // tcpi_retransmits
	TotalRetrans int64   `json:"total_retrans"`          // tcpi_total_retrans
}

// Window is one client's echoes over one aggregation window: what the
// archive stores as one record. Probes belong to the window they were
// sent in; a window is delivered once every probe in it has an outcome.
type Window struct {
	Key   string         // the client's identity (Client.Key)
	Addr  netip.AddrPort // remote address of the connection
	Local netip.AddrPort // local address of the connection (the server agent's)
	Name  string         // announced name; empty for plain clients
	Mode  string         // plain or tls
	Start time.Time      // aligned to a multiple of Options.Window (possibly cut short by the connection)
	End   time.Time      // Start + Options.Window

	Sent       int
	Received   int
	Late       int // echoes after their deadline (not in RTTs, counted lost)
	Duplicates int
	// RTTs are the application RTTs of the received echoes, in sequence order.
	RTTs []time.Duration
	// KernelRTTs are tcpi_rtt as read at each echo, in arrival order.
	KernelRTTs []time.Duration
	// Kernel is the last TCP_INFO reading of the window; Retransmissions
	// is the increase of tcpi_total_retrans over the window.
	Kernel          Kernel
	Retransmissions int64
}

// Summary is the window's application RTTs summarised by pkg/stats, the
// one summary every part of pingapi uses.
func (w Window) Summary() stats.Summary {
	return stats.Summarize(w.Sent, w.RTTs, w.Duplicates)
}

// probe states
const (
	slotEmpty uint8 = iota
	slotPending
	slotAnswered
	slotLost
)

// slot is one sent probe; each client remembers the last ringSize.
type slot struct {
	seq      uint32
	state    uint8
	sentMono int64   // when handed to the kernel: monotonic ns since the server's epoch
	win      *window // the window the probe was sent in; nil once delivered
}

// window accumulates one Window.
type window struct {
	start, end time.Time
	sent       int
	received   int
	late       int
	dup        int
	pending    int
	rtts       []time.Duration
	krtts      []time.Duration
	kernel     Kernel
	retrans0   int64 // tcpi_total_retrans at the window's first reading
	haveK      bool
}

func ms(d time.Duration) *float64 {
	v := stats.Millis(d)
	return &v
}
