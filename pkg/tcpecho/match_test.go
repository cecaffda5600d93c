package tcpecho

import (
	"net"
	"testing"
	"time"
)

// sendAt records a probe sent at mono ns, as Server.send does.
func sendAt(c *conn, mono int64) byte { return c.record(mono) }

// TestMatching: an echo is matched to its own probe by its byte, across the
// 255→0 wrap; a second copy is a duplicate; an echo after the deadline is
// late (and stays lost); a byte of no recent probe is stray.
func TestMatching(t *testing.T) {
	const ms = int64(time.Millisecond)
	c := &conn{cur: &window{}}
	c.seq = 250 // wrap during the test
	var bytes []byte
	for i := range 10 {
		bytes = append(bytes, sendAt(c, int64(i)*10*ms))
	}
	now := time.Unix(0, 0)
	// Echo of probe 3 (seq 253), then of probe 7 (seq 1 after the wrap).
	c.onEcho([]byte{bytes[3]}, 0, 0, 35*ms, now, Kernel{}, 100)
	c.onEcho([]byte{bytes[7]}, 0, 0, 72*ms, now, Kernel{}, 100)
	if c.received != 2 || c.lastRTT != 2*time.Millisecond {
		t.Fatalf("received %d last RTT %v, want 2 and 2ms", c.received, c.lastRTT)
	}
	if got := c.run.Min(); got != 2*time.Millisecond {
		t.Errorf("min RTT %v, want 2ms (probe 7)", got)
	}
	if c.run.Max() != 5*time.Millisecond {
		t.Errorf("max RTT %v, want 5ms (probe 3)", c.run.Max())
	}
	// Duplicate of probe 3.
	c.onEcho([]byte{bytes[3]}, 0, 0, 80*ms, now, Kernel{}, 100)
	if c.dup != 1 || c.received != 2 {
		t.Errorf("dup %d received %d after a second copy", c.dup, c.received)
	}
	// Probes sent up to 40 ms are lost at 70 ms with a 30 ms timeout: 0, 1,
	// 2 and 4 (3 was answered).
	c.expire(40 * ms)
	if c.lost != 4 {
		t.Errorf("lost %d, want 4", c.lost)
	}
	c.onEcho([]byte{bytes[1]}, 0, 0, 90*ms, now, Kernel{}, 100)
	if c.late != 1 || c.received != 2 || c.lost != 4 {
		t.Errorf("late %d received %d lost %d after a late echo", c.late, c.received, c.lost)
	}
	// A byte no recent probe carried.
	if _, garbage := c.onEcho([]byte{byte(c.seq + 100)}, 0, 0, 95*ms, now, Kernel{}, 2); garbage {
		t.Error("one stray byte over an allowance of 2 closed the client")
	}
	if c.stray != 2 { // the duplicate and this one
		t.Errorf("stray %d, want 2", c.stray)
	}
	if _, garbage := c.onEcho([]byte{byte(c.seq + 101)}, 0, 0, 96*ms, now, Kernel{}, 2); !garbage {
		t.Error("a third stray byte over an allowance of 2 did not close the client")
	}
	w := c.cur
	if w.sent != 10 || w.received != 2 || w.dup != 1 || w.late != 1 || w.pending != 10-2-4 {
		t.Errorf("window %+v", *w)
	}
}

// TestKernelStampPreferred: the kernel's receive stamp gives the RTT when it
// agrees with the monotonic clock, and is ignored when it does not (a wall
// clock step between send and receive).
func TestKernelStampPreferred(t *testing.T) {
	const ms = int64(time.Millisecond)
	for _, tt := range []struct {
		name   string
		rxWall int64
		want   time.Duration
	}{
		{"stamp", 1_000 + 3*ms, 3 * time.Millisecond},
		{"no stamp", 0, 5 * time.Millisecond},
		{"clock stepped back", 1_000 - ms, 5 * time.Millisecond},
		{"clock stepped forward", 1_000 + 50*ms, 5 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &conn{}
			c.ring[0] = slot{seq: 0, state: slotPending, sentMono: 0} // sent at wall 1_000 (the epoch)
			c.seq = 1
			c.onEcho([]byte{0}, tt.rxWall, 1_000, 5*ms, time.Unix(0, 0), Kernel{}, 1)
			if c.lastRTT != tt.want {
				t.Errorf("RTT %v, want %v", c.lastRTT, tt.want)
			}
		})
	}
}

// TestLateEchoes: over real TCP, a client that echoes each probe after its
// deadline has every probe lost and every echo counted late, and is not
// taken for silent.
func TestLateEchoes(t *testing.T) {
	s, addr := startServer(t, Options{Interval: 60 * time.Millisecond, Timeout: 10 * time.Millisecond, SilentIntervals: 20})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		b := make([]byte, 1)
		for {
			if _, err := c.Read(b); err != nil {
				return
			}
			time.Sleep(30 * time.Millisecond) // past the 10 ms deadline
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	}()
	waitFor(t, "6 late echoes", func() bool {
		v, ok := clientByLocal(s, c.LocalAddr().String())
		return ok && v.Late >= 6
	})
	v, _ := clientByLocal(s, c.LocalAddr().String())
	if v.State != "connected" || v.Received != 0 || v.Lost < v.Late || v.PacketLoss != 100 {
		t.Errorf("late client: %+v", v)
	}
}

// FuzzOnEcho: whatever bytes a client sends, matching never panics, never
// counts more outcomes than probes, and keeps each window's pending count
// in step with its probes.
func FuzzOnEcho(f *testing.F) {
	f.Add(uint32(0), []byte{0, 1, 2, 3})
	f.Add(uint32(250), []byte{250, 250, 251, 9, 255, 0, 1})
	f.Add(uint32(1<<32-3), []byte{253, 254, 255, 0, 0, 0})
	f.Fuzz(func(t *testing.T, start uint32, data []byte) {
		const ms = int64(time.Millisecond)
		c := &conn{cur: &window{}, timeout: 30 * ms, seq: start}
		now := time.Unix(0, 0)
		mono := int64(0)
		for i, b := range data {
			mono += ms
			switch {
			case b%7 == 0:
				sendAt(c, mono)
			case b%11 == 0:
				c.expire(mono - c.timeout)
			default:
				c.onEcho(data[i:i+1], 0, 0, mono, now, Kernel{}, 1<<30)
			}
		}
		if c.received+c.lost > c.sent {
			t.Fatalf("received %d + lost %d > sent %d", c.received, c.lost, c.sent)
		}
		pending := 0
		for _, sl := range c.ring {
			if sl.state == slotPending {
				pending++
			}
		}
		if w := c.cur; w.pending != pending || w.received+w.pending > w.sent {
			t.Fatalf("window %+v, %d pending in the ring", *w, pending)
		}
	})
}
