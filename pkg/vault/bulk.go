package vault

import (
	"context"
	"fmt"
)

// DefaultBatchSize is the number of documents [SaveMany] sends per request
// when the caller gives no batch size.
const DefaultBatchSize = 500

// BulkResult is the outcome of writing one document with [SaveMany].
type BulkResult struct {
	ID  string
	Rev string
	// Err is nil when the document was written; otherwise it matches
	// [ErrConflict] for a missing or stale _rev, or describes the rejection.
	Err error
}

// SaveMany writes docs with _bulk_docs, batchSize documents per request
// (DefaultBatchSize when batchSize <= 0). Each document may carry "_id",
// "_rev" and "_deleted"; one without "_id" gets an id from the server.
//
// It returns one result per document, in the order of docs: a document
// rejected by the server (conflict, invalid) has its Err set and does not stop
// the others. The error return is for a batch that failed as a whole
// (network, server): the results then cover the batches written before it.
// Like CouchDB's _bulk_docs, a batch is not a transaction.
//
// With a [Policy], SaveMany needs POST on the doctype, and DELETE too when a
// document carries "_deleted": true; a refusal writes nothing.
func SaveMany[T any](ctx context.Context, db *DB, docs []T, batchSize int) ([]BulkResult, error) {
	if err := allowBulk(db, docs); err != nil {
		return nil, err
	}
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	results := make([]BulkResult, 0, len(docs))
	batch := make([]any, 0, min(batchSize, len(docs)))
	for start := 0; start < len(docs); start += batchSize {
		batch = batch[:0]
		for _, doc := range docs[start:min(start+batchSize, len(docs))] {
			batch = append(batch, doc)
		}
		kres, err := db.kdb.BulkDocs(ctx, batch)
		if err != nil {
			return results, db.fail(fmt.Sprintf("bulk write of documents %d-%d to", start, start+len(batch)-1), "", err)
		}
		if len(kres) != len(batch) {
			return results, fmt.Errorf("vault: %s: bulk write to %s: %d results for %d documents",
				db.v.loc, db.name, len(kres), len(batch))
		}
		for _, r := range kres {
			res := BulkResult{ID: r.ID, Rev: r.Rev}
			if r.Error != nil {
				res.Err = db.fail("write", r.ID, r.Error)
			}
			results = append(results, res)
		}
	}
	return results, nil
}
