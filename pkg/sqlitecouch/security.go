package sqlitecouch

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/go-kivik/kivik/v4/driver"
)

var (
	_ driver.SecurityDB = (*db)(nil)
	_ driver.Flusher    = (*db)(nil)
)

// Security returns the database's _security object, empty until one is set. It is kept so that
// a vault moved to CouchDB keeps it; the embedded store has no users and does not enforce it.
func (d *db) Security(ctx context.Context) (*driver.Security, error) {
	var raw sql.NullString
	err := d.client.sql.QueryRowContext(ctx, `SELECT security FROM dbs WHERE name = ?`, d.name).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoDB(d.name)
	}
	if err != nil {
		return nil, d.client.wrap(err)
	}
	sec := &driver.Security{}
	if raw.Valid {
		if err := json.Unmarshal([]byte(raw.String), sec); err != nil {
			return nil, d.client.wrap(err)
		}
	}
	return sec, nil
}

// SetSecurity replaces the database's _security object.
func (d *db) SetSecurity(ctx context.Context, security *driver.Security) error {
	if security == nil {
		return errBadRequest("the security object is required")
	}
	raw, err := json.Marshal(security)
	if err != nil {
		return errBadRequest("the security object is not JSON: %v", err)
	}
	return d.client.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE dbs SET security = ? WHERE name = ?`, string(raw), d.name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoDB(d.name)
		}
		return nil
	})
}

// Flush is CouchDB's _ensure_full_commit: every write of the embedded store is already on disk
// when it returns (synchronous=FULL), so there is nothing to do but check that the database
// exists.
func (d *db) Flush(ctx context.Context) error {
	_, err := d.dbID(ctx, d.client.sql)
	return d.client.wrap(err)
}
