package tcpecho

import (
	"container/heap"
	"sync"
	"time"
)

// schedSlack: events due within this much of now run in the same wake-up,
// so that thousands of clients cost a few timer wake-ups, not one each.
const schedSlack = 200 * time.Microsecond

// scheduler runs every client's events (send a probe, expire deadlines,
// close silent clients, deliver windows) from one goroutine, in order of
// their due time, held in a min-heap.
type scheduler struct {
	mu   sync.Mutex
	h    connHeap
	wake chan struct{} // capacity 1: "the earliest event may have changed"
	done chan struct{}
	// tick runs one client's due events and returns its next event time,
	// or false to drop it. It runs without the scheduler's lock.
	tick  func(c *conn, mono int64) (next int64, keep bool)
	clock func() int64 // monotonic ns
}

func newScheduler(clock func() int64, tick func(*conn, int64) (int64, bool)) *scheduler {
	return &scheduler{wake: make(chan struct{}, 1), done: make(chan struct{}), tick: tick, clock: clock}
}

// add schedules c's first event at c.next.
func (s *scheduler) add(c *conn) {
	s.mu.Lock()
	heap.Push(&s.h, c)
	top := s.h[0] == c
	s.mu.Unlock()
	if top {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// len returns the number of scheduled clients.
func (s *scheduler) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h)
}

// run loops until stop is closed.
func (s *scheduler) run(stop <-chan struct{}) {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := s.clock()
		s.mu.Lock()
		if len(s.h) == 0 || s.h[0].next > now+int64(schedSlack) {
			wait := time.Hour
			if len(s.h) > 0 {
				wait = time.Duration(s.h[0].next - now)
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
		next, keep := s.tick(c, now)
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
