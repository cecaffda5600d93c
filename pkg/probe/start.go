package probe

import (
	"context"
	"slices"
)

// Start begins one measurement, as Ping does, and returns at once; done is
// called exactly once with what Ping would have returned. It is meant for
// callers that run many measurements at a time (the monitor): no
// goroutine waits for the measurement and none is woken when it ends.
//
// done is called on the engine's loop goroutine when the measurement
// completes, so it must be quick and must not block (it holds up every
// measurement's sends and reads); it may call Start. It is called on
// another goroutine when ctx is done first (with ctx.Err()), when the
// engine closes (ErrClosed), or at once, on the caller's goroutine, when
// the measurement cannot start.
func (e *Engine) Start(ctx context.Context, req Request, done func(Result, error)) {
	e.StartEach(ctx, req, nil, done)
}

// StartEach is Start with onPacket, if not nil, called once per request,
// in sequence order, as soon as its fate is final (as Ping's onPacket),
// on the engine's loop, and before done. The same rules as for done
// apply: quick, never blocking. When ctx is done or the engine closes, the
// requests not yet handed out are only in done's Result (done may then
// run on another goroutine while the loop hands out the last packets).
func (e *Engine) StartEach(ctx context.Context, req Request, onPacket func(Packet), done func(Result, error)) {
	if _, err := e.start(ctx, &req, false, onPacket, done); err != nil {
		done(failed(req.Target, err))
	}
}

// packetsDue takes the requests of StartEach's measurements whose fate
// became final since the last call, in sequence order per measurement.
// Caller holds e.mu.
func (e *Engine) packetsDue() []asyncPacket {
	out := e.pktBuf[:0]
	for _, m := range e.emitting {
		m.queued = false
		if m.finished {
			continue
		}
		for m.nemit < m.nsent && m.pk[m.nemit].final() {
			out = append(out, asyncPacket{m.onPacket, m.packet(m.nemit)})
			m.nemit++
		}
	}
	clear(e.emitting)
	e.emitting = e.emitting[:0]
	e.pktBuf = out
	return out
}

// asyncPacket is one pending call of a StartEach measurement's onPacket.
type asyncPacket struct {
	f func(Packet)
	p Packet
}

// callPackets calls the callbacks that packetsDue collected, outside the
// engine's lock.
func callPackets(ps []asyncPacket) {
	for i := range ps {
		ps[i].f(ps[i].p)
		ps[i] = asyncPacket{}
	}
}

// ctxWatch is the one context.AfterFunc of every asynchronous measurement
// with the same context: at 100,000 measurements in flight, one per
// measurement cost 20 MB.
type ctxWatch struct {
	n    int         // measurements of the context in the engine
	stop func() bool // unregisters the AfterFunc
}

// watch counts one more measurement of ctx, registering the context's
// AfterFunc for the first. Caller holds e.mu.
func (e *Engine) watch(ctx context.Context) {
	w := e.watches[ctx]
	if w == nil {
		if e.watches == nil {
			e.watches = make(map[context.Context]*ctxWatch)
		}
		w = &ctxWatch{}
		e.watches[ctx] = w
		// If ctx is already done, f runs at once on a goroutine of its
		// own, which waits for e.mu.
		w.stop = context.AfterFunc(ctx, func() { e.cancelAll(ctx) })
	}
	w.n++
}

// unwatch counts one measurement of m.ctx less, unregistering the
// AfterFunc after the last. Caller holds e.mu.
func (e *Engine) unwatch(m *meas) {
	if m.ctx == nil {
		return
	}
	if w := e.watches[m.ctx]; w != nil {
		if w.n--; w.n == 0 {
			w.stop()
			delete(e.watches, m.ctx)
		}
	}
	m.ctx = nil
}

// cancelAll ends every asynchronous measurement of ctx (now done) with
// ctx.Err(), on the AfterFunc's goroutine.
func (e *Engine) cancelAll(ctx context.Context) {
	e.mu.Lock()
	delete(e.watches, ctx)
	var ms []*meas
	for _, he := range e.sched.h {
		if m := he.m; m.ctx == ctx && m.done != nil {
			ms = append(ms, m)
		}
	}
	for _, m := range ms {
		m.ctx = nil // its watch is gone
		e.finishLocked(m)
	}
	e.mu.Unlock()
	err := ctx.Err()
	for _, m := range ms {
		m.done(m.result(), err)
	}
}

// cancel ends an asynchronous measurement early with err, unless it has
// ended already.
func (e *Engine) cancel(m *meas, err error) {
	e.mu.Lock()
	if m.finished {
		e.mu.Unlock()
		return
	}
	e.finishLocked(m)
	e.mu.Unlock()
	m.done(m.result(), err)
}

// completeAsync takes the asynchronous measurements that completed since
// the last call (e.completed) out of the engine and returns their
// callbacks' arguments. Caller holds e.mu.
func (e *Engine) completeAsync() []asyncDone {
	out := e.doneBuf[:0]
	for _, m := range e.completed {
		if m.finished {
			continue // cancelled meanwhile: cancel called done
		}
		e.finishLocked(m)
		res, err := e.end(m)
		out = append(out, asyncDone{m, res, err})
	}
	clear(e.completed)
	e.completed = e.completed[:0]
	e.doneBuf = out
	return out
}

// asyncDone is one pending call of an asynchronous measurement's done.
type asyncDone struct {
	m   *meas
	res Result
	err error
}

// callDone calls the callbacks that completeAsync collected, outside the
// engine's lock.
func callDone(ds []asyncDone) {
	for i := range ds {
		d := &ds[i]
		d.m.done(d.res, d.err)
		*d = asyncDone{}
	}
}

// closeAsync ends Start's measurements that are still running with
// ErrClosed, and hands over those that completed but whose done the loop
// had not called yet. Called by Close once the loop has stopped.
func (e *Engine) closeAsync() {
	e.mu.Lock()
	ds := slices.Clone(e.completeAsync())
	var open []*meas
	for _, he := range e.sched.h {
		if he.m.done != nil {
			open = append(open, he.m)
		}
	}
	e.mu.Unlock()
	callDone(ds)
	for _, m := range open {
		e.cancel(m, ErrClosed)
	}
}
