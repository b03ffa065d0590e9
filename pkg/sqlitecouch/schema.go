package sqlitecouch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The vault file's schema has a version, SQLite's PRAGMA user_version: the number of migrations
// applied to it. Opening a file applies the migrations it lacks, in order, in one transaction,
// so that a vault written by one version of the project opens in the next. A file whose version
// is above what this code knows was written by a newer version: it is refused rather than
// written to with an older idea of its tables.
//
// migrations[i] takes a file from version i to i+1. Released migrations are never edited:
// a change of the schema is a new one appended at the end.
var migrations = []string{
	// 1: the tables as they were before the schema had a version. Files of that time have
	// version 0 and these tables already: CREATE ... IF NOT EXISTS leaves them as they are.
	schema,
	// 2: each database's _security object (NULL: the empty object).
	`ALTER TABLE dbs ADD COLUMN security TEXT`,
	// 3: each database's count of live documents, kept by triggers in the transaction of every
	// write, so that _all_docs answers total_rows without counting (a count scans every row:
	// reading a database 200 ids at a time was quadratic).
	`ALTER TABLE dbs ADD COLUMN doc_count INTEGER NOT NULL DEFAULT 0;
UPDATE dbs SET doc_count = (SELECT count(*) FROM docs WHERE docs.db = dbs.id AND docs.deleted = 0);
CREATE TRIGGER docs_count_insert AFTER INSERT ON docs WHEN NEW.deleted = 0
BEGIN UPDATE dbs SET doc_count = doc_count + 1 WHERE id = NEW.db; END;
CREATE TRIGGER docs_count_update AFTER UPDATE OF deleted ON docs WHEN OLD.deleted != NEW.deleted
BEGIN UPDATE dbs SET doc_count = doc_count + OLD.deleted - NEW.deleted WHERE id = NEW.db; END;
CREATE TRIGGER docs_count_delete AFTER DELETE ON docs WHEN OLD.deleted = 0
BEGIN UPDATE dbs SET doc_count = doc_count - 1 WHERE id = OLD.db; END;`,
}

// SchemaVersion returns the schema version this code writes: the number of its migrations.
func SchemaVersion() int { return len(migrations) }

// ErrNewerSchema matches the error of opening a vault file written by a newer version.
var ErrNewerSchema = errors.New("the vault file was written by a newer version of coachco2")

// upgradeSchema brings the file's schema to SchemaVersion.
func (c *Client) upgradeSchema(ctx context.Context) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := upgrade(ctx, c.sql, migrations); err != nil {
		return fmt.Errorf("prepare schema: %w", describeSQLiteError(err))
	}
	return nil
}

// upgrade applies the migrations the database lacks. Its transaction takes SQLite's write lock
// first (the driver's connections begin IMMEDIATE), so two processes opening one file at once
// apply each migration once.
func upgrade(ctx context.Context, db *sql.DB, migrations []string) error {
	// A file that is not SQLite fails here with "file is not a database".
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("%w (schema version %d; this version knows up to %d): upgrade coachco2 to open it",
			ErrNewerSchema, version, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate the schema from version %d to %d: %w", i, i+1, err)
		}
	}
	// PRAGMA takes no bound parameters; the value is an int.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return err
	}
	return tx.Commit()
}
