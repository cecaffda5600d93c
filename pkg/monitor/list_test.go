package monitor

import (
	"errors"
	"fmt"
	"github.com/pingapi/pingapi/pkg/wire"
	"slices"
	"testing"
)

func newTestMonitor(t *testing.T, imm []string, store *Store) *Monitor {
	t.Helper()
	m, err := New(Options{Settings: testSettings(), Immutable: imm, Pinger: &fakePinger{},
		Store: store, Resolve: fakeResolve, LookupAll: fakeLookupAll, Policy: testPolicy})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMutableListPersistsAcrossRestarts(t *testing.T) {
	store := NewStore(t.TempDir())
	imm := []string{"10.0.0.1", "10.0.0.2"}
	m := newTestMonitor(t, imm, store)
	for _, n := range []string{"10.0.0.3", "h4.test", "10.0.0.5"} {
		if err := m.Add(t.Context(), n); err != nil {
			t.Fatalf("Add(%s): %v", n, err)
		}
	}
	if err := m.Delete("10.0.0.5"); err != nil {
		t.Fatal(err)
	}
	// Restart, with 10.0.0.3 now also in the configuration: it stays once,
	// immutable.
	m2 := newTestMonitor(t, append(imm, "10.0.0.3"), store)
	gotImm, gotMut := m2.IPList()
	if !slices.Equal(gotImm, []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}) || !slices.Equal(gotMut, []string{"h4.test"}) {
		t.Fatalf("after restart: immutable %q mutable %q", gotImm, gotMut)
	}
	if m2.Len() != 4 {
		t.Errorf("table has %d hosts, want 4", m2.Len())
	}
	if err := m2.Delete("10.0.0.3"); !errors.Is(err, ErrImmutable) {
		t.Errorf("Delete(immutable) = %v", err)
	}
}

func TestListErrors(t *testing.T) {
	m := newTestMonitor(t, []string{"10.0.0.1"}, nil)
	ctx := t.Context()
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"add immutable", m.Add(ctx, "10.0.0.1"), ErrExists},
		{"add unresolvable", m.Add(ctx, "nowhere.test"), ErrUnresolvable},
		{"add invalid", m.Add(ctx, "not a host"), ErrInvalid},
		{"delete absent", m.Delete("10.9.9.9"), ErrNotFound},
		{"delete immutable", m.Delete("10.0.0.1"), ErrImmutable},
		{"bad mode", m.Update(ctx, []string{"10.0.0.2"}, "merge"), ErrBadMode},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func TestUpdate(t *testing.T) {
	m := newTestMonitor(t, []string{"10.0.0.1"}, NewStore(t.TempDir()))
	ctx := t.Context()
	if err := m.Update(ctx, []string{"10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.2"}, "append"); err != nil {
		t.Fatal(err)
	}
	err := m.Update(ctx, []string{"10.0.0.7", "h8.test", "nowhere.test"}, "replace")
	var ie *IndexError
	if !errors.As(err, &ie) || ie.Index != 3 || !errors.Is(err, ErrUnresolvable) {
		t.Fatalf("Update with a bad third element: %v", err)
	}
	if _, mut := m.IPList(); !slices.Equal(mut, []string{"10.0.0.2", "10.0.0.3"}) {
		t.Fatalf("a failed update changed the list: %q", mut)
	}
	if err := m.Update(ctx, []string{"10.0.0.7", "h8.test"}, "replace"); err != nil {
		t.Fatal(err)
	}
	if _, mut := m.IPList(); !slices.Equal(mut, []string{"10.0.0.7", "h8.test"}) {
		t.Fatalf("after replace: %q", mut)
	}
}

func TestMatch(t *testing.T) {
	m := newTestMonitor(t, []string{"10.0.0.4", "h4.test", "10.0.0.5"}, nil)
	got, err := m.Match(t.Context(), "h4.test")
	// h4.test itself is not resolved until probed: matched by name; 10.0.0.4
	// by address.
	if err != nil || !slices.Equal(got, []string{"10.0.0.4", "h4.test"}) {
		t.Fatalf("Match(h4.test) = %q %v", got, err)
	}
	if got, err := m.Match(t.Context(), "10.0.0.9"); err != nil || len(got) != 0 {
		t.Fatalf("Match(unmonitored) = %q %v", got, err)
	}
	if _, err := m.Match(t.Context(), "nowhere.test"); err == nil {
		t.Fatal("Match(unresolvable): no error")
	}
	// A host monitored under a name that does not resolve (now) is still
	// found by that name, with the lookup error.
	m = newTestMonitor(t, []string{"10.0.0.4", "gone.test"}, nil)
	if got, err := m.Match(t.Context(), "gone.test"); err == nil || !slices.Equal(got, []string{"gone.test"}) {
		t.Fatalf("Match(monitored, unresolvable) = %q %v; want [gone.test] and an error", got, err)
	}
	if _, err := m.Match(t.Context(), "bad name"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Match(bad name) = %v, want ErrInvalid", err)
	}
}

func TestRecordsPaging(t *testing.T) {
	var names []string
	for i := range 1300 {
		names = append(names, fmt.Sprintf("10.2.%d.%d", i/250, i%250+1))
	}
	m := newTestMonitor(t, names, nil)
	tests := []struct{ offset, limit, want int }{
		{0, 0, 1300}, {0, 10, 10}, {1290, 100, 10}, {1300, 5, 0}, {513, 600, 600}, {-5, 3, 3},
	}
	for _, tt := range tests {
		var got []string
		err := m.Records(tt.offset, tt.limit, func(rs []wire.Record) error {
			for _, r := range rs {
				got = append(got, r.Name)
			}
			return nil
		})
		if err != nil || len(got) != tt.want {
			t.Fatalf("Records(%d, %d): %d records, %v; want %d", tt.offset, tt.limit, len(got), err, tt.want)
		}
		if start := max(tt.offset, 0); len(got) > 0 && got[0] != names[start] {
			t.Errorf("Records(%d, %d) starts at %s, want %s", tt.offset, tt.limit, got[0], names[start])
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := m.Records(0, 0, func([]wire.Record) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("an error of fn does not stop the iteration: %v after %d calls", err, calls)
	}
}

// TestRecordsSnapshot applies list changes while the records are being read
// (as a round boundary may during a streamed GET /host): the reader gets
// the table of when it started, each host once.
func TestRecordsSnapshot(t *testing.T) {
	var names []string
	for i := range 1300 {
		names = append(names, fmt.Sprintf("10.4.%d.%d", i/250, i%250+1))
	}
	m := newTestMonitor(t, nil, nil)
	if err := m.Update(t.Context(), names, "replace"); err != nil {
		t.Fatal(err)
	}
	m.apply()
	var got []string
	err := m.Records(0, 0, func(rs []wire.Record) error {
		for _, r := range rs {
			got = append(got, r.Name)
		}
		if len(got) == 512 { // after the first chunk: drop ten hosts, apply
			for _, n := range names[:10] {
				if err := m.Delete(n); err != nil {
					return err
				}
			}
			m.apply()
		}
		return nil
	})
	if err != nil || !slices.Equal(got, names) {
		t.Fatalf("%d records (%v), want the %d of the table at start, in order", len(got), err, len(names))
	}
}
