package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tidwall/gjson"
)

// DefaultPageSize is the number of documents [DB.Find] asks for per request
// when the query gives no page size.
const DefaultPageSize = 1000

// maxCozyPageSize is the largest page of a Cozy stack's _find
// (consts.MaxItemsPerPageForMango).
const maxCozyPageSize = 1000

// Query is a Mango query for [DB.Find].
type Query struct {
	// Selector is the Mango selector: a map[string]any, a json.RawMessage or
	// any value that encodes to a JSON object. nil selects every document.
	Selector any
	// Sort orders the results; the server needs an index on these fields.
	Sort []SortField
	// Fields projects each document on these fields (nested fields with
	// dots); empty means whole documents. "_id" is always included.
	Fields []string
	// UseIndex names the index to use (its design document); "" lets the
	// server choose.
	UseIndex string
	// Limit stops after this many documents; 0 means all of them.
	Limit int
	// PageSize is the number of documents per request; 0 means DefaultPageSize.
	// Through a Cozy stack it is at most 1000.
	PageSize int
}

// SortField is one key of a sort: a field and a direction.
type SortField struct {
	Field string
	Desc  bool
}

// Asc sorts on field in ascending order.
func Asc(field string) SortField { return SortField{Field: field} }

// Desc sorts on field in descending order.
func Desc(field string) SortField { return SortField{Field: field, Desc: true} }

// Find runs the query and calls each for every matching document, in the
// server's order, fetching page after page until all are read (or Limit).
// Design documents are left out. An error returned by each stops Find and is
// returned as is. The document passed to each is the caller's to keep.
//
// Find pages with the server's bookmark when the server returns one (CouchDB
// 3, the embedded driver) and with skip otherwise (pouchdb-server). There,
// pouchdb-find applies limit and skip before it drops the rows equal to an
// exclusive bound ($gt, or $lt in a descending sort), so such a query that
// spans several pages may come back short or repeat documents.
func (d *DB) Find(ctx context.Context, q Query, each func(doc json.RawMessage) error) error {
	if err := d.allow(http.MethodGet); err != nil {
		return err
	}
	pageSize := q.PageSize
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	if d.v.cozy {
		// A Cozy stack silently answers 100 documents to a limit above 1000
		// (web/data/data.go, findDocuments), which would read as the last page.
		pageSize = min(pageSize, maxCozyPageSize)
	}
	body := map[string]any{"selector": q.Selector}
	if q.Selector == nil {
		body["selector"] = map[string]any{}
	}
	if len(q.Sort) > 0 {
		sort := make([]map[string]string, len(q.Sort))
		for i, s := range q.Sort {
			sort[i] = map[string]string{s.Field: "asc"}
			if s.Desc {
				sort[i][s.Field] = "desc"
			}
		}
		body["sort"] = sort
	}
	if len(q.Fields) > 0 {
		fields := q.Fields
		if !slices.Contains(fields, "_id") {
			fields = append([]string{"_id"}, fields...)
		}
		body["fields"] = fields
	}
	if q.UseIndex != "" {
		body["use_index"] = q.UseIndex
	}
	var (
		seen        int
		useBookmark bool
		bookmark    string
	)
	for page := 0; ; page++ {
		limit := pageSize
		if q.Limit > 0 {
			limit = min(limit, q.Limit-seen)
		}
		body["limit"] = limit
		delete(body, "bookmark")
		delete(body, "skip")
		if useBookmark {
			body["bookmark"] = bookmark
		} else if seen > 0 {
			body["skip"] = seen
		}
		rs := d.kdb.Find(ctx, body)
		n := 0
		for rs.Next() {
			var doc json.RawMessage
			if err := rs.ScanDoc(&doc); err != nil {
				_ = rs.Close()
				return d.fail("find in", "", err)
			}
			n++
			if strings.HasPrefix(gjson.GetBytes(doc, "_id").String(), "_design/") {
				continue // CouchDB's Mango indexes; the embedded driver has none
			}
			if err := each(doc); err != nil {
				_ = rs.Close()
				return err
			}
		}
		if err := rs.Err(); err != nil {
			return d.fail("find in", "", err)
		}
		meta, err := rs.Metadata()
		if err != nil {
			return d.fail("find in", "", err)
		}
		seen += n
		if n < limit || (q.Limit > 0 && seen >= q.Limit) {
			return nil
		}
		switch {
		case page == 0 && meta.Bookmark != "":
			useBookmark = true
		case useBookmark && meta.Bookmark == bookmark:
			return fmt.Errorf("vault: %s: find in %s: the server returned the same bookmark twice, cannot read further", d.v.loc, d.name)
		}
		bookmark = meta.Bookmark
	}
}

// FindAll runs the query like [DB.Find] and decodes every document into a T.
func FindAll[T any](ctx context.Context, db *DB, q Query) ([]T, error) {
	var out []T
	err := db.Find(ctx, q, func(raw json.RawMessage) error {
		var doc T
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("vault: find in %s: decode: %w", db.name, err)
		}
		out = append(out, doc)
		return nil
	})
	return out, err
}
