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
