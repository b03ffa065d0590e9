package sqlitecouch

import (
	"bytes"
	"fmt"

	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"github.com/tidwall/gjson"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/go-kivik/kivik/v4/driver"
	"github.com/go-kivik/kivik/v4/x/mango"
	"golang.org/x/text/collate"
)

// findQuery is the body of POST /db/_find.
type findQuery struct {
	Selector json.RawMessage   `json:"selector"`
	Limit    *int64            `json:"limit"`
	Skip     int64             `json:"skip"`
	Sort     []json.RawMessage `json:"sort"`
	Fields   []string          `json:"fields"`
	Bookmark string            `json:"bookmark"`
	UseIndex json.RawMessage   `json:"use_index"`
}

// defaultFindLimit is CouchDB's.
const defaultFindLimit = 25

// plan is how a query is answered: which index, which key range, which order.
type plan struct {
	index      *mangoIndex // nil: scan the documents by id
	lower      []byte      // inclusive lower bound of index keys
	upper      []byte      // exclusive upper bound of index keys
	descending bool
	warning    string
}

// bookmark is where the previous page ended; it is opaque to callers.
type bookmark struct {
	Index int64  `json:"x,omitempty"`
	Key   []byte `json:"k,omitempty"`
	ID    string `json:"i"`
}

func (b bookmark) encode() string {
	raw, _ := json.Marshal(b)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeBookmark(s string) (*bookmark, error) {
	if s == "" || s == "nil" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	var b bookmark
	if err == nil {
		err = json.Unmarshal(raw, &b)
	}
	if err != nil {
		return nil, errBadRequest("invalid bookmark: pass back the bookmark a previous _find returned")
	}
	return &b, nil
}

// Find answers a Mango query. With an index that serves the selector or the sort, it reads only
// the index range the selector allows, one document at a time; without one it scans documents in
// id order and says so in the warning. A sort no index serves is an error, as in CouchDB.
func (d *db) Find(ctx context.Context, query any, _ driver.Options) (driver.Rows, error) {
	q, err := parseFindQuery(query)
	if err != nil {
		return nil, err
	}
	dbID, err := d.dbID(ctx, d.client.sql)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	col := d.client.collator()
	release := func() { d.client.releaseCollator(col) }
	sel, p, err := d.prepare(ctx, dbID, q, col)
	if err != nil {
		release()
		return nil, err
	}
	bm, err := decodeBookmark(q.Bookmark)
	if err != nil {
		release()
		return nil, err
	}
	if bm != nil && p.index != nil && bm.Index != p.index.id {
		release()
		return nil, errBadRequest("invalid bookmark: it was made for another query")
	}
	rows, err := d.scan(ctx, dbID, p, bm)
	if err != nil {
		release()
		return nil, d.client.wrap(err)
	}
	limit := int64(defaultFindLimit)
	if q.Limit != nil {
		limit = *q.Limit
	}
	return &findRows{rows: rows, sel: sel, plan: p, limit: limit, skip: q.Skip, fields: q.Fields,
		bookmark: q.Bookmark, release: release}, nil
}

func parseFindQuery(query any) (*findQuery, error) {
	raw, err := toJSON(query)
	if err != nil {
		return nil, errBadRequest("query is not JSON: %v", err)
	}
	var q findQuery
	if err := json.Unmarshal(raw, &q); err != nil {
		return nil, errBadRequest("invalid query: %v", err)
	}
	if q.Limit != nil && *q.Limit < 0 || q.Skip < 0 {
		return nil, errBadRequest("limit and skip must not be negative")
	}
	return &q, nil
}

// prepare compiles the selector and chooses the plan.
func (d *db) prepare(ctx context.Context, dbID int64, q *findQuery, col *collate.Collator) (*selector, *plan, error) {
	sel, err := compileSelector(q.Selector, col)
	if err != nil {
		return nil, nil, err
	}
	var sortFields []string
	descending := false
	for i, raw := range q.Sort {
		name, desc, err := parseSortField(raw)
		if err != nil {
			return nil, nil, err
		}
		if i > 0 && desc != descending {
			return nil, nil, &Error{Status: http.StatusBadRequest, Name: "unsupported_mixed_sort", Reason: "Sorts currently only support a single direction for all fields."}
		}
		descending = desc
		sortFields = append(sortFields, name)
	}
	indexes, err := loadIndexes(ctx, d.client.sql, dbID)
	if err != nil {
		return nil, nil, d.client.wrap(err)
	}
	wanted := useIndex(q.UseIndex)
	var best, bestWanted *mangoIndex
	bestScore, bestWantedScore := -1, -1
	for _, ix := range indexes {
		if !ix.usable(sel, sortFields) {
			continue
		}
		score := ix.score(sel.constraints)
		if score > bestScore || score == bestScore && len(ix.fields) < len(best.fields) {
			best, bestScore = ix, score
		}
		if wanted != nil && wanted(ix) && (score > bestWantedScore || score == bestWantedScore && len(ix.fields) < len(bestWanted.fields)) {
			bestWanted, bestWantedScore = ix, score
		}
	}
	if bestWanted != nil {
		best = bestWanted // else, as CouchDB, the best usable index
	}
	p := &plan{index: best, descending: descending}
	switch {
	case best != nil:
		enc := &keyEncoder{col: col}
		p.lower, p.upper = best.keyRange(enc, sel.constraints, col)
	case len(sortFields) > 0 && !(len(sortFields) == 1 && sortFields[0] == "_id"):
		return nil, nil, &Error{Status: http.StatusBadRequest, Name: "no_usable_index",
			Reason: "No index exists for this sort, try indexing by the sort fields."}
	default:
		p.warning = "No matching index found, create an index to optimize query time."
	}
	if wanted != nil && bestWanted == nil {
		p.warning = "_design/" + strings.TrimPrefix(string(q.UseIndex), "_design/") + " was not used because it does not contain a valid index for this query."
	}
	return sel, p, nil
}

// useIndex reads use_index ("ddoc" or ["ddoc", "name"]) as a filter on indexes, nil when absent.
func useIndex(raw json.RawMessage) func(*mangoIndex) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var ddoc, name string
	var pair []string
	if json.Unmarshal(raw, &ddoc) != nil {
		if json.Unmarshal(raw, &pair) != nil || len(pair) == 0 {
			return nil
		}
		ddoc = pair[0]
		if len(pair) > 1 {
			name = pair[1]
		}
	}
	if !strings.HasPrefix(ddoc, "_design/") {
		ddoc = "_design/" + ddoc
	}
	return func(ix *mangoIndex) bool { return ix.ddoc == ddoc && (name == "" || ix.name == name) }
}

// usable says whether the index can answer a query, as CouchDB decides (mango_idx_view:is_usable):
// a document lacking one of its fields is not in the index, so the selector must require every
// field (sort fields aside: a sort drops the documents that lack its fields, and _id, which every
// document has), and the index must give the sort's order.
func (ix *mangoIndex) usable(sel *selector, sortFields []string) bool {
	for _, f := range ix.fields {
		if !sel.required[f] && !slices.Contains(sortFields, f) && f != "_id" && f != "_rev" {
			return false
		}
	}
	return ix.canSort(sel.constraints, sortFields)
}

// canSort reports whether reading the index in key order gives the sort's order: the sort
// fields are a run of the index's fields, after fields the selector holds equal to one value
// (mango_idx_view:can_use_sort).
func (ix *mangoIndex) canSort(cs []constraint, sortFields []string) bool {
	if len(sortFields) == 0 {
		return true
	}
	for i, f := range ix.fields {
		if f == sortFields[0] {
			rest := ix.fields[i:]
			return len(sortFields) <= len(rest) && slices.Equal(rest[:len(sortFields)], sortFields)
		}
		if _, constant := equality(cs, f); !constant {
			return false
		}
	}
	return false
}

// score says how narrow a range of the index the selector reads: leading equalities score
// highest, then a range on the next field.
func (ix *mangoIndex) score(cs []constraint) int {
	score := 0
	for _, f := range ix.fields {
		if _, ok := equality(cs, f); ok {
			score += 2
			continue
		}
		if ranged(cs, f) {
			score++
		}
		break
	}
	return score
}

// ranged reports whether a condition bounds the field's values.
func ranged(cs []constraint, field string) bool {
	for _, c := range cs {
		if c.field == field {
			switch c.op {
			case "$gt", "$gte", "$lt", "$lte":
				return true
			}
		}
	}
	return false
}

func equality(cs []constraint, field string) (any, bool) {
	for _, c := range cs {
		if c.field == field && c.op == "$eq" {
			return c.arg, true
		}
	}
	return nil, false
}

// keyRange turns the selector's conditions on the index's leading fields into the range of keys
// to read: equalities on the leading fields, then the tightest bounds on the next one.
func (ix *mangoIndex) keyRange(enc *keyEncoder, cs []constraint, col *collate.Collator) (lower, upper []byte) {
	var eqs []any
	next := ""
	for _, f := range ix.fields {
		v, ok := equality(cs, f)
		if !ok {
			next = f
			break
		}
		eqs = append(eqs, v)
	}
	prefix := enc.prefixOf(eqs)
	lower = prefix
	upper = append(bytes.Clone(prefix), 0xFF)
	if next == "" {
		return lower, upper
	}
	var lo, hi *constraint
	for i := range cs {
		c := &cs[i]
		if c.field != next {
			continue
		}
		switch c.op {
		case "$gt", "$gte":
			if lo == nil || tighter(col, c, lo, 1) {
				lo = c
			}
		case "$lt", "$lte":
			if hi == nil || tighter(col, c, hi, -1) {
				hi = c
			}
		}
	}
	if lo != nil {
		lower = enc.append(bytes.Clone(prefix), lo.arg)
		if lo.op == "$gt" {
			lower = append(lower, 0xFF)
		}
	}
	if hi != nil {
		upper = enc.append(bytes.Clone(prefix), hi.arg)
		if hi.op == "$lte" {
			upper = append(upper, 0xFF)
		}
	}
	return lower, upper
}

// tighter reports whether bound a narrows the range more than b; dir is 1 for lower bounds.
func tighter(col *collate.Collator, a, b *constraint, dir int) bool {
	c := compareValues(col, a.arg, b.arg) * dir
	return c > 0 || c == 0 && (a.op == "$gt" || a.op == "$lt")
}

// scan opens the cursor of candidates, after the bookmark when there is one.
func (d *db) scan(ctx context.Context, dbID int64, p *plan, bm *bookmark) (*sql.Rows, error) {
	order, after := "ASC", ">"
	if p.descending {
		order, after = "DESC", "<"
	}
	if p.index == nil {
		query := `SELECT NULL, id, rev, body FROM docs WHERE db = ? AND deleted = 0`
		args := []any{dbID}
		if bm != nil {
			query += ` AND id ` + after + ` ?`
			args = append(args, bm.ID)
		}
		return d.client.sql.QueryContext(ctx, query+` ORDER BY id `+order, args...)
	}
	query := `SELECT e.key, d.id, d.rev, d.body FROM index_entries e JOIN docs d ON d.db = ? AND d.id = e.doc_id
		WHERE e.idx = ? AND e.key >= ? AND e.key < ?`
	args := []any{dbID, p.index.id, p.lower, p.upper}
	if bm != nil {
		query += ` AND (e.key, e.doc_id) ` + after + ` (?, ?)`
		args = append(args, bm.Key, bm.ID)
	}
	return d.client.sql.QueryContext(ctx, query+` ORDER BY e.key `+order+`, e.doc_id `+order, args...)
}

// findRows filters the candidates through the selector as the caller reads them, so memory holds
// one document at a time whatever the database's size.
type findRows struct {
	rows     *sql.Rows
	sel      *selector
	plan     *plan
	limit    int64
	skip     int64
	fields   []string
	needed   map[string]bool // top-level members to decode, from the selector and the fields
	emitted  int64
	scanned  int64 // candidates read, for tests that prove a query reads only its range
	last     *bookmark
	bookmark string
	release  func()
}

var (
	_ driver.Rows       = (*findRows)(nil)
	_ driver.Bookmarker = (*findRows)(nil)
	_ driver.RowsWarner = (*findRows)(nil)
)

func (r *findRows) Next(row *driver.Row) error {
	for r.emitted < r.limit && r.rows.Next() {
		var key, body []byte
		var id, rev string
		if err := r.rows.Scan(&key, &id, &rev, &body); err != nil {
			return err
		}
		r.scanned++
		members := r.members(body)
		doc, err := r.decode(id, rev, members)
		if err != nil {
			return err
		}
		if !r.sel.root.match(doc) {
			continue
		}
		if r.skip > 0 {
			r.skip--
			continue
		}
		r.emitted++
		r.last = &bookmark{Key: key, ID: id}
		if r.plan.index != nil {
			r.last.Index = r.plan.index.id
		}
		var raw []byte
		if len(r.fields) > 0 {
			raw = projectRaw(id, rev, members, r.fields)
		} else {
			raw = withSpecials(id, rev, false, body)
		}
		*row = driver.Row{ID: id, Rev: rev, Doc: bytes.NewReader(raw)}
		return nil
	}
	if err := r.rows.Err(); err != nil {
		return err
	}
	r.Close()
	return io.EOF
}

// members returns the raw top-level members of a stored body that the selector or the
// projection reads; the others (a trip's series, most of its bytes) are skipped unparsed.
func (r *findRows) members(body []byte) map[string]gjson.Result {
	if r.needed == nil {
		r.needed = map[string]bool{}
		for k := range r.sel.roots {
			r.needed[k] = true
		}
		for _, f := range r.fields {
			r.needed[mango.SplitKeys(f)[0]] = true
		}
		delete(r.needed, "_id") // not members of the stored body
		delete(r.needed, "_rev")
	}
	out := make(map[string]gjson.Result, len(r.needed))
	gjson.ParseBytes(body).ForEach(func(key, value gjson.Result) bool {
		if r.needed[key.Str] {
			out[key.Str] = value
		}
		return len(out) < len(r.needed) // stop once everything needed is found
	})
	return out
}

// decode decodes what the selector reads, and only that.
func (r *findRows) decode(id, rev string, members map[string]gjson.Result) (map[string]any, error) {
	doc := map[string]any{"_id": id, "_rev": rev}
	for k := range r.sel.roots {
		m, ok := members[k]
		if !ok {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(m.Raw), &v); err != nil {
			return nil, fmt.Errorf("document %q: stored body: %w", id, err)
		}
		doc[k] = v
	}
	return doc, nil
}

func (r *findRows) Close() error {
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return r.rows.Close()
}

func (r *findRows) UpdateSeq() string { return "" }
func (r *findRows) Offset() int64     { return 0 }
func (r *findRows) TotalRows() int64  { return 0 }
func (r *findRows) Warning() string   { return r.plan.warning }

// Bookmark lets the next query start after the last document returned.
func (r *findRows) Bookmark() string {
	if r.last == nil {
		return r.bookmark
	}
	return r.last.encode()
}

// projectRaw builds the document CouchDB's fields option gives: only the listed fields (dotted
// paths allowed), copied as raw JSON from the stored members without decoding them.
func projectRaw(id, rev string, members map[string]gjson.Result, fields []string) []byte {
	root := &projection{}
	for _, f := range fields {
		path := mango.SplitKeys(f)
		var value gjson.Result
		switch path[0] {
		case "_id":
			value = gjson.Result{Type: gjson.String, Raw: string(jsonString(id))}
		case "_rev":
			value = gjson.Result{Type: gjson.String, Raw: string(jsonString(rev))}
		default:
			value = members[path[0]]
			for _, seg := range path[1:] {
				if !value.IsObject() {
					value = gjson.Result{}
					break
				}
				value = value.Get(gjson.Escape(seg))
			}
		}
		if value.Exists() {
			root.set(path, value.Raw)
		}
	}
	return root.appendJSON(nil)
}

// projection is a tree of projected fields: a leaf holds a raw value.
type projection struct {
	raw      string
	keys     []string
	children map[string]*projection
}

func (p *projection) set(path []string, raw string) {
	node := p
	for _, seg := range path {
		if node.raw != "" {
			return // a whole member is already projected
		}
		if node.children == nil {
			node.children = map[string]*projection{}
		}
		child := node.children[seg]
		if child == nil {
			child = &projection{}
			node.children[seg] = child
			node.keys = append(node.keys, seg)
		}
		node = child
	}
	node.raw, node.children, node.keys = raw, nil, nil
}

func (p *projection) appendJSON(dst []byte) []byte {
	if p.raw != "" {
		return append(dst, p.raw...)
	}
	dst = append(dst, '{')
	for i, k := range p.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, jsonString(k)...)
		dst = append(dst, ':')
		dst = p.children[k].appendJSON(dst)
	}
	return append(dst, '}')
}

// Explain describes the plan Find would use, in CouchDB 3's shape: the index, the selector, the
// query's options with CouchDB's defaults (some, such as the read quorum r, mean nothing to a
// single file but are kept for clients that read them), limit, skip and fields.
func (d *db) Explain(ctx context.Context, query any, _ driver.Options) (*driver.QueryPlan, error) {
	q, err := parseFindQuery(query)
	if err != nil {
		return nil, err
	}
	dbID, err := d.dbID(ctx, d.client.sql)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	col := d.client.collator()
	defer d.client.releaseCollator(col)
	_, p, err := d.prepare(ctx, dbID, q, col)
	if err != nil {
		return nil, err
	}
	idx := map[string]any{"ddoc": nil, "name": "_all_docs", "type": "special", "def": map[string]any{"fields": []any{map[string]string{"_id": "asc"}}}}
	if p.index != nil {
		desc := p.index.describe()
		idx = map[string]any{"ddoc": desc.DesignDoc, "name": desc.Name, "type": desc.Type, "def": desc.Definition}
	}
	var selector map[string]any
	_ = json.Unmarshal(q.Selector, &selector)
	var fields []any // nil: all fields
	for _, f := range q.Fields {
		fields = append(fields, f)
	}
	limit := int64(defaultFindLimit)
	if q.Limit != nil {
		limit = *q.Limit
	}
	sort := map[string]any{}
	for _, raw := range q.Sort {
		name, desc, _ := parseSortField(raw) // checked by prepare
		sort[name] = map[bool]string{false: "asc", true: "desc"}[desc]
	}
	useIndex := []any{}
	if len(q.UseIndex) > 0 && string(q.UseIndex) != "null" {
		var one string
		if json.Unmarshal(q.UseIndex, &one) == nil {
			useIndex = []any{one}
		} else {
			_ = json.Unmarshal(q.UseIndex, &useIndex)
		}
	}
	bookmark := q.Bookmark
	if bookmark == "" {
		bookmark = "nil"
	}
	opts := map[string]any{
		"use_index": useIndex, "bookmark": bookmark, "limit": limit, "skip": q.Skip, "sort": sort,
		"fields": "all_fields", "partition": "", "r": []int{49}, "conflicts": false,
		"execution_stats": false, "stable": false, "stale": false, "update": true,
	}
	if fields != nil {
		opts["fields"] = fields
	}
	return &driver.QueryPlan{DBName: d.name, Index: idx, Selector: selector, Options: opts, Limit: limit,
		Skip: q.Skip, Fields: fields}, nil
}
