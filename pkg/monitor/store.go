package monitor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// StoreFile is the name of the mutable ip-list inside the data directory;
// its journal is StoreFile + JournalSuffix.
const (
	StoreFile     = "ip-list"
	JournalSuffix = ".journal"
)

// minCompact is the journal length (entries) below which it is never
// compacted into the list.
const minCompact = 4096

// Store persists the mutable ip-list as two files in DIR:
//
//   - DIR/ip-list, the list as of the last compaction, one name per line
//     (the ip-list syntax), replaced atomically: written to a temporary
//     file, fsynced, renamed over the list, and the directory fsynced;
//   - DIR/ip-list.journal, the changes since then, one per line ("+NAME"
//     added at the end, "-NAME" removed), appended and fsynced before a
//     change is acknowledged.
//
// A single change costs one short append and one fsync, whatever the size
// of the list; the journal is folded into the list (compacted) once it has
// more entries than the list has names (at least minCompact), so the
// rewrite of the list is amortised over as many changes. A crash (kill -9,
// power loss) at any moment loses no acknowledged change: Load reads the
// list and replays the journal, ignoring a torn last entry that was never
// acknowledged. Each list carries a generation ("# generation N") and the
// journal names the generation it follows ("=N", its first line): a crash
// between writing a new list and starting its journal leaves a journal of
// the previous generation, which Load ignores, since the new list already
// holds (or, for a replace, overrides) its changes. Not safe for concurrent
// use; Monitor serialises its calls.
type Store struct {
	dir     string
	gen     uint64   // generation of the list; the journal's must match
	journal *os.File // open for appending once a change opened it
	entries int      // entries in the journal
	// hooks for tests: called after the temporary file is written and
	// synced, before the rename; an error aborts the save.
	beforeRename func(tmp string) error
	// minCompact overrides the package's minCompact (tests); 0: the default.
	minCompact int
	// written counts the bytes written to both files (tests).
	written int64
	// broken is set when a new list was renamed into place but could not
	// be made durable: which generation a crash would leave is unknown, so
	// no change is acknowledged any more (until a restart reloads).
	broken error
}

// NewStore returns the store of the mutable ip-list in dir. The directory
// is created (0o700) on the first change if needed.
func NewStore(dir string) *Store { return &Store{dir: dir} }

// Path returns the file the list is kept in.
func (s *Store) Path() string { return filepath.Join(s.dir, StoreFile) }

// JournalPath returns the file the changes since the last compaction are
// appended to.
func (s *Store) JournalPath() string { return s.Path() + JournalSuffix }

const tmpPattern = StoreFile + ".tmp-*"

// Load reads the saved list and replays the journal; missing files are an
// empty list. Temporary files left by a compaction that crashed are
// removed, and so is a torn journal entry (the change was never
// acknowledged): later changes are appended after the last whole entry.
func (s *Store) Load() ([]string, error) {
	if stale, _ := filepath.Glob(filepath.Join(s.dir, tmpPattern)); len(stale) > 0 {
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
	data, err := os.ReadFile(s.Path())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the mutable ip-list: %w", err)
	}
	names, err := ParseIPList(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Path(), err)
	}
	s.gen = generation(data)
	jdata, err := os.ReadFile(s.JournalPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nonEmpty(names), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the journal of the mutable ip-list: %w", err)
	}
	header := fmt.Sprintf("=%d\n", s.gen)
	whole, entries := 0, 0
	if bytes.HasPrefix(jdata, []byte(header)) {
		names, whole, entries = replay(names, jdata[len(header):])
		whole += len(header)
	}
	// else: the journal of an earlier generation (a crash right after a
	// new list was written), or a header torn by a crash: nothing in it
	// is to be replayed.
	if whole < len(jdata) {
		// A torn or unwritten tail: the change it held was never
		// acknowledged. Cut it so that new entries follow whole ones.
		if err := os.Truncate(s.JournalPath(), int64(whole)); err != nil {
			return nil, fmt.Errorf("truncating the journal of the mutable ip-list: %w", err)
		}
	}
	s.entries = entries
	return nonEmpty(names), nil
}

func nonEmpty(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	return names
}

// generation returns the generation a saved list declares in its header
// comments, 0 for none.
func generation(list []byte) uint64 {
	for line := range bytes.Lines(list) {
		if len(line) == 0 || line[0] != '#' {
			break
		}
		var g uint64
		if _, err := fmt.Sscanf(string(line), "# generation %d", &g); err == nil {
			return g
		}
	}
	return 0
}

// replay applies the journal's whole entries to names and returns the
// result, the length of the whole entries and their number. It stops at the
// first entry that is not whole and valid: whatever follows was written
// after the last acknowledged change.
func replay(names []string, journal []byte) ([]string, int, int) {
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	removed := 0
	whole, entries := 0, 0
	for whole < len(journal) {
		nl := bytes.IndexByte(journal[whole:], '\n')
		if nl < 2 {
			break // torn, or an empty line
		}
		line := string(journal[whole : whole+nl])
		op, name := line[0], line[1:]
		if c, err := canonicalName(name); err != nil || c != name || op != '+' && op != '-' {
			break
		}
		switch i, ok := index[name]; {
		case op == '+' && !ok:
			index[name] = len(names)
			names = append(names, name)
		case op == '-' && ok:
			names[i] = ""
			delete(index, name)
			removed++
		}
		whole += nl + 1
		entries++
	}
	if removed > 0 {
		names = deleteEmpty(names)
	}
	return names, whole, entries
}

func deleteEmpty(names []string) []string {
	out := names[:0]
	for _, n := range names {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// Add appends names (canonical, not listed yet) to the saved list: one
// journal entry each, one fsync.
func (s *Store) Add(names []string) error {
	var b bytes.Buffer
	for _, n := range names {
		b.WriteByte('+')
		b.WriteString(n)
		b.WriteByte('\n')
	}
	return s.appendJournal(b.Bytes(), len(names))
}

// Remove removes name from the saved list: one journal entry, one fsync.
func (s *Store) Remove(name string) error {
	return s.appendJournal([]byte("-"+name+"\n"), 1)
}

// NeedsCompaction reports whether the journal has grown past the list of n
// names (and minCompact): then Save(the list) folds it in.
func (s *Store) NeedsCompaction(n int) bool {
	lim := s.minCompact
	if lim <= 0 {
		lim = minCompact
	}
	return s.entries > max(n, lim)
}

func (s *Store) appendJournal(p []byte, entries int) error {
	if s.broken != nil {
		return s.broken
	}
	for _, line := range bytes.SplitAfter(p, []byte{'\n'}) {
		if len(line) > 0 && bytes.ContainsAny(line[:len(line)-1], "\r\n") {
			return fmt.Errorf("invalid name %q", line)
		}
	}
	if s.journal == nil {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(s.JournalPath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		// A new journal's directory entry must be durable too.
		if err := syncDir(s.dir); err != nil {
			f.Close()
			return err
		}
		s.journal = f
		if fi, err := f.Stat(); err != nil {
			return s.dropJournal(err)
		} else if fi.Size() == 0 {
			p = append([]byte(fmt.Sprintf("=%d\n", s.gen)), p...)
		}
	}
	if _, err := s.journal.Write(p); err != nil {
		return s.dropJournal(err)
	}
	if err := s.journal.Sync(); err != nil {
		return s.dropJournal(err)
	}
	s.written += int64(len(p))
	s.entries += entries
	return nil
}

// dropJournal closes the journal after a failed write; the next change
// reopens it. A partly written entry is cut by the next Load.
func (s *Store) dropJournal(err error) error {
	s.journal.Close()
	s.journal = nil
	return err
}

// Save replaces the saved list with names, atomically and durably, and
// empties the journal: a replace of the list, and the journal's compaction.
func (s *Store) Save(names []string) (err error) {
	if s.broken != nil {
		return s.broken
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, tmpPattern)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	cw := &countingWriter{w: f}
	w := bufio.NewWriterSize(cw, 64<<10)
	gen := s.gen + 1
	w.WriteString("# pingapi mutable ip-list: changed through the API (changes since the last compaction are in " +
		StoreFile + JournalSuffix + "), do not edit while pingapi runs\n")
	fmt.Fprintf(w, "# generation %d\n", gen)
	for _, n := range names {
		if strings.ContainsAny(n, "\n\r") {
			return fmt.Errorf("invalid name %q", n)
		}
		w.WriteString(n)
		w.WriteByte('\n')
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if s.beforeRename != nil {
		if err = s.beforeRename(tmp); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp, s.Path()); err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		s.broken = fmt.Errorf("the mutable ip-list could not be made durable (%w); changes are refused until a restart", err)
		return s.broken
	}
	s.written += cw.n
	// The new list holds (or overrides) every change of the journal: start
	// an empty one. Until then the journal is of the previous generation,
	// and Load ignores it.
	s.gen = gen
	if s.journal != nil {
		s.journal.Close()
		s.journal = nil
	}
	if err := os.Truncate(s.JournalPath(), 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	s.entries = 0
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// syncDir makes a rename (or a new file) in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
