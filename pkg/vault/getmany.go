package vault

import (
	"context"
	"net/http"

	kivik "github.com/go-kivik/kivik/v4"
)

// GetMany reads the documents with these ids in one request (_all_docs with keys), in the order
// of ids. Ids of missing or deleted documents are left out.
func GetMany[T any](ctx context.Context, db *DB, ids []string) ([]T, error) {
	if err := db.allow(http.MethodGet); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rs := db.kdb.AllDocs(ctx, kivik.Params(map[string]any{"keys": ids, "include_docs": true}))
	defer rs.Close()
	out := make([]T, 0, len(ids))
	for rs.Next() {
		var doc *T
		if err := rs.ScanDoc(&doc); err != nil {
			// A row without a document: missing or deleted.
			continue
		}
		if doc != nil {
			out = append(out, *doc)
		}
	}
	if err := rs.Err(); err != nil {
		return nil, db.fail("get many", "", err)
	}
	return out, nil
}

// Revs returns the current revision of each of the documents with these ids, in one request
// (_all_docs with keys, without the documents). Missing and deleted documents have none.
func (d *DB) Revs(ctx context.Context, ids []string) (map[string]string, error) {
	if err := d.allow(http.MethodGet); err != nil {
		return nil, err
	}
	revs := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return revs, nil
	}
	rs := d.kdb.AllDocs(ctx, kivik.Param("keys", ids))
	defer rs.Close()
	for rs.Next() {
		var value struct {
			Rev     string `json:"rev"`
			Deleted bool   `json:"deleted"`
		}
		id, err := rs.ID()
		if err != nil || rs.ScanValue(&value) != nil || value.Rev == "" || value.Deleted {
			continue // a row of a missing document ({"key":…,"error":"not_found"}), or deleted
		}
		revs[id] = value.Rev
	}
	if err := rs.Err(); err != nil {
		return nil, d.fail("get the revisions of", "", err)
	}
	return revs, nil
}
