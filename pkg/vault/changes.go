package vault

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	kivik "github.com/go-kivik/kivik/v4"
)

// ChangesQuery asks [DB.Changes] for the changes after a sequence.
type ChangesQuery struct {
	// Since is a sequence returned by an earlier call, kept as the opaque
	// string it is (CouchDB 3 and pouchdb-server write them differently);
	// "" means from the beginning.
	Since string
	// Limit caps the number of changes returned; 0 means no cap.
	Limit int
	// IncludeDocs fills Change.Doc.
	IncludeDocs bool
}

// Change is one entry of the changes feed: the latest revision of one document.
type Change struct {
	ID      string
	Rev     string
	Seq     string
	Deleted bool
	// Doc is the document when IncludeDocs was asked (for a deletion, its
	// tombstone: _id, _rev and "_deleted": true).
	Doc json.RawMessage
}

// Changes returns the changes after q.Since, oldest first, and the sequence
// to pass as Since next time. Design documents (CouchDB's Mango indexes) are
// left out. An empty result means there is nothing newer; the returned
// sequence is then q.Since or a later one.
func (d *DB) Changes(ctx context.Context, q ChangesQuery) (changes []Change, lastSeq string, err error) {
	if err := d.allow(http.MethodGet); err != nil {
		return nil, "", err
	}
	since := q.Since
	for {
		params := map[string]any{"feed": "normal"}
		if since != "" {
			params["since"] = since
		}
		if q.Limit > 0 {
			params["limit"] = q.Limit
		}
		if q.IncludeDocs {
			params["include_docs"] = true
		}
		feed := d.kdb.Changes(ctx, kivik.Params(params))
		raw := 0
		last := since
		for feed.Next() {
			raw++
			last = feed.Seq()
			if strings.HasPrefix(feed.ID(), "_design/") {
				continue
			}
			c := Change{ID: feed.ID(), Seq: feed.Seq(), Deleted: feed.Deleted()}
			if revs := feed.Changes(); len(revs) > 0 {
				c.Rev = revs[0]
			}
			if q.IncludeDocs {
				if err := feed.ScanDoc(&c.Doc); err != nil {
					_ = feed.Close()
					return nil, "", d.fail("read changes of", "", err)
				}
			}
			changes = append(changes, c)
		}
		if err := feed.Err(); err != nil {
			return nil, "", d.fail("read changes of", "", err)
		}
		meta, err := feed.Metadata()
		if err != nil {
			return nil, "", d.fail("read changes of", "", err)
		}
		if meta.LastSeq != "" {
			last = meta.LastSeq
		}
		// A page holding only design documents would look like the end of
		// the feed: read on.
		if len(changes) > 0 || raw == 0 || q.Limit <= 0 || last == since {
			return changes, last, nil
		}
		since = last
	}
}
