package collector

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// Purged is what a retention pass deleted in one study.
type Purged struct {
	StudyID string `json:"study_id"`
	// Before is the UTC day before which contributions were deleted.
	Before time.Time `json:"before"`
	// Contributions and Withdrawals are the numbers of contributions and of withdrawn
	// pseudonyms' records deleted.
	Contributions int `json:"contributions"`
	Withdrawals   int `json:"withdrawals"`
}

// Purge deletes, in every study, the contributions received (last written) more than the study's
// current retention_months before now's UTC day, and the records of pseudonyms withdrawn that
// long ago, and then erases their bytes from disk as [Store.DeletePseudonym] does. It returns
// what it did per study, studies with nothing to delete included.
func (s *Store) Purge(ctx context.Context, now time.Time) ([]Purged, error) {
	studies, err := s.Studies(ctx)
	if err != nil {
		return nil, fmt.Errorf("purge: %w", err)
	}
	today := time.Unix(day(now), 0).UTC()
	out := make([]Purged, 0, len(studies))
	deleted := false
	for _, d := range studies {
		before := today.AddDate(0, -d.RetentionMonths, 0)
		p := Purged{StudyID: d.ID, Before: before}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return out, fmt.Errorf("purge %s: %w", d.ID, err)
		}
		n1, err1 := execCount(ctx, tx, s.q(`DELETE FROM contributions WHERE study_id = ? AND received_day < ?`), d.ID, before.Unix())
		n2, err2 := execCount(ctx, tx, s.q(`DELETE FROM withdrawals WHERE study_id = ? AND withdrawn_day < ?`), d.ID, before.Unix())
		if err := firstErr(err1, err2); err != nil {
			tx.Rollback()
			return out, fmt.Errorf("purge %s: %w", d.ID, err)
		}
		if err := tx.Commit(); err != nil {
			return out, fmt.Errorf("purge %s: %w", d.ID, err)
		}
		p.Contributions, p.Withdrawals = n1, n2
		out = append(out, p)
		deleted = deleted || n1+n2 > 0
	}
	if deleted {
		if err := s.erase(ctx); err != nil {
			return out, fmt.Errorf("purge: %w", err)
		}
	}
	return out, nil
}

// RunRetention purges at once, then every interval (a day when zero) until ctx is done. Failures
// are logged and tried again at the next interval. now is the clock (time.Now when nil).
func RunRetention(ctx context.Context, s *Store, interval time.Duration, now func() time.Time, logger *slog.Logger) {
	if interval <= 0 {
		interval = 24 * time.Hour
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		purged, err := s.Purge(ctx, now())
		if err != nil && ctx.Err() == nil {
			logger.Error("retention purge failed; trying again at the next interval", "error", err)
		}
		for _, p := range purged {
			if p.Contributions > 0 || p.Withdrawals > 0 {
				logger.Info("retention purge", "study", p.StudyID, "before", p.Before.Format(time.DateOnly),
					"contributions", p.Contributions, "withdrawals", p.Withdrawals)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// execCount runs a statement and returns the number of rows it touched.
func execCount(ctx context.Context, tx *sql.Tx, query string, args ...any) (int, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
