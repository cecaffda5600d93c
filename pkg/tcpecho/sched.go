package tcpecho

import (
	"container/heap"
	"sync"
	"time"
)

// maxSlack bounds the scheduler's slack: events due within the slack of
// now run in the same wake-up, so that thousands of clients cost about a
// hundred wake-ups a second, not one each. Every wake-up of the scheduler,
// and of the readers whose echoes then arrive together, is a thread
// context switch, which costs more than the send itself (measured with
// bench/tcpecho: 6,000 context switches a second with 1 ms of slack at
// 3,300 echoes/s, against 950 for a goroutine and a ticker per client).
// A probe is thus sent up to the slack early, well inside its ±5 %
// jitter; the RTT is timed from the actual send.
const maxSlack = 10 * time.Millisecond

// slackFor is the scheduler's slack for a probe interval: maxSlack, or a
// 32nd of a short interval.
func slackFor(interval time.Duration) time.Duration { return min(maxSlack, interval/32) }

// scheduler runs every client's events (send a probe, expire deadlines,
// close silent clients, deliver windows) from one goroutine, in order of
// their due time, held in a min-heap.
type scheduler struct {
	mu   sync.Mutex
	h    connHeap
	wake chan struct{} // capacity 1: "the earliest event may have changed"
	done chan struct{}
	// tick runs one client's events due at due (≥ now, by at most the
	// slack) and returns its next event time, or false to drop it. It
	// runs without the scheduler's lock.
	tick  func(c *conn, now, due int64) (next int64, keep bool)
	clock func() int64 // monotonic ns
	slack int64
	// poll, when not nil, is read at every wake-up: the loop hands each
	// polled client with data to ready.
	poll  *poller
	ready func(*conn)
}

func newScheduler(clock func() int64, tick func(c *conn, now, due int64) (int64, bool), slack time.Duration, poll *poller, ready func(*conn)) *scheduler {
	return &scheduler{wake: make(chan struct{}, 1), done: make(chan struct{}), tick: tick, clock: clock,
		slack: int64(slack), poll: poll, ready: ready}
}

// wakeup interrupts the loop's wait.
func (s *scheduler) wakeup() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// add schedules c's first event at c.next.
func (s *scheduler) add(c *conn) {
	s.mu.Lock()
	heap.Push(&s.h, c)
	top := s.h[0] == c
	s.mu.Unlock()
	if top {
		s.wakeup()
	}
}

// len returns the number of scheduled clients.
func (s *scheduler) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h)
}

// run loops until stop is closed. With a poller it never blocks in a
// system call: it sleeps on a runtime timer (no thread is parked in the
// kernel, so no other thread is woken to take over), and at each wake-up
// reads every polled client that has data, then runs the due events.
// While clients are scheduled it wakes at least every slack, so an echo is
// read at most a slack after it arrived; its RTT comes from the kernel's
// receive timestamp, so the delay does not show in it.
func (s *scheduler) run(stop <-chan struct{}) {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if s.poll != nil {
			s.poll.harvest(s.ready)
		}
		now := s.clock()
		s.mu.Lock()
		if len(s.h) == 0 || s.h[0].next > now+s.slack {
			wait := time.Hour
			if len(s.h) > 0 {
				wait = time.Duration(s.h[0].next - now)
				if s.poll != nil {
					wait = min(wait, time.Duration(max(s.slack, int64(time.Millisecond))))
				}
			}
			s.mu.Unlock()
			timer.Reset(wait)
			select {
			case <-stop:
				return
			case <-s.wake:
			case <-timer.C:
			}
			continue
		}
		c := heap.Pop(&s.h).(*conn)
		s.mu.Unlock()
		// due, not now, decides what the client's event does (a send up to
		// the slack early); now decides what has expired.
		next, keep := s.tick(c, now, max(now, c.next))
		if keep {
			s.mu.Lock()
			c.next = next
			heap.Push(&s.h, c)
			s.mu.Unlock()
		}
	}
}

// connHeap orders clients by their next event.
type connHeap []*conn

func (h connHeap) Len() int           { return len(h) }
func (h connHeap) Less(i, j int) bool { return h[i].next < h[j].next }
func (h connHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *connHeap) Push(x any) {
	c := x.(*conn)
	c.index = len(*h)
	*h = append(*h, c)
}
func (h *connHeap) Pop() any {
	old := *h
	n := len(old)
	c := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	c.index = -1
	return c
}
