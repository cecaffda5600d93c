package monitor

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingapi/pingapi/pkg/probe"
)

// probeLog is a Recorder that keeps what it is given.
type probeLog struct {
	mu   sync.Mutex
	seen map[string][]probe.Result
	errs map[string]int
}

func (p *probeLog) Record(target string, req probe.Request, res probe.Result, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil {
		p.seen, p.errs = map[string][]probe.Result{}, map[string]int{}
	}
	p.seen[target] = append(p.seen[target], res)
	if err != nil {
		p.errs[target]++
	}
}

// TestRecorderSeesEveryProbe: each probe that ran reaches the recorder
// once, under the host's name, failed ones with their error.
func TestRecorderSeesEveryProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakePinger{}
		f.set("10.0.0.1", behaviour{recv: 2, dur: time.Second})
		f.set("10.0.0.2", behaviour{err: errors.New("send failed")})
		rec := &probeLog{}
		_, stop := startMonitor(t, Options{Settings: testSettings(), Pinger: f, Recorder: rec,
			Immutable: []string{"10.0.0.1", "10.0.0.2"}})
		time.Sleep(25 * time.Second) // three rounds of 10 s start in [0, 25)
		synctest.Wait()
		stop()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if n := len(rec.seen["10.0.0.1"]); n != 3 {
			t.Errorf("10.0.0.1: %d probes recorded, want 3", n)
		}
		for _, r := range rec.seen["10.0.0.1"] {
			if r.Received != 2 || r.Sent != 3 {
				t.Errorf("10.0.0.1: recorded %d/%d, want 2/3", r.Received, r.Sent)
			}
		}
		if rec.errs["10.0.0.1"] != 0 {
			t.Errorf("10.0.0.1: %d errors recorded", rec.errs["10.0.0.1"])
		}
	})
}
