package vault

import (
	"fmt"
	"net/http"

	kivik "github.com/go-kivik/kivik/v4"
)

// Error is the type of the vault's sentinel errors, to be tested with errors.Is.
type Error string

// Error returns the sentinel's message.
func (e Error) Error() string { return string(e) }

const (
	// ErrNotFound matches errors for a document (or _local document) that does
	// not exist or was deleted.
	ErrNotFound Error = "not found"
	// ErrConflict matches errors for a write whose _rev is missing or stale,
	// and an [Update] that kept conflicting for all of its attempts.
	ErrConflict Error = "conflict (missing or stale _rev)"
	// ErrStore matches the other failures of an operation on the store (a server
	// that does not answer, a file that cannot be written...): what a command
	// reports as a vault error rather than a problem with its input.
	ErrStore Error = "the store failed"
	// ErrInvalidName matches errors for an instance name that cannot prefix
	// the person's databases: what a command reports as bad usage.
	ErrInvalidName Error = "invalid instance name"
	// ErrInvalidDSN matches errors for a vault DSN that cannot be used (an
	// unsupported scheme, a malformed URL): what a command reports as bad usage.
	ErrInvalidDSN Error = "invalid vault DSN"
	// ErrNoVault matches the error of [Open] with [MustExist] for a vault file
	// that does not exist, or an instance that has no database in the vault: a
	// typo in what a command was given, which it reports as bad usage.
	ErrNoVault Error = "no such vault"
)

// storeError is an error of the store that keeps its message and also
// matches [ErrStore].
type storeError struct{ err error }

func (e storeError) Error() string        { return e.err.Error() }
func (e storeError) Unwrap() error        { return e.err }
func (e storeError) Is(target error) bool { return target == ErrStore }

// classify returns the sentinel that matches a kivik error, or nil.
func classify(err error) error {
	switch kivik.HTTPStatus(err) {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	}
	return nil
}

// fail wraps a kivik error of an operation on the database: the message names
// the vault (host or file), the database and the document, and errors.Is
// matches [ErrNotFound] or [ErrConflict] when they apply.
func (d *DB) fail(op, id string, err error) error {
	target := d.name
	if id != "" {
		target = fmt.Sprintf("%q in %s", id, d.name)
	}
	if kind := classify(err); kind != nil {
		return fmt.Errorf("vault: %s: %s %s: %w: %w", d.v.loc, op, target, kind, err)
	}
	return fmt.Errorf("vault: %s: %s %s: %w: %w", d.v.loc, op, target, ErrStore, err)
}
