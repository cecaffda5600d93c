package api

import (
	"sync"
	"testing"

	"github.com/pingapi/pingapi/pkg/probe"
)

// recorded is a Recorder that keeps what it is given.
type recorded struct {
	mu      sync.Mutex
	targets []string
	sent    []int
}

func (r *recorded) Record(target string, req probe.Request, res probe.Result, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.targets = append(r.targets, target)
	r.sent = append(r.sent, res.Sent)
}

// TestRecorderSeesEveryMeasurement: GET, POST and streamed measurements
// all reach the archive's recorder with the target as given; a request
// refused before measuring does not.
func TestRecorderSeesEveryMeasurement(t *testing.T) {
	rec := &recorded{}
	e := newEnv(t, func(d *Deps) { d.Recorder = rec })
	ct := []string{"Content-Type", "application/json"}
	for _, r := range []struct{ method, target, body string }{
		{"GET", "/pingapi/example.com?c=3", ""},
		{"POST", "/pingapi", `{"ip":"192.0.2.1","c":2}`},
		{"GET", "/pingapi/example.com?c=1&stream=true", ""},
		{"GET", "/pingapi/example.com?c=0", ""}, // refused: not measured
	} {
		e.do(r.method, r.target, r.body, append(bearer("a"), ct...)...)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []string{"example.com", "192.0.2.1", "example.com"}
	if len(rec.targets) != len(want) {
		t.Fatalf("recorded %v, want %v", rec.targets, want)
	}
	for i := range want {
		if rec.targets[i] != want[i] {
			t.Errorf("recorded %v, want %v", rec.targets, want)
		}
	}
	if rec.sent[0] != 3 || rec.sent[1] != 2 {
		t.Errorf("sent %v, want 3, 2, ...", rec.sent)
	}
}
