package tcpecho

import (
	"math/bits"
	"sync"
	"time"
)

// maxSlack bounds the scheduler's slack: events due within the slack of
// now run in the same wake-up, so that thousands of clients cost about
// fifty wake-ups a second, not one each. Every wake-up of the scheduler,
// and of the readers whose echoes then arrive together, is a thread
// context switch, which costs more than the send itself (measured with
// bench/tcpecho: 6,000 context switches a second with 1 ms of slack at
// 3,300 echoes/s, against 950 for a goroutine and a ticker per client;
// at 10,000 clients and 3 s, 20 ms instead of 10 ms of slack took the CPU
// per echo from 22.7–24.6 µs to 19.5–20.1 µs: each wake-up also wakes Go's
// runtime threads, sysmon among them).
// A probe is thus sent up to the slack early, well inside its ±5 %
// jitter; the RTT is timed from the actual send.
const maxSlack = 20 * time.Millisecond

// slackFor is the scheduler's slack for a probe interval: maxSlack, or a
// 32nd of a short interval, and at least a millisecond.
func slackFor(interval time.Duration) time.Duration {
	return max(min(maxSlack, interval/32), time.Millisecond)
}

// maxSlots bounds the timing wheel; an event further ahead than the wheel
// is long goes round it more than once.
const maxSlots = 1 << 16

// scheduler runs every client's events (send a probe, expire deadlines,
// close silent clients, deliver windows) from one goroutine, on a hashed
// timing wheel (Varghese and Lauck, "Hashed and hierarchical timing
// wheels", SOSP 1987): slot k holds the clients whose next event falls in
// [k·width, (k+1)·width), width being the slack, so scheduling a client
// costs an append, not the cache misses of a heap of 10,000.
type scheduler struct {
	mu    sync.Mutex
	slots [][]*conn
	mask  int64
	width int64 // ns per slot: the slack
	cur   int64 // absolute index of the next slot to run
	n     int   // clients scheduled
	spare []*conn

	wake chan struct{} // capacity 1: "the earliest event may have changed"
	done chan struct{}
	// tick runs one client's events due at due (≥ now, by at most the
	// slack) and returns its next event time, or false to drop it. It
	// runs without the scheduler's lock.
	tick  func(c *conn, now, due int64) (next int64, keep bool)
	clock func() int64 // monotonic ns
	// poll, when not nil, is read at every wake-up: the loop hands each
	// polled client with data to ready.
	poll  *poller
	ready func(*conn)
}

// newScheduler makes a wheel of slack-wide slots long enough for horizon
// (the longest time between two events of a client).
func newScheduler(clock func() int64, tick func(c *conn, now, due int64) (int64, bool), slack, horizon time.Duration, poll *poller, ready func(*conn)) *scheduler {
	n := int64(horizon/slack) + 2
	n = min(int64(1)<<bits.Len64(uint64(n)), maxSlots)
	s := &scheduler{slots: make([][]*conn, n), mask: n - 1, width: int64(slack),
		wake: make(chan struct{}, 1), done: make(chan struct{}), tick: tick, clock: clock, poll: poll, ready: ready}
	s.cur = clock() / s.width
	return s
}

// wakeup interrupts the loop's wait.
func (s *scheduler) wakeup() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// insert files c under c.next; s.mu held.
func (s *scheduler) insert(c *conn) {
	k := max(c.next/s.width, s.cur)
	s.slots[k&s.mask] = append(s.slots[k&s.mask], c)
}

// add schedules c's first event at c.next.
func (s *scheduler) add(c *conn) {
	s.mu.Lock()
	if s.n == 0 { // the wheel stood still: restart it now
		s.cur = max(s.cur, s.clock()/s.width)
	}
	s.n++
	s.insert(c)
	s.mu.Unlock()
	s.wakeup()
}

// run loops until stop is closed. With a poller it never blocks in a
// system call: it sleeps on a runtime timer (no thread is parked in the
// kernel, so no other thread is woken to take over), and at each wake-up
// reads every polled client that has data, then runs the slots that have
// begun. While clients are scheduled it wakes at least every slot, so an
// echo is read at most a slot after it arrived; its RTT comes from the
// kernel's receive timestamp, so the delay does not show in it.
func (s *scheduler) run(stop <-chan struct{}) {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if s.poll != nil {
			s.poll.harvest(s.ready)
		}
		now := s.clock()
		for s.runSlot(now) {
		}
		s.mu.Lock()
		idle, cur := s.n == 0, s.cur
		s.mu.Unlock()
		if idle { // no client: sleep until one comes
			timer.Reset(time.Hour)
		} else {
			timer.Reset(time.Duration(cur*s.width - now))
		}
		select {
		case <-stop:
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// runSlot runs the clients of slot s.cur and moves on, if that slot has
// begun by now; it reports whether it did.
func (s *scheduler) runSlot(now int64) bool {
	s.mu.Lock()
	k := s.cur
	if k > now/s.width {
		s.mu.Unlock()
		return false
	}
	batch := s.slots[k&s.mask]
	s.slots[k&s.mask] = s.spare[:0]
	s.cur++
	s.mu.Unlock()
	for _, c := range batch {
		if c.next/s.width > k { // a lap or more ahead: not yet
			s.mu.Lock()
			s.insert(c)
			s.mu.Unlock()
			continue
		}
		// due, not now, decides what the client's event does (a send up to
		// a slot early); now decides what has expired.
		next, keep := s.tick(c, now, max(now, c.next))
		s.mu.Lock()
		if keep {
			c.next = next
			s.insert(c)
		} else {
			s.n--
		}
		s.mu.Unlock()
	}
	clear(batch)
	s.mu.Lock()
	s.spare = batch[:0]
	s.mu.Unlock()
	return true
}
