package monitor

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/internal/netlab"
)

// TestSingleChangeIsO1: a PUT or DELETE appends one journal entry; the list
// is rewritten only when the journal has outgrown it, so the bytes written
// per change do not grow with the list (they were the whole list: 11-34 ms
// and a few MB per PUT at 150,000 entries).
func TestSingleChangeIsO1(t *testing.T) {
	for _, size := range []int{500, 5000} {
		store := NewStore(t.TempDir())
		store.minCompact = 100
		initial := make([]string, size)
		for i := range initial {
			initial[i] = fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)
		}
		if err := store.Save(initial); err != nil {
			t.Fatal(err)
		}
		m, err := New(Options{Settings: testSettings(), Pinger: &fakePinger{}, Store: store, Policy: testPolicy})
		if err != nil {
			t.Fatal(err)
		}
		store.written = 0
		const changes = 600
		for i := range changes / 2 {
			name := fmt.Sprintf("10.2.%d.%d", i/250, i%250+1)
			if err := m.Add(t.Context(), name); err != nil {
				t.Fatal(err)
			}
			if err := m.Delete(initial[i]); err != nil {
				t.Fatal(err)
			}
		}
		perChange := float64(store.written) / changes
		t.Logf("list of %d: %d bytes written for %d changes (%.0f per change)", size, store.written, changes, perChange)
		if perChange > 100 {
			t.Errorf("list of %d: %.0f bytes written per change, want O(1) (at most 100)", size, perChange)
		}
		// What is saved is what is in memory, after a restart too.
		_, mut := m.IPList()
		got, err := NewStore(store.dir).Load()
		if err != nil || !slices.Equal(got, mut) {
			t.Fatalf("list of %d: reloaded %d names (%v), in memory %d", size, len(got), err, len(mut))
		}
	}
}

// TestStoreTornJournal: an entry cut by a crash (never acknowledged) or
// garbage after the last entry is ignored and cut, and later entries follow
// the whole ones.
func TestStoreTornJournal(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir)
	if err := s.Save([]string{"10.0.0.1", "10.0.0.2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add([]string{"10.0.0.3"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	for _, tail := range []string{"+10.0.0.", "\x00\x00\x00\x00", "+10.0.0.9\x00\n"} {
		f, _ := os.OpenFile(s.JournalPath(), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString(tail)
		f.Close()
		s2 := NewStore(dir)
		got, err := s2.Load()
		if want := []string{"10.0.0.2", "10.0.0.3"}; err != nil || !slices.Equal(got, want) {
			t.Fatalf("tail %q: %q %v, want %q", tail, got, err, want)
		}
		if err := s2.Add([]string{"10.0.0.4"}); err != nil {
			t.Fatal(err)
		}
		got, _ = NewStore(dir).Load()
		if want := []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"}; !slices.Equal(got, want) {
			t.Fatalf("tail %q, then an add: %q, want %q", tail, got, want)
		}
		if err := s2.Remove("10.0.0.4"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestJournalKill9 kills a process that changes the mutable list through
// the Monitor (PUT, DELETE, POST append and replace, with compactions every
// few dozen changes) at arbitrary moments, ten times: every acknowledged
// change is in the list read back, and the change in flight is either
// wholly there or not at all.
func TestJournalKill9(t *testing.T) {
	if dir := os.Getenv("PINGAPI_JOURNAL_CRASH_DIR"); dir != "" {
		journalChild(dir)
		return
	}
	netlab.SkipShort(t, "spawns subprocesses")
	dir := t.TempDir()
	var model []string // the list as acknowledged
	acked := 0
	for k := range 10 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestJournalKill9$")
		cmd.Env = append(os.Environ(), "PINGAPI_JOURNAL_CRASH_DIR="+dir, fmt.Sprintf("PINGAPI_JOURNAL_SEED=%d", k))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		killAt := 40 + rand.IntN(200)
		var pending []string // the change begun and not yet acknowledged
		n := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch f[0] {
			case "B":
				pending = f[1:]
			case "A":
				model = applyChange(model, pending)
				pending = nil
				acked++
				n++
			case "X":
				t.Fatalf("child: %s", sc.Text())
			}
			if n == killAt {
				cmd.Process.Kill() // kill -9, wherever it is
			}
			// Lines it wrote before it died are still read: a change it
			// began, or even acknowledged, meanwhile.
		}
		cmd.Process.Kill()
		cmd.Wait()
		got, err := NewStore(dir).Load()
		if err != nil {
			t.Fatalf("kill %d: Load: %v", k, err)
		}
		with := applyChange(slices.Clone(model), pending)
		switch {
		case sameSet(got, model):
		case pending != nil && sameSet(got, with):
			model = with // the change in flight made it
		default:
			t.Fatalf("kill %d after %d acknowledged changes: %d names read back, want %d (or %d with the change in flight %q)",
				k, acked, len(got), len(model), len(with), pending)
		}
		if !slices.Equal(got, model) {
			t.Logf("kill %d: same names, other order", k)
		}
		model = got
	}
	t.Logf("%d acknowledged changes kept through 10 kill -9s; %d names at the end", acked, len(model))
}

// applyChange applies a change as the child logs it: "add N", "del N",
// "app N...", "rep N...".
func applyChange(list []string, change []string) []string {
	if len(change) == 0 {
		return list
	}
	switch change[0] {
	case "add", "app":
		for _, n := range change[1:] {
			if !slices.Contains(list, n) {
				list = append(list, n)
			}
		}
	case "del":
		list = slices.DeleteFunc(list, func(s string) bool { return s == change[1] })
	case "rep":
		list = slices.Clone(change[1:])
	}
	return list
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// journalChild changes the list until it is killed, logging "B change"
// before each change and "A" once it is acknowledged.
func journalChild(dir string) {
	store := NewStore(dir)
	store.minCompact = 20
	m, err := New(Options{Settings: testSettings(), Pinger: &fakePinger{}, Store: store, Policy: testPolicy})
	if err != nil {
		fmt.Println("X", err)
		os.Exit(3)
	}
	var seed uint64
	fmt.Sscan(os.Getenv("PINGAPI_JOURNAL_SEED"), &seed)
	rng := rand.New(rand.NewPCG(seed, 42))
	next := func() string {
		return fmt.Sprintf("10.%d.%d.%d", seed+10, rng.IntN(250), rng.IntN(250)+1)
	}
	w := bufio.NewWriter(os.Stdout)
	say := func(s string) { w.WriteString(s + "\n"); w.Flush() }
	for {
		_, mut := m.IPList()
		var change []string
		var err error
		switch r := rng.IntN(100); {
		case r < 45 || len(mut) == 0:
			change = []string{"add", next()}
			say("B " + strings.Join(change, " "))
			err = m.Add(ctxBackground(), change[1])
		case r < 85:
			change = []string{"del", mut[rng.IntN(len(mut))]}
			say("B " + strings.Join(change, " "))
			err = m.Delete(change[1])
		case r < 98:
			change = []string{"app", next(), next(), next()}
			say("B " + strings.Join(change, " "))
			err = m.Update(ctxBackground(), change[1:], "append")
		default:
			change = append([]string{"rep"}, mut[:len(mut)/2]...)
			change = append(change, next())
			say("B " + strings.Join(change, " "))
			err = m.Update(ctxBackground(), change[1:], "replace")
		}
		if err != nil && err != ErrExists {
			say("X " + err.Error())
			os.Exit(3)
		}
		say("A")
	}
}

func ctxBackground() context.Context { return context.Background() }

// TestStoreCrashAfterReplace: a crash after a replace wrote the new list
// but before its journal was started leaves the previous journal behind;
// its entries are not replayed over the new list.
func TestStoreCrashAfterReplace(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir)
	if err := s.Save([]string{"10.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add([]string{"10.0.0.2", "10.0.0.3"}); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(s.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save([]string{"10.0.0.9"}); err != nil { // the replace
		t.Fatal(err)
	}
	if err := os.WriteFile(s.JournalPath(), old, 0o600); err != nil { // as if it died before emptying it
		t.Fatal(err)
	}
	s2 := NewStore(dir)
	got, err := s2.Load()
	if err != nil || !slices.Equal(got, []string{"10.0.0.9"}) {
		t.Fatalf("after a crash following a replace: %q %v, want [10.0.0.9]", got, err)
	}
	if err := s2.Add([]string{"10.0.0.10"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := NewStore(dir).Load(); !slices.Equal(got, []string{"10.0.0.9", "10.0.0.10"}) {
		t.Fatalf("then an add: %q", got)
	}
}
