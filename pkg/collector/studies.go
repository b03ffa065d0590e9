package collector

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coachco2/coachco2/pkg/study"
)

// Errors of the store, for errors.Is.
var (
	// ErrUnknownStudy: no study of that id is registered.
	ErrUnknownStudy = errors.New("unknown study")
	// ErrVersionConflict: a descriptor with the version of the registered one but another content,
	// or with a lower version. A published version never changes.
	ErrVersionConflict = errors.New("version conflict")
	// ErrWithdrawn: the pseudonym was withdrawn from the study; nothing of it is stored again.
	ErrWithdrawn = errors.New("pseudonym withdrawn from the study")
)

// PutStatus says what registering a descriptor did.
type PutStatus string

// The outcomes of PutStudy.
const (
	StudyCreated   PutStatus = "created"
	StudyUpdated   PutStatus = "updated"
	StudyUnchanged PutStatus = "unchanged"
)

// PutStudy registers a study, or replaces its descriptor by a higher version. The same version
// with the same content changes nothing; the same version with another content, or a lower
// version, is an [ErrVersionConflict]. Contributions already stored stay, with the version they
// were made under. The descriptor must be valid.
func (s *Store) PutStudy(ctx context.Context, d *study.Descriptor, now time.Time) (PutStatus, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("put study: %w", err)
	}
	doc, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("put study %s: %w", d.ID, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("put study %s: %w", d.ID, err)
	}
	defer tx.Rollback()
	if err := s.lock(ctx, tx, "study:"+d.ID); err != nil {
		return "", fmt.Errorf("put study %s: %w", d.ID, err)
	}
	var version int
	var old []byte
	err = tx.QueryRowContext(ctx, s.q(`SELECT version, descriptor FROM studies WHERE id = ?`), d.ID).Scan(&version, &old)
	status := StudyUpdated
	switch {
	case errors.Is(err, sql.ErrNoRows):
		status = StudyCreated
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO studies (id, version, descriptor, registered_at, updated_at) VALUES (?, ?, ?, ?, ?)`),
			d.ID, d.Version, string(doc), now.Unix(), now.Unix())
	case err != nil:
	case version == d.Version && sameDescriptor(old, doc):
		return StudyUnchanged, nil
	case version >= d.Version:
		what := "another content"
		if version > d.Version {
			what = "a lower version"
		}
		return "", fmt.Errorf("put study %s: version %d has %s than the registered version %d: publish changes as a new version: %w",
			d.ID, d.Version, what, version, ErrVersionConflict)
	default:
		_, err = tx.ExecContext(ctx, s.q(`UPDATE studies SET version = ?, descriptor = ?, updated_at = ? WHERE id = ?`),
			d.Version, string(doc), now.Unix(), d.ID)
	}
	if err != nil {
		return "", fmt.Errorf("put study %s: %w", d.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("put study %s: %w", d.ID, err)
	}
	return status, nil
}

// sameDescriptor compares a stored descriptor with a new one's JSON, both as this code writes them.
func sameDescriptor(stored, doc []byte) bool {
	var d study.Descriptor
	if json.Unmarshal(stored, &d) != nil {
		return false
	}
	again, err := json.Marshal(&d)
	return err == nil && bytes.Equal(again, doc)
}

// Study returns the registered descriptor of a study, or [ErrUnknownStudy].
func (s *Store) Study(ctx context.Context, id string) (*study.Descriptor, error) {
	return s.study(ctx, s.db, id, "")
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) study(ctx context.Context, q queryer, id, suffix string) (*study.Descriptor, error) {
	var doc []byte
	err := q.QueryRowContext(ctx, s.q(`SELECT descriptor FROM studies WHERE id = ?`+suffix), id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("study %q: %w", id, ErrUnknownStudy)
	}
	if err != nil {
		return nil, fmt.Errorf("study %q: %w", id, err)
	}
	var d study.Descriptor
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("study %q: stored descriptor: %w", id, err)
	}
	return &d, nil
}

// Studies returns every registered study, by id.
func (s *Store) Studies(ctx context.Context) ([]*study.Descriptor, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT descriptor FROM studies ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list studies: %w", err)
	}
	defer rows.Close()
	var out []*study.Descriptor
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list studies: %w", err)
		}
		var d study.Descriptor
		if err := json.Unmarshal(doc, &d); err != nil {
			return nil, fmt.Errorf("list studies: stored descriptor: %w", err)
		}
		out = append(out, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list studies: %w", err)
	}
	return out, nil
}
