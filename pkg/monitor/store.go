package monitor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// StoreFile is the name of the mutable ip-list inside the data directory.
const StoreFile = "ip-list"

// Store persists the mutable ip-list as DIR/ip-list, one name per line (the
// ip-list syntax). A save writes a temporary file in the same directory,
// fsyncs it, renames it over the list and fsyncs the directory, so that a
// crash at any moment leaves either the old or the new list, whole. Not
// safe for concurrent Saves; Monitor serialises them.
type Store struct {
	dir string
	// hooks for tests: called after the temporary file is written and
	// synced, before the rename; an error aborts the save.
	beforeRename func(tmp string) error
}

// NewStore returns the store of the mutable ip-list in dir. The directory
// is created (0o700) on the first save if needed.
func NewStore(dir string) *Store { return &Store{dir: dir} }

// Path returns the file the list is kept in.
func (s *Store) Path() string { return filepath.Join(s.dir, StoreFile) }

const tmpPattern = StoreFile + ".tmp-*"

// Load reads the saved list; a missing file is an empty list. Temporary
// files left by a save that crashed are removed: the list itself is whole
// whatever the moment of the crash.
func (s *Store) Load() ([]string, error) {
	if stale, _ := filepath.Glob(filepath.Join(s.dir, tmpPattern)); len(stale) > 0 {
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
	data, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the mutable ip-list: %w", err)
	}
	names, err := ParseIPList(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Path(), err)
	}
	return names, nil
}

// Save replaces the saved list with names, atomically and durably.
func (s *Store) Save(names []string) (err error) {
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
	w := bufio.NewWriterSize(f, 64<<10)
	w.WriteString("# pingapi mutable ip-list: changed through the API, do not edit while pingapi runs\n")
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
	return syncDir(s.dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
