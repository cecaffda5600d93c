package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
)

// behaviour is what the fake pinger does for one address.
type behaviour struct {
	recv  int           // replies, out of Count (-1: all)
	dur   time.Duration // how long the probe takes
	block bool          // never finishes until ctx is done
	err   error         // the engine fails
	dup   int           // duplicate replies
}

type call struct {
	addr netip.Addr
	at   time.Time
}

// fakePinger stands in for *probe.Engine; it runs on the (synctest) clock.
type fakePinger struct {
	mu     sync.Mutex
	calls  []call
	behave map[netip.Addr]behaviour // default: all replies, 100 ms
}

func (f *fakePinger) set(a string, b behaviour) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.behave == nil {
		f.behave = map[netip.Addr]behaviour{}
	}
	f.behave[netip.MustParseAddr(a)] = b
}

func (f *fakePinger) callsTo(a string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Time
	for _, c := range f.calls {
		if c.addr == netip.MustParseAddr(a) {
			out = append(out, c.at)
		}
	}
	return out
}

func (f *fakePinger) Ping(ctx context.Context, req probe.Request, onPacket func(probe.Packet)) (probe.Result, error) {
	start := time.Now()
	f.mu.Lock()
	f.calls = append(f.calls, call{req.Target, start})
	b, ok := f.behave[req.Target]
	f.mu.Unlock()
	if !ok {
		b = behaviour{recv: -1, dur: 100 * time.Millisecond}
	}
	if b.block {
		<-ctx.Done()
		return probe.Result{}, ctx.Err()
	}
	select {
	case <-time.After(b.dur):
	case <-ctx.Done():
		return probe.Result{}, ctx.Err()
	}
	if b.err != nil {
		return probe.Result{}, b.err
	}
	recv := b.recv
	if recv < 0 || recv > req.Count {
		recv = req.Count
	}
	res := probe.Result{Target: req.Target, Sent: req.Count, Received: recv, Duplicates: b.dup, Started: start, Finished: time.Now()}
	for i := range req.Count {
		p := probe.Packet{Seq: i, SentAt: start.Add(time.Duration(i) * req.Interval)}
		if i < recv {
			p.Received, p.RTT = true, time.Millisecond+time.Duration(i%2)*200*time.Microsecond
		}
		res.Packets = append(res.Packets, p)
	}
	return res, nil
}

// fakeStarter is a fakePinger that is also a Starter, as *probe.Engine is:
// Start runs the fake measurement on a goroutine of its own and calls done
// from there, as the engine calls it from its loop.
type fakeStarter struct {
	*fakePinger
	starts atomic.Int64
}

func (f *fakeStarter) Start(ctx context.Context, req probe.Request, done func(probe.Result, error)) {
	f.starts.Add(1)
	go func() { done(f.Ping(ctx, req, nil)) }()
}

// fakeResolve resolves NAME.test to 10.0.0.N for names "hN.test", blocks on
// "slow.test" until ctx is done and fails for anything else.
func fakeResolve(ctx context.Context, name string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		return a, nil
	}
	if name == "slow.test" {
		<-ctx.Done()
		return netip.Addr{}, ctx.Err()
	}
	var n int
	if _, err := fmt.Sscanf(name, "h%d.test", &n); err == nil {
		return netip.AddrFrom4([4]byte{10, 0, 0, byte(n)}), nil
	}
	return netip.Addr{}, errors.New("no such host")
}

func fakeLookupAll(ctx context.Context, name string) ([]netip.Addr, error) {
	a, err := fakeResolve(ctx, name)
	if err != nil {
		return nil, err
	}
	return []netip.Addr{a}, nil
}
