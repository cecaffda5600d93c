package probe

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"
)

// Ping runs one measurement and blocks until every request has been answered
// or has passed its deadline, or ctx is done. onPacket, if not nil, is called
// once per request, in sequence order, as soon as its fate is final (reply or
// deadline); it is called from Ping's goroutine, never concurrently.
// Duplicates and late replies that arrive after a request was handed to
// onPacket are counted in the Result only, and only while the measurement
// runs: it ends as soon as every request's fate is final, as ping -c does.
// Cancelling ctx ends the measurement at once and returns the partial Result
// (the requests sent so far) together with ctx.Err(). A target that never
// answers is a Result with Received 0, not an error; Ping returns an error
// only for an invalid Request, a missing socket for the family, a closed
// engine, or when the kernel refused every request (for example no route or
// a Source address that is not local).
func (e *Engine) Ping(ctx context.Context, req Request, onPacket func(Packet)) (Result, error) {
	m, err := e.start(ctx, &req, onPacket != nil, nil, nil)
	if err != nil {
		return failed(req.Target, err)
	}
	return e.wait(ctx, m, onPacket)
}

// start validates req and registers the measurement with the scheduler.
// It is split from wait so that the long wait runs on a small stack frame:
// with 100,000 measurements in flight, stack size is most of their memory.
func (e *Engine) start(ctx context.Context, req *Request, eachPacket bool, onPacket func(Packet), done func(Result, error)) (*meas, error) {
	if err := normalize(req); err != nil {
		return nil, err
	}
	if e.opts.Admit != nil {
		if err := e.opts.Admit(req.Target); err != nil {
			return nil, err
		}
	}
	fam := 0
	if req.Target.Is6() {
		fam = 1
	}
	c := e.conns[fam]
	if c == nil {
		return nil, noSocket(fam)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Field by field on a heap object: a composite literal of this size
	// would be staged in start's frame, and every waiting goroutine would
	// pay for the bigger stack.
	m := new(meas)
	m.req = *req
	m.fam = uint8(fam)
	m.conn = c
	m.dst.ip = req.Target.As16()
	m.token = rand.Uint64()
	if done == nil {
		m.notify = make(chan struct{}, 1) // Ping's goroutine waits on it
	}
	m.pk = make([]pkt, req.Count)
	m.hidx = -1
	m.eachPacket = eachPacket
	if done != nil {
		m.done = done
		m.completed = &e.completed
		if onPacket != nil {
			m.onPacket = onPacket
			m.emitting = &e.emitting
		}
	}
	if req.Target.Zone() != "" {
		scope, err := zoneIndex(req.Target)
		if err != nil {
			return nil, err
		}
		m.dst.scope = scope
	}
	m.oob = buildOOB(fam == 1, *req)

	m.started = time.Now()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	if done != nil && ctx.Done() != nil {
		// In the same critical section as the push below, so that a
		// cancellation finds m in the heap.
		m.ctx = ctx
		e.watch(ctx)
	}
	m.nextSend = e.mono()
	e.sched.h.push(m, m.nextSend)
	// A loop that is awake, or wakes within pollInterval anyway (it
	// polls that often while requests are in flight), takes the new
	// measurement then: its first send leaves at most that late.
	kick := m.nextSend+int64(pollInterval) < e.sleepUntil
	e.mu.Unlock()
	if kick {
		e.kick()
	}
	return m, nil
}

// failed is Ping's result when the measurement could not start.
//
//go:noinline
func failed(target netip.Addr, err error) (Result, error) {
	return Result{Target: target.Unmap()}, err
}

// noSocket and zoneIndex keep rare paths (and their fmt frames) out of
// start.
//
//go:noinline
func noSocket(fam int) error { return fmt.Errorf("%w: no IPv%d socket", ErrNoSocket, 4+2*fam) }

//go:noinline
func zoneIndex(a netip.Addr) (uint32, error) {
	ifi, err := net.InterfaceByName(a.Zone())
	if err != nil {
		return 0, fmt.Errorf("probe: zone of %v: %w", a, err)
	}
	return uint32(ifi.Index), nil
}

// wait hands finished requests to onPacket until the measurement is over.
// It stays lean (the work is in emit and end) because it is where every
// waiting measurement's goroutine sits.
func (e *Engine) wait(ctx context.Context, m *meas, onPacket func(Packet)) (Result, error) {
	var batch []Packet
	for {
		select {
		case <-m.notify:
		case <-ctx.Done():
			return e.abort(m, ctx.Err())
		case <-e.done:
			return e.abort(m, ErrClosed)
		}
		done := e.emit(m, &batch)
		if onPacket != nil {
			for i := range batch {
				onPacket(batch[i])
			}
		}
		batch = batch[:0]
		if done {
			return e.end(m)
		}
	}
}

// emit appends the requests whose fate became final, in order, and reports
// whether the measurement is over (then it is removed from the engine).
func (e *Engine) emit(m *meas, batch *[]Packet) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for m.nemit < m.nsent && m.pk[m.nemit].final() {
		if m.eachPacket {
			*batch = append(*batch, m.packet(m.nemit))
		}
		m.nemit++
	}
	done := m.nemit == len(m.pk)
	if done {
		e.finishLocked(m)
	}
	return done
}

// abort ends a measurement early with err.
func (e *Engine) abort(m *meas, err error) (Result, error) {
	e.finish(m)
	return m.result(), err
}

// end builds the final Result of a finished measurement.
func (e *Engine) end(m *meas) (Result, error) {
	res := m.result()
	if res.SendErrors == res.Sent && m.sendErr != nil {
		return res, fmt.Errorf("probe: send to %v: %w", m.req.Target, m.sendErr)
	}
	return res, nil
}

// kick wakes the engine's loop without blocking.
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// finish removes m from the engine: its in-flight entries and its place in
// the scheduler. Afterwards nothing but the caller touches m.
func (e *Engine) finish(m *meas) {
	e.mu.Lock()
	e.finishLocked(m)
	e.mu.Unlock()
}

func (e *Engine) finishLocked(m *meas) {
	if m.finished {
		return
	}
	m.finished = true
	e.unwatch(m)
	for i := m.nfree; i < m.nsent; i++ {
		e.release(m, i)
	}
	m.nfree = m.nsent
	if m.hidx >= 0 {
		e.sched.h.remove(m.hidx)
	}
}

// result builds the Result of a finished measurement.
func (m *meas) result() Result {
	res := Result{Target: m.req.Target, Started: m.started, Finished: time.Now()}
	res.Packets = make([]Packet, 0, m.nsent)
	for i := 0; i < m.nsent; i++ {
		p := m.packet(i)
		if m.pk[i].flags&(fSent|fSendErr) == 0 {
			break // scheduled but the send did not complete before the end
		}
		res.Packets = append(res.Packets, p)
		res.Sent++
		res.Duplicates += p.Duplicates
		if p.Received {
			res.Received++
		}
		if p.Late {
			res.Late++
		}
		if p.SendError {
			res.SendErrors++
		}
	}
	return res
}
