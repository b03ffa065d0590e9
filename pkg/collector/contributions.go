package collector

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coachco2/coachco2/pkg/study"
)

// SaveBatch checks a batch against the study's current descriptor ([study.Descriptor.CheckBatch]
// at now) and stores it in one transaction: all of it, or nothing. A contribution replaces the
// pseudonym's earlier one for the same measure and period, so that a resend never counts twice.
// Errors: [ErrUnknownStudy], [ErrWithdrawn], or a [study.Errors] (errors.As) listing every
// problem of the batch.
func (s *Store) SaveBatch(ctx context.Context, studyID string, b study.Batch, now time.Time) (*study.BatchResult, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("save contributions: %w", err)
	}
	defer tx.Rollback()
	d, err := s.study(ctx, tx, studyID, s.forShare())
	if err != nil {
		return nil, err
	}
	if err := d.CheckBatch(b, now); err != nil {
		return nil, fmt.Errorf("contributions to study %s: %w", studyID, err)
	}
	pseudonym := b.Contributions[0].Pseudonym
	if err := s.checkNotWithdrawn(ctx, tx, studyID, pseudonym); err != nil {
		return nil, err
	}

	type stored struct {
		version        int
		cells, profile string
	}
	existing := map[study.Key]stored{}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT measure, period, study_version, cells, profile FROM contributions WHERE study_id = ? AND pseudonym = ?`), studyID, pseudonym)
	if err != nil {
		return nil, fmt.Errorf("save contributions: %w", err)
	}
	for rows.Next() {
		var m, p string
		var e stored
		if err := rows.Scan(&m, &p, &e.version, &e.cells, &e.profile); err != nil {
			rows.Close()
			return nil, fmt.Errorf("save contributions: %w", err)
		}
		if per, err := study.ParsePeriod(p); err == nil {
			existing[study.Key{Measure: study.MeasureID(m), Period: per}] = e
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("save contributions: %w", err)
	}

	// consented_k: CheckBatch took only contributions under the current version, whose k is d.K.
	upsert, err := tx.PrepareContext(ctx, s.q(`INSERT INTO contributions (study_id, pseudonym, measure, period, study_version, consented_k, cells, profile, received_day)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (study_id, pseudonym, measure, period) DO UPDATE SET
			study_version = excluded.study_version, consented_k = excluded.consented_k, cells = excluded.cells,
			profile = excluded.profile, received_day = excluded.received_day`))
	if err != nil {
		return nil, fmt.Errorf("save contributions: %w", err)
	}
	defer upsert.Close()
	out := &study.BatchResult{StudyID: d.ID, StudyVersion: d.Version, Stored: make([]study.StoredEntry, 0, len(b.Contributions))}
	for i := range b.Contributions {
		c := &b.Contributions[i]
		cells, err := json.Marshal(c.Cells())
		if err != nil {
			return nil, fmt.Errorf("save contributions: %w", err)
		}
		profile, err := json.Marshal(orEmpty(c.Profile))
		if err != nil {
			return nil, fmt.Errorf("save contributions: %w", err)
		}
		status := study.EntryCreated
		if e, ok := existing[c.Key()]; ok {
			status = study.EntryReplaced
			if e.version == c.StudyVersion && e.cells == string(cells) && e.profile == string(profile) {
				status = study.EntryUnchanged
			}
		}
		switch status {
		case study.EntryCreated:
			out.Created++
		case study.EntryReplaced:
			out.Replaced++
		case study.EntryUnchanged:
			out.Unchanged++
		}
		out.Stored = append(out.Stored, study.StoredEntry{Measure: c.Measure, Period: c.Period, Status: status})
		if status == study.EntryUnchanged {
			continue // its retention still runs from its first reception
		}
		if _, err := upsert.ExecContext(ctx, studyID, pseudonym, string(c.Measure), c.Period.String(), c.StudyVersion, d.K,
			string(cells), string(profile), day(now)); err != nil {
			return nil, fmt.Errorf("save contributions: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("save contributions: %w", err)
	}
	return out, nil
}

// DeletePseudonym deletes everything stored under a pseudonym in a study, and refuses its
// contributions from then on (the pseudonym's SHA-256 is kept until the study's retention
// passes). On SQLite, the deleted bytes are overwritten in the file and its WAL before it
// returns. Deleting again deletes nothing (and erases again) and is not an error. Errors: [ErrUnknownStudy], or a
// [study.Errors] for a malformed pseudonym.
func (s *Store) DeletePseudonym(ctx context.Context, studyID, pseudonym string, now time.Time) (*study.WithdrawalResult, error) {
	if !study.ValidPseudonym(pseudonym) {
		return nil, study.Errors{{Code: study.CodeMalformedPseudonym, Field: "pseudonym",
			Message: fmt.Sprintf("a pseudonym is %d lowercase hexadecimal digits", study.PseudonymLen)}}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("withdraw: %w", err)
	}
	defer tx.Rollback()
	if _, err := s.study(ctx, tx, studyID, s.forShare()); err != nil {
		return nil, err
	}
	if err := s.lock(ctx, tx, "participant:"+pseudonymHash(studyID, pseudonym)); err != nil {
		return nil, fmt.Errorf("withdraw: %w", err)
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT measure, period FROM contributions WHERE study_id = ? AND pseudonym = ? ORDER BY measure, period`), studyID, pseudonym)
	if err != nil {
		return nil, fmt.Errorf("withdraw: %w", err)
	}
	out := &study.WithdrawalResult{StudyID: studyID, Contributions: []study.Key{}}
	for rows.Next() {
		var m, p string
		if err := rows.Scan(&m, &p); err != nil {
			rows.Close()
			return nil, fmt.Errorf("withdraw: %w", err)
		}
		per, _ := study.ParsePeriod(p)
		out.Contributions = append(out.Contributions, study.Key{Measure: study.MeasureID(m), Period: per})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("withdraw: %w", err)
	}
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM contributions WHERE study_id = ? AND pseudonym = ?`), studyID, pseudonym)
	if err != nil {
		return nil, fmt.Errorf("withdraw: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, fmt.Errorf("withdraw: %w", err)
	}
	out.Deleted = int(n)
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO withdrawals (study_id, pseudonym_hash, withdrawn_day) VALUES (?, ?, ?)
		ON CONFLICT (study_id, pseudonym_hash) DO NOTHING`), studyID, pseudonymHash(studyID, pseudonym), day(now)); err != nil {
		return nil, fmt.Errorf("withdraw: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("withdraw: %w", err)
	}
	// Until erased, the rows are deleted but their bytes may still be on disk: the withdrawal
	// fails, and a retry (idempotent) erases again.
	if err := s.erase(ctx); err != nil {
		return nil, fmt.Errorf("withdraw: %w", err)
	}
	return out, nil
}

// checkNotWithdrawn takes the pseudonym's lock and returns ErrWithdrawn when it was withdrawn.
func (s *Store) checkNotWithdrawn(ctx context.Context, tx *sql.Tx, studyID, pseudonym string) error {
	h := pseudonymHash(studyID, pseudonym)
	if err := s.lock(ctx, tx, "participant:"+h); err != nil {
		return fmt.Errorf("save contributions: %w", err)
	}
	var one int
	err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM withdrawals WHERE study_id = ? AND pseudonym_hash = ?`), studyID, h).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("save contributions: %w", err)
	}
	return fmt.Errorf("study %s: %w", studyID, ErrWithdrawn)
}

// row is one stored contribution, as aggregates read it.
type row struct {
	pseudonym string
	period    study.Period
	// k is the k of the descriptor version the contribution was sent under.
	k       int
	profile map[string]string
	cells   map[string]float64
}

// scanMeasure calls fn with the study's contributions of a measure, ordered by period.
func (s *Store) scanMeasure(ctx context.Context, studyID string, m study.MeasureID, fn func(row) error) error {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT pseudonym, period, consented_k, profile, cells FROM contributions WHERE study_id = ? AND measure = ? ORDER BY period`), studyID, string(m))
	if err != nil {
		return fmt.Errorf("read contributions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		var p, profile, cells string
		if err := rows.Scan(&r.pseudonym, &p, &r.k, &profile, &cells); err != nil {
			return fmt.Errorf("read contributions: %w", err)
		}
		if r.period, err = study.ParsePeriod(p); err != nil {
			return fmt.Errorf("read contributions: stored period: %w", err)
		}
		if err := json.Unmarshal([]byte(profile), &r.profile); err != nil {
			return fmt.Errorf("read contributions: stored profile: %w", err)
		}
		if err := json.Unmarshal([]byte(cells), &r.cells); err != nil {
			return fmt.Errorf("read contributions: stored cells: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read contributions: %w", err)
	}
	return nil
}

// CountContributions returns the number of contributions stored for a study (all pseudonyms,
// measures and periods): for operators and tests, never published.
func (s *Store) CountContributions(ctx context.Context, studyID string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM contributions WHERE study_id = ?`), studyID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count contributions: %w", err)
	}
	return n, nil
}

// forShare locks the study row against a concurrent new version, on PostgreSQL.
func (s *Store) forShare() string {
	if s.backend == BackendPostgres {
		return " FOR SHARE"
	}
	return ""
}

// pseudonymHash is what a withdrawal keeps of a pseudonym.
func pseudonymHash(studyID, pseudonym string) string {
	h := sha256.Sum256([]byte(studyID + "\n" + pseudonym))
	return hex.EncodeToString(h[:])
}

// day returns the Unix time of the UTC midnight starting t's day.
func day(t time.Time) int64 {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
