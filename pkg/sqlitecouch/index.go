package sqlitecouch

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-kivik/kivik/v4/driver"
	"github.com/go-kivik/kivik/v4/x/mango"
)

// mangoIndex is a json index: the documents that have every one of its fields, ordered by the
// fields' values (then by id). Its entries live in index_entries, keyed by keyEncoder.
type mangoIndex struct {
	id     int64
	ddoc   string // with its "_design/" prefix, as CouchDB reports it
	name   string
	fields []string   // as written in the definition ("a.b")
	paths  [][]string // fields split into member names
}

func newMangoIndex(id int64, ddoc, name string, fields []string) *mangoIndex {
	ix := &mangoIndex{id: id, ddoc: ddoc, name: name, fields: fields}
	for _, f := range fields {
		ix.paths = append(ix.paths, mango.SplitKeys(f))
	}
	return ix
}

func loadIndexes(ctx context.Context, q querier, dbID int64) ([]*mangoIndex, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, ddoc, name, fields FROM mango_indexes WHERE db = ? ORDER BY id`, dbID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*mangoIndex
	for rows.Next() {
		var id int64
		var ddoc, name, fieldsJSON string
		if err := rows.Scan(&id, &ddoc, &name, &fieldsJSON); err != nil {
			return nil, err
		}
		var fields []string
		if err := json.Unmarshal([]byte(fieldsJSON), &fields); err != nil {
			return nil, fmt.Errorf("index %s/%s: stored fields: %w", ddoc, name, err)
		}
		out = append(out, newMangoIndex(id, ddoc, name, fields))
	}
	return out, rows.Err()
}

// values returns the document's values for the index's fields, false when one is missing (the
// document is then not in the index, as in CouchDB).
func (ix *mangoIndex) values(doc *document) ([]any, bool) {
	vals := make([]any, len(ix.paths))
	for i, path := range ix.paths {
		raw, ok := doc.lookup(path[0])
		if !ok {
			return nil, false
		}
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, false
		}
		for _, seg := range path[1:] {
			obj, isObj := v.(map[string]any)
			if !isObj {
				return nil, false
			}
			if v, ok = obj[seg]; !ok {
				return nil, false
			}
		}
		vals[i] = v
	}
	return vals, true
}

// reindex replaces the document's entry.
func (ix *mangoIndex) reindex(ctx context.Context, w *writer, doc *document) error {
	if err := w.exec(ctx, `DELETE FROM index_entries WHERE idx = ? AND doc_id = ?`, ix.id, doc.id); err != nil {
		return err
	}
	if doc.deleted {
		return nil
	}
	vals, ok := ix.values(doc)
	if !ok {
		return nil
	}
	return w.exec(ctx, `INSERT INTO index_entries (idx, key, doc_id) VALUES (?, ?, ?)`, ix.id, w.enc.keyOf(vals), doc.id)
}

// indexDefinition is the body of POST /db/_index's "index" member.
type indexDefinition struct {
	Fields                []json.RawMessage `json:"fields"`
	PartialFilterSelector json.RawMessage   `json:"partial_filter_selector"`
}

// parseIndexFields accepts ["a", "b"] and [{"a": "asc"}, {"b": "asc"}].
func parseIndexFields(raw []json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, errBadRequest("index fields must be a non-empty array")
	}
	fields := make([]string, 0, len(raw))
	for _, r := range raw {
		name, _, err := parseSortField(r)
		if err != nil {
			return nil, err
		}
		fields = append(fields, name)
	}
	return fields, nil
}

// parseSortField reads "a" or {"a": "asc"|"desc"}; desc reports the direction.
func parseSortField(raw json.RawMessage) (name string, desc bool, err error) {
	if json.Unmarshal(raw, &name) == nil {
		return name, false, nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
		return "", false, errBadRequest("a sort or index field is a name or {\"name\": \"asc\"|\"desc\"}, not %s", truncate(raw, 40))
	}
	for k, dir := range m {
		switch dir {
		case "asc":
			return k, false, nil
		case "desc":
			return k, true, nil
		}
		return "", false, errBadRequest("sort direction of %q must be asc or desc", k)
	}
	return "", false, nil
}

// CreateIndex creates a json index over fields and indexes the documents already there. An index
// with the same design document and name is replaced when its fields differ, kept otherwise.
func (d *db) CreateIndex(ctx context.Context, ddoc, name string, index any, _ driver.Options) error {
	raw, err := toJSON(index)
	if err != nil {
		return errBadRequest("index is not JSON: %v", err)
	}
	var def indexDefinition
	if err := json.Unmarshal(raw, &def); err != nil {
		return errBadRequest("invalid index definition: %v", err)
	}
	if len(def.PartialFilterSelector) > 0 && string(def.PartialFilterSelector) != "null" {
		return errNotImplemented("partial_filter_selector")
	}
	fields, err := parseIndexFields(def.Fields)
	if err != nil {
		return err
	}
	fieldsJSON, _ := json.Marshal(fields)
	if name == "" {
		sum := sha1.Sum(fieldsJSON)
		name = hex.EncodeToString(sum[:])
	}
	if ddoc == "" {
		ddoc = name
	}
	if !strings.HasPrefix(ddoc, "_design/") {
		ddoc = "_design/" + ddoc
	}
	return d.client.write(ctx, func(tx *sql.Tx) error {
		dbID, err := d.dbID(ctx, tx)
		if err != nil {
			return err
		}
		var existing string
		err = tx.QueryRowContext(ctx, `SELECT fields FROM mango_indexes WHERE db = ? AND ddoc = ? AND name = ?`, dbID, ddoc, name).Scan(&existing)
		if err == nil && existing == string(fieldsJSON) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mango_indexes WHERE db = ? AND ddoc = ? AND name = ?`, dbID, ddoc, name); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO mango_indexes (db, ddoc, name, fields) VALUES (?, ?, ?, ?) RETURNING id`,
			dbID, ddoc, name, string(fieldsJSON)).Scan(&id); err != nil {
			return err
		}
		return d.buildIndex(ctx, tx, dbID, newMangoIndex(id, ddoc, name, fields))
	})
}

// buildIndex adds the entries of the documents already in the database, one at a time.
func (d *db) buildIndex(ctx context.Context, tx *sql.Tx, dbID int64, ix *mangoIndex) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, body FROM docs WHERE db = ? AND deleted = 0`, dbID)
	if err != nil {
		return err
	}
	defer rows.Close()
	col := d.client.collator()
	defer d.client.releaseCollator(col)
	enc := &keyEncoder{col: col}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO index_entries (idx, key, doc_id) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	for rows.Next() {
		var id string
		var body []byte
		if err := rows.Scan(&id, &body); err != nil {
			return err
		}
		members, err := parseObject(body)
		if err != nil {
			return fmt.Errorf("document %q: stored body: %w", id, err)
		}
		vals, ok := ix.values(&document{id: id, members: members})
		if !ok {
			continue
		}
		if _, err := insert.ExecContext(ctx, ix.id, enc.keyOf(vals), id); err != nil {
			return err
		}
	}
	return rows.Err()
}

// GetIndexes lists the special _all_docs index and the json indexes.
func (d *db) GetIndexes(ctx context.Context, _ driver.Options) ([]driver.Index, error) {
	dbID, err := d.dbID(ctx, d.client.sql)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	indexes, err := loadIndexes(ctx, d.client.sql, dbID)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	out := []driver.Index{{Name: "_all_docs", Type: "special",
		Definition: map[string]any{"fields": []any{map[string]string{"_id": "asc"}}}}}
	for _, ix := range indexes {
		out = append(out, ix.describe())
	}
	return out, nil
}

func (ix *mangoIndex) describe() driver.Index {
	fields := make([]any, len(ix.fields))
	for i, f := range ix.fields {
		fields[i] = map[string]string{f: "asc"}
	}
	return driver.Index{DesignDoc: ix.ddoc, Name: ix.name, Type: "json", Definition: map[string]any{"fields": fields}}
}

// DeleteIndex removes an index; 404 when there is none by that name.
func (d *db) DeleteIndex(ctx context.Context, ddoc, name string, _ driver.Options) error {
	if !strings.HasPrefix(ddoc, "_design/") {
		ddoc = "_design/" + ddoc
	}
	return d.client.write(ctx, func(tx *sql.Tx) error {
		dbID, err := d.dbID(ctx, tx)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM mango_indexes WHERE db = ? AND ddoc = ? AND name = ?`, dbID, ddoc, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &Error{Status: http.StatusNotFound, Name: "not_found", Reason: "Index not found"}
		}
		return nil
	})
}
