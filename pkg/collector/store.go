package collector

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/coachco2/coachco2/pkg/retry"
	"github.com/coachco2/coachco2/pkg/sqlitedb"
	"github.com/coachco2/coachco2/pkg/study"
)

// Backends a Store runs on.
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// Store keeps studies and contributions in a SQL database: a SQLite file, or PostgreSQL. Its
// methods are safe for concurrent use; each write is one transaction.
type Store struct {
	db      *sql.DB
	backend string
	// where names the database in errors: the file, or the PostgreSQL host and database, never
	// a password.
	where string
}

// Open opens the database of a DSN and brings its schema up to date. A DSN starting with
// postgres:// or postgresql:// is a PostgreSQL connection URL (the pgx driver; libpq's
// parameters such as sslmode and search_path are accepted); anything else is the path of a
// SQLite file, optionally prefixed with "file:", created (mode 0600) when missing, in WAL mode.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("collector: no database: give a SQLite file path or a postgres:// URL")
	}
	var s *Store
	var err error
	if IsPostgres(dsn) {
		s, err = openPostgres(ctx, dsn)
	} else {
		s, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("collector: %s: %w", s.where, err)
	}
	return s, nil
}

// IsPostgres reports whether a DSN names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// RedactDSN returns a DSN fit for logs and errors: a PostgreSQL URL reduced to its host and
// database, or the SQLite path. It never shows a password, even in a malformed URL.
func RedactDSN(dsn string) string {
	if !IsPostgres(dsn) {
		return strings.TrimPrefix(dsn, "file:")
	}
	pu, err := parsePostgresURL(dsn)
	if err != nil {
		return "postgres (malformed URL)"
	}
	return pu.where()
}

// pgURL is a postgres:// URL split into what the driver may parse and quote in its errors, and
// the secrets, which only ever go into the driver's configuration.
type pgURL struct {
	// public is the URL without its password and without the password and sslpassword
	// parameters.
	public                *url.URL
	password, sslPassword string
	hasPassword           bool
}

// errMalformedPostgresURL quotes nothing of the URL: its parts may hold the password.
var errMalformedPostgresURL = errors.New("collector: malformed PostgreSQL URL: write it as " +
	"postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require, with every @ : / ? # % & and space of " +
	"the user name and password percent-encoded (%40 for @, %25 for %)")

// parsePostgresURL splits a postgres:// URL. No error quotes the URL: with an unescaped "/",
// "?" or "#" in the password, the host ends early and the rest of the password lands in the
// path, the query or the fragment, followed by "@host"; such a URL is refused.
func parsePostgresURL(dsn string) (pgURL, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return pgURL{}, errMalformedPostgresURL // url's message quotes the URL
	}
	if u.Fragment != "" || u.RawFragment != "" || strings.Contains(dsn, "#") ||
		strings.Contains(u.Path, "@") || strings.Contains(u.RawQuery, "@") || u.Opaque != "" {
		return pgURL{}, errMalformedPostgresURL
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return pgURL{}, errMalformedPostgresURL
	}
	var pu pgURL
	if u.User != nil {
		pu.password, pu.hasPassword = u.User.Password()
		if name := u.User.Username(); name != "" {
			u.User = url.User(name)
		} else {
			u.User = nil
		}
	}
	if q.Has("password") {
		pu.password, pu.hasPassword = q.Get("password"), true
	}
	pu.sslPassword = q.Get("sslpassword")
	q.Del("password")
	q.Del("sslpassword")
	u.RawQuery = q.Encode()
	pu.public = u
	return pu, nil
}

// where names the database for errors and logs: host and database only.
func (pu pgURL) where() string {
	host := pu.public.Host
	if host == "" {
		host = "localhost"
	}
	return "postgres://" + host + pu.public.EscapedPath()
}

func openSQLite(ctx context.Context, dsn string) (*Store, error) {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return nil, fmt.Errorf("collector: SQLite DSN %q: give a plain file path, without parameters", path)
	}
	// Deleted rows are overwritten with zeros, in tables, indexes and freed pages, so that a
	// withdrawal or a retention purge leaves nothing readable in the file ([Store.erase]).
	db, err := sqlitedb.Open(ctx, path, sqlitedb.WithSecureDelete())
	if err != nil {
		return nil, fmt.Errorf("collector: open %s: %w", path, err)
	}
	return &Store{db: db, backend: BackendSQLite, where: path}, nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	pu, err := parsePostgresURL(dsn)
	if err != nil {
		return nil, err
	}
	where := pu.where()
	// The driver parses the URL without its secrets, so that no error of it can quote them; they
	// go into its configuration afterwards.
	var opts pgx.ParseConfigOptions
	if pu.sslPassword != "" {
		opts.GetSSLPassword = func(context.Context) string { return pu.sslPassword }
	}
	cfg, err := pgx.ParseConfigWithOptions(pu.public.String(), opts)
	if err != nil {
		return nil, fmt.Errorf("collector: open %s: %w", where, err)
	}
	if pu.hasPassword {
		cfg.Password = pu.password
	}
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("collector: open %s: %w", where, withoutConfig(err))
	}
	return &Store{db: db, backend: BackendPostgres, where: where}, nil
}

// withoutConfig replaces the driver's *pgconn.ConnectError, which carries the whole
// configuration with its password, by its message and cause: the error chain then holds no
// password for a caller to find with errors.As and print.
func withoutConfig(err error) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("connect as user %q to database %q: %w", ce.Config.User, ce.Config.Database, ce.Unwrap())
}

// erase makes deleted rows unreadable on disk, after a committed delete. On SQLite,
// secure_delete has zeroed them in the pages the delete wrote, but the WAL still holds the
// earlier page images with the data: a TRUNCATE checkpoint copies the pages into the database
// file and empties the WAL. It waits for readers (busy_timeout), and is retried with backoff
// while one still holds an old snapshot. On PostgreSQL the dead rows stay until VACUUM: see
// docs/collector-api.md.
func (s *Store) erase(ctx context.Context) error {
	if s.backend != BackendSQLite {
		return nil
	}
	// Jittered pauses (15 to 30 ms, doubling) keep concurrent erasers from retrying in step.
	var in *retry.Interrupted
	err := retry.Do(ctx, retry.Policy{Attempts: eraseAttempts, Initial: 30 * time.Millisecond, Max: time.Second, Jitter: retry.EqualJitter},
		func(int) error {
			var busy, logFrames, checkpointed int
			if err := s.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed); err != nil {
				return err
			}
			if busy != 0 {
				return errors.New("readers kept the write-ahead log busy")
			}
			return nil
		})
	switch {
	case err == nil:
		return nil
	case errors.As(err, &in):
		return fmt.Errorf("erase deleted rows from %s: %w", s.where, in.Cause)
	}
	return fmt.Errorf("erase deleted rows from %s: checkpoint: %w", s.where, err)
}

// eraseAttempts bounds the checkpoints erase tries, each waiting up to the busy timeout.
const eraseAttempts = 5

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Backend returns BackendSQLite or BackendPostgres.
func (s *Store) Backend() string { return s.backend }

// Location names the database without secrets: the SQLite file, or the PostgreSQL host and
// database.
func (s *Store) Location() string { return s.where }

// q adapts a query written with "?" placeholders to the backend ($1, $2... for PostgreSQL). The
// project's queries have no "?" anywhere else.
func (s *Store) q(query string) string {
	if s.backend != BackendPostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// lock serialises the transactions that name the same key, on PostgreSQL (an advisory lock
// released at commit). On SQLite every write transaction is already exclusive (_txlock=immediate).
func (s *Store) lock(ctx context.Context, tx *sql.Tx, key string) error {
	if s.backend != BackendPostgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", key); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

// migration is one version of the schema: statements, then an optional step in Go, in the
// same transaction.
type migration struct {
	stmts []string
	fn    func(ctx context.Context, s *Store, tx *sql.Tx) error
}

// migrations are the schema's successive versions; each entry is applied once, in one
// transaction, and recorded in schema_migrations. Never edit an entry: append one.
func migrations() []migration {
	return []migration{
		1: {stmts: []string{
			`CREATE TABLE studies (
				id TEXT PRIMARY KEY,
				version INTEGER NOT NULL,
				descriptor TEXT NOT NULL,
				registered_at BIGINT NOT NULL,
				updated_at BIGINT NOT NULL
			)`,
			// One row per (study, pseudonym, measure, period): a resend replaces it. cells is the
			// JSON object category → number ("" for a measure without categories), profile the
			// JSON object of the profile fields given; received_day is the UTC day (Unix seconds
			// at midnight) the row was last written, for retention: no finer time is kept.
			`CREATE TABLE contributions (
				study_id TEXT NOT NULL REFERENCES studies(id),
				pseudonym TEXT NOT NULL,
				measure TEXT NOT NULL,
				period TEXT NOT NULL,
				study_version INTEGER NOT NULL,
				cells TEXT NOT NULL,
				profile TEXT NOT NULL,
				received_day BIGINT NOT NULL,
				PRIMARY KEY (study_id, pseudonym, measure, period)
			)`,
			`CREATE INDEX contributions_by_measure ON contributions (study_id, measure, period)`,
			`CREATE INDEX contributions_by_day ON contributions (study_id, received_day)`,
			// A withdrawn pseudonym, by its SHA-256: its contributions are refused from then on.
			`CREATE TABLE withdrawals (
				study_id TEXT NOT NULL REFERENCES studies(id),
				pseudonym_hash TEXT NOT NULL,
				withdrawn_day BIGINT NOT NULL,
				PRIMARY KEY (study_id, pseudonym_hash)
			)`,
		}},
		// consented_k is the k of the descriptor version the contribution was sent under: it is
		// never published in a group smaller than that, whatever k later versions set.
		2: {stmts: []string{
			`ALTER TABLE contributions ADD COLUMN consented_k INTEGER NOT NULL DEFAULT 0`,
		}, fn: backfillConsentedK},
	}
}

// backfillConsentedK gives the contributions stored before schema version 2 the k of their
// study's registered descriptor: the only k known, since earlier versions were not kept.
func backfillConsentedK(ctx context.Context, s *Store, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, descriptor FROM studies`)
	if err != nil {
		return err
	}
	ks := map[string]int{}
	for rows.Next() {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			rows.Close()
			return err
		}
		var d study.Descriptor
		if err := json.Unmarshal(doc, &d); err != nil {
			rows.Close()
			return fmt.Errorf("study %q: stored descriptor: %w", id, err)
		}
		ks[id] = d.K
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for id, k := range ks {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE contributions SET consented_k = ? WHERE study_id = ? AND consented_k = 0`), k, id); err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion is the schema version this code writes.
func SchemaVersion() int { return len(migrations()) - 1 }

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if err := s.lock(ctx, tx, "coachco2-collector-schema"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: read the schema version: %w", err)
	}
	all := migrations()
	if current > len(all)-1 {
		return fmt.Errorf("the database's schema is version %d, newer than this collector's (%d)", current, len(all)-1)
	}
	for v := current + 1; v < len(all); v++ {
		for _, stmt := range all[v].stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate to version %d: %w", v, err)
			}
		}
		if all[v].fn != nil {
			if err := all[v].fn(ctx, s, tx); err != nil {
				return fmt.Errorf("migrate to version %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), v, time.Now().Unix()); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
