package archive

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: no such metadata key, event type, summary or archive key.
	ErrNotFound = errors.New("archive: not found")
	// ErrExists: a numeric point already stands at this ts (esmond and
	// pScheduler read HTTP 409 as "already there"), or an archive key name
	// is taken.
	ErrExists = errors.New("archive: already exists")
	// ErrInvalid: the input is malformed; the error is an *InputError whose
	// Detail is safe to show the client.
	ErrInvalid = errors.New("archive: invalid input")
	// ErrClosed: the store or feed is closed.
	ErrClosed = errors.New("archive: closed")
)

// InputError is a client mistake. Detail is a public, human-readable
// message (the esmond API returns it as {"detail": ...} with status 400).
type InputError struct{ Detail string }

func (e *InputError) Error() string { return "archive: " + e.Detail }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

func inputErrorf(format string, args ...any) error {
	return &InputError{Detail: fmt.Sprintf(format, args...)}
}
