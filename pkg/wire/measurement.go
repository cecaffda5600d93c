package wire

import "time"

// Measurement is the JSON summary of one measurement, as GET and POST
// /pingapi and `pingapi measure --json` send it. RTT fields are in
// milliseconds, rounded to the microsecond, and are null when no reply was
// received. Field names and units keep those of the original pingapi
// (milliseconds, percent) and add what it lacked.
type Measurement struct {
	DateTime       string       `json:"date_time" example:"20261122070000"`
	IPHost         string       `json:"ip_host" example:"example.com"`
	IP             string       `json:"ip" example:"93.184.216.34"`
	Family         int          `json:"family" example:"4"`
	RTTMin         *float64     `json:"rtt_min" example:"11.201"`
	RTTMean        *float64     `json:"rtt_mean" example:"11.530"`
	RTTMax         *float64     `json:"rtt_max" example:"12.004"`
	RTTStdDev      *float64     `json:"rtt_stddev" example:"0.281"`
	Jitter         *float64     `json:"jitter" example:"0.312"`
	Percentiles    *Percentiles `json:"percentiles"`
	CountRequested int          `json:"count_requested" example:"5"`
	CountSent      int          `json:"count_sent" example:"5"`
	CountReceived  int          `json:"count_received" example:"5"`
	PacketLoss     float64      `json:"packet_loss" example:"33.33"` // percent, rounded to 2 decimals as the original
	Duplicates     int          `json:"duplicates" example:"0"`
	Late           int          `json:"late" example:"0"`
	StartedAt      time.Time    `json:"started_at"`
	FinishedAt     time.Time    `json:"finished_at"`
	Packets        []Packet     `json:"packets,omitempty"`
}

// Percentiles are nearest-rank percentiles of the received RTTs, in ms.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Packet is the fate of one echo request; RTT in ms, null when lost.
type Packet struct {
	Seq        int      `json:"seq"`
	RTT        *float64 `json:"rtt"`
	TTL        int      `json:"ttl,omitempty"`
	Late       bool     `json:"late,omitempty"`
	Duplicates int      `json:"duplicates,omitempty"`
}
