package sqlitecouch

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-kivik/kivik/v4/driver"
)

// db is a handle on one database of the file.
type db struct {
	client *Client
	name   string
}

var (
	_ driver.DB         = (*db)(nil)
	_ driver.DocCreator = (*db)(nil)
	_ driver.BulkDocer  = (*db)(nil)
	_ driver.Finder     = (*db)(nil)
	_ driver.LocalDocer = (*db)(nil)
	_ driver.RevGetter  = (*db)(nil)
)

// querier is what reads need: the *sql.DB outside a transaction, the *sql.Tx inside one.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// dbID returns the database's row id, or a 404 when it does not exist.
func (d *db) dbID(ctx context.Context, q querier) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM dbs WHERE name = ?`, d.name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNoDB(d.name)
	}
	return id, err
}

// options reads kivik options into a map.
func options(o driver.Options) params {
	p := params{}
	if o != nil {
		o.Apply(map[string]any(p))
	}
	return p
}

// Get returns the current revision of a document; deleted documents answer 404 "deleted".
func (d *db) Get(ctx context.Context, docID string, opts driver.Options) (*driver.Document, error) {
	rev, body, err := d.get(ctx, docID, options(opts).string("rev"))
	if err != nil {
		return nil, err
	}
	return &driver.Document{Rev: rev, Body: io.NopCloser(bytes.NewReader(body))}, nil
}

// GetRev returns the current revision of a document. A _local document's is read without its
// body: PutLocal asks for it before replacing a large one.
func (d *db) GetRev(ctx context.Context, docID string, opts driver.Options) (string, error) {
	if isLocal(docID) && options(opts).string("rev") == "" {
		dbID, err := d.dbID(ctx, d.client.sql)
		if err != nil {
			return "", d.client.wrap(err)
		}
		var rev int64
		err = d.client.sql.QueryRowContext(ctx, `SELECT rev FROM local_docs WHERE db = ? AND id = ?`, dbID, docID).Scan(&rev)
		if errors.Is(err, sql.ErrNoRows) {
			return "", errNotFound("missing")
		}
		if err != nil {
			return "", d.client.wrap(err)
		}
		return localRev(rev), nil
	}
	rev, _, err := d.get(ctx, docID, options(opts).string("rev"))
	return rev, err
}

func (d *db) get(ctx context.Context, docID, wantRev string) (string, []byte, error) {
	wantRev, err := parseRev(wantRev)
	if err != nil {
		return "", nil, err
	}
	dbID, err := d.dbID(ctx, d.client.sql)
	if err != nil {
		return "", nil, d.client.wrap(err)
	}
	if isLocal(docID) {
		var rev int64
		var body []byte
		err := d.client.sql.QueryRowContext(ctx, `SELECT rev, body FROM local_docs WHERE db = ? AND id = ?`, dbID, docID).Scan(&rev, &body)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, errNotFound("missing")
		}
		if err != nil {
			return "", nil, d.client.wrap(err)
		}
		r := localRev(rev)
		return r, withSpecials(docID, r, false, body), nil
	}
	var rev string
	var deleted bool
	var body []byte
	err = d.client.sql.QueryRowContext(ctx, `SELECT rev, deleted, body FROM docs WHERE db = ? AND id = ?`, dbID, docID).Scan(&rev, &deleted, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, errNotFound("missing")
	}
	if err != nil {
		return "", nil, d.client.wrap(err)
	}
	if wantRev != "" && wantRev != rev {
		// Only the winning revision is kept.
		return "", nil, errNotFound("missing")
	}
	if deleted && wantRev == "" {
		return "", nil, errNotFound("deleted")
	}
	return rev, withSpecials(docID, rev, deleted, body), nil
}

// Put creates or updates docID. The document's _rev must be the current revision (none for a new
// document), else 409.
func (d *db) Put(ctx context.Context, docID string, doc any, opts driver.Options) (string, error) {
	parsed, err := parseDocument(doc)
	if err != nil {
		return "", err
	}
	if parsed.id != "" && parsed.id != docID {
		return "", errBadRequest("document _id %q does not match the id %q it is written to", parsed.id, docID)
	}
	parsed.id = docID
	if err := parsed.takeRev(options(opts).string("rev")); err != nil {
		return "", err
	}
	var rev string
	err = d.client.write(ctx, func(tx *sql.Tx) error {
		w, err := d.newWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		rev, err = w.put(ctx, parsed)
		return err
	})
	return rev, err
}

// CreateDoc stores a new document under its _id, or under a new random id.
func (d *db) CreateDoc(ctx context.Context, doc any, opts driver.Options) (string, string, error) {
	parsed, err := parseDocument(doc)
	if err != nil {
		return "", "", err
	}
	if parsed.id == "" {
		parsed.id = newDocID()
	}
	rev, err := d.Put(ctx, parsed.id, doc, opts)
	return parsed.id, rev, err
}

// Delete writes a tombstone over the given current revision. As CouchDB's DELETE, it first reads
// the document: a missing or deleted one is a 404, whatever the revision says; then a malformed
// revision is a 400, and a missing or stale one a 409.
func (d *db) Delete(ctx context.Context, docID string, opts driver.Options) (string, error) {
	doc := &document{id: docID, deleted: true}
	var newRev string
	err := d.client.write(ctx, func(tx *sql.Tx) error {
		w, err := d.newWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		if !isLocal(docID) {
			var deleted bool
			err := tx.QueryRowContext(ctx, `SELECT deleted FROM docs WHERE db = ? AND id = ?`, w.dbID, docID).Scan(&deleted)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return errNotFound("missing")
			case err != nil:
				return err
			case deleted:
				return errNotFound("deleted")
			}
		}
		if err := doc.takeRev(options(opts).string("rev")); err != nil {
			return err
		}
		newRev, err = w.put(ctx, doc)
		return err
	})
	return newRev, err
}

// BulkDocs writes every document in one transaction and reports each one's result: a document
// that conflicts or is invalid fails alone.
func (d *db) BulkDocs(ctx context.Context, docs []any, opts driver.Options) ([]driver.BulkResult, error) {
	if v, ok := options(opts)["new_edits"]; ok && v == false {
		return nil, errNotImplemented("new_edits=false")
	}
	// Like CouchDB, check every id before writing anything: one reserved id refuses the request.
	parsed := make([]*document, len(docs))
	parseErrs := make([]error, len(docs))
	for i, doc := range docs {
		p, err := parseDocument(doc)
		if err != nil {
			parseErrs[i] = err
			continue
		}
		if p.id == "" {
			p.id = newDocID()
		}
		if err := validateID(p.id); err != nil {
			return nil, err
		}
		if err := p.takeRev(""); err != nil {
			return nil, err
		}
		parsed[i] = p
	}
	results := make([]driver.BulkResult, len(docs))
	err := d.client.write(ctx, func(tx *sql.Tx) error {
		w, err := d.newWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		for i, p := range parsed {
			if p == nil {
				results[i] = driver.BulkResult{Error: parseErrs[i]}
				continue
			}
			rev, err := w.put(ctx, p)
			var ce *Error
			if errors.As(err, &ce) {
				results[i] = driver.BulkResult{ID: p.id, Error: err}
				continue
			}
			if err != nil {
				return err // the store failed: nothing of this batch is written
			}
			results[i] = driver.BulkResult{ID: p.id, Rev: rev}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// writer writes documents inside one transaction, keeping the database's indexes current.
type writer struct {
	tx      *sql.Tx
	dbID    int64
	indexes []*mangoIndex
	enc     *keyEncoder
	release func()
	// stmts are the statements prepared in tx (closed with it), by query.
	stmts map[string]*sql.Stmt
}

// stmt returns query prepared once per transaction: a bulk write runs the same few statements
// for each document, and parsing them each time was an eighth of a sync's CPU.
func (w *writer) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := w.stmts[query]; ok {
		return s, nil
	}
	s, err := w.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if w.stmts == nil {
		w.stmts = map[string]*sql.Stmt{}
	}
	w.stmts[query] = s
	return s, nil
}

// exec runs query, prepared once per transaction, with args.
func (w *writer) exec(ctx context.Context, query string, args ...any) error {
	s, err := w.stmt(ctx, query)
	if err == nil {
		_, err = s.ExecContext(ctx, args...)
	}
	return err
}

// scanRow runs query, prepared once per transaction, with args, and scans its one row into dest.
func (w *writer) scanRow(ctx context.Context, query string, args []any, dest ...any) error {
	s, err := w.stmt(ctx, query)
	if err != nil {
		return err
	}
	return s.QueryRowContext(ctx, args...).Scan(dest...)
}

func (d *db) newWriter(ctx context.Context, tx *sql.Tx) (*writer, error) {
	dbID, err := d.dbID(ctx, tx)
	if err != nil {
		return nil, err
	}
	indexes, err := loadIndexes(ctx, tx, dbID)
	if err != nil {
		return nil, err
	}
	col := d.client.collator()
	return &writer{tx: tx, dbID: dbID, indexes: indexes, enc: &keyEncoder{col: col},
		release: func() { d.client.releaseCollator(col) }}, nil
}

func (w *writer) close() { w.release() }

// put writes one document and returns its new revision.
func (w *writer) put(ctx context.Context, doc *document) (string, error) {
	if isLocal(doc.id) {
		return w.putLocal(ctx, doc)
	}
	if err := validateID(doc.id); err != nil {
		return "", err
	}
	var curRev string
	var curDeleted bool
	err := w.scanRow(ctx, `SELECT rev, deleted FROM docs WHERE db = ? AND id = ?`, []any{w.dbID, doc.id}, &curRev, &curDeleted)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	// CouchDB's rules (couch_db_updater:merge_rev_tree): a write must extend the current
	// revision; a deleted document may only be recreated from scratch (no revision, not
	// deleted), its history going on from the tombstone's; a document never written may be
	// created deleted.
	switch {
	case !exists && doc.rev != "":
		return "", errConflict()
	case exists && curDeleted && (doc.rev != "" || doc.deleted):
		return "", errConflict()
	case exists && !curDeleted && doc.rev != curRev:
		return "", errConflict()
	}
	body := doc.body()
	rev := nextRev(curRev, doc.deleted, body)
	var seq int64
	if err := w.scanRow(ctx, `UPDATE dbs SET update_seq = update_seq + 1 WHERE id = ? RETURNING update_seq`, []any{w.dbID}, &seq); err != nil {
		return "", err
	}
	if err := w.exec(ctx, `INSERT INTO docs (db, id, rev, seq, deleted, body) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (db, id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq, deleted = excluded.deleted, body = excluded.body`,
		w.dbID, doc.id, rev, seq, doc.deleted, body); err != nil {
		return "", err
	}
	for _, ix := range w.indexes {
		if err := ix.reindex(ctx, w, doc); err != nil {
			return "", err
		}
	}
	return rev, nil
}

// putLocal writes a _local document: no history, no changes entry, revisions "0-N".
func (w *writer) putLocal(ctx context.Context, doc *document) (string, error) {
	var cur int64
	err := w.tx.QueryRowContext(ctx, `SELECT rev FROM local_docs WHERE db = ? AND id = ?`, w.dbID, doc.id).Scan(&cur)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if exists && doc.rev != localRev(cur) || !exists && doc.rev != "" {
		if !(doc.deleted && doc.rev == "") {
			return "", errConflict()
		}
	}
	if doc.deleted {
		if !exists {
			return "", errNotFound("missing")
		}
		_, err := w.tx.ExecContext(ctx, `DELETE FROM local_docs WHERE db = ? AND id = ?`, w.dbID, doc.id)
		return "0-0", err
	}
	if _, err := w.tx.ExecContext(ctx, `INSERT INTO local_docs (db, id, rev, body) VALUES (?, ?, ?, ?)
		ON CONFLICT (db, id) DO UPDATE SET rev = excluded.rev, body = excluded.body`, w.dbID, doc.id, cur+1, doc.body()); err != nil {
		return "", err
	}
	return localRev(cur + 1), nil
}

// validateID refuses ids CouchDB reserves: empty, or starting with "_" other than _design/ and
// _local/.
func validateID(id string) error {
	switch {
	case id == "":
		return errBadRequest("document id must not be empty")
	case strings.HasPrefix(id, "_") && !strings.HasPrefix(id, "_design/") && !isLocal(id):
		return &Error{Status: http.StatusBadRequest, Name: "illegal_docid", Reason: "Only reserved document ids may start with underscore."}
	}
	return nil
}

func localRev(n int64) string { return "0-" + strconv.FormatInt(n, 10) }

// LocalDocs lists the _local documents.
func (d *db) LocalDocs(ctx context.Context, opts driver.Options) (driver.Rows, error) {
	dbID, err := d.dbID(ctx, d.client.sql)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	includeDocs := options(opts).bool("include_docs")
	rows, err := d.client.sql.QueryContext(ctx, `SELECT id, rev, body FROM local_docs WHERE db = ? ORDER BY id`, dbID)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	return &sqlRows{rows: rows, scan: func(r *driver.Row) error {
		var id string
		var rev int64
		var body []byte
		if err := rows.Scan(&id, &rev, &body); err != nil {
			return err
		}
		*r = driver.Row{ID: id, Key: jsonString(id), Value: revValue(localRev(rev), false)}
		if includeDocs {
			r.Doc = bytes.NewReader(withSpecials(id, localRev(rev), false, body))
		}
		return nil
	}}, nil
}

// Stats reports document counts and the update sequence.
func (d *db) Stats(ctx context.Context) (*driver.DBStats, error) {
	dbID, err := d.dbID(ctx, d.client.sql)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	st := &driver.DBStats{Name: d.name}
	var seq int64
	err = d.client.sql.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM docs WHERE db = ?1 AND deleted = 0),
		(SELECT count(*) FROM docs WHERE db = ?1 AND deleted = 1),
		(SELECT coalesce(sum(length(body)), 0) FROM docs WHERE db = ?1),
		(SELECT update_seq FROM dbs WHERE id = ?1)`, dbID).Scan(&st.DocCount, &st.DeletedCount, &st.ActiveSize, &seq)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	st.UpdateSeq = strconv.FormatInt(seq, 10)
	st.ExternalSize = st.ActiveSize
	st.DiskSize = st.ActiveSize
	return st, nil
}

// Close releases nothing: handles share the client's connection pool.
func (d *db) Close() error { return nil }

// Compact is a no-op: SQLite reuses free pages, and old revisions are not kept.
func (d *db) Compact(context.Context) error { return nil }

// CompactView is a no-op: there are no views.
func (d *db) CompactView(context.Context, string) error { return nil }

// ViewCleanup is a no-op: there are no views.
func (d *db) ViewCleanup(context.Context) error { return nil }

// Query answers 501: the embedded store does not run JavaScript views; use Find.
func (d *db) Query(context.Context, string, string, driver.Options) (driver.Rows, error) {
	return nil, errNotImplemented("views (use _find)")
}

// PutAttachment answers 501.
func (d *db) PutAttachment(context.Context, string, *driver.Attachment, driver.Options) (string, error) {
	return "", errNotImplemented("attachments")
}

// GetAttachment answers 501.
func (d *db) GetAttachment(context.Context, string, string, driver.Options) (*driver.Attachment, error) {
	return nil, errNotImplemented("attachments")
}

// DeleteAttachment answers 501.
func (d *db) DeleteAttachment(context.Context, string, string, driver.Options) (string, error) {
	return "", errNotImplemented("attachments")
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func revValue(rev string, deleted bool) io.Reader {
	if deleted {
		return bytes.NewReader([]byte(fmt.Sprintf(`{"rev":%q,"deleted":true}`, rev)))
	}
	return bytes.NewReader([]byte(fmt.Sprintf(`{"rev":%q}`, rev)))
}
