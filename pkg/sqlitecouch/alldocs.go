package sqlitecouch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-kivik/kivik/v4/driver"
)

// AllDocs lists documents by id in raw (code point) order, as CouchDB's _all_docs does.
// Options: keys, key, startkey/start_key, endkey/end_key, inclusive_end (default true),
// include_docs, descending, limit, skip, update_seq. With keys, the rows follow the keys, reversed
// when descending, then skip and limit apply (fabric_view_all_docs).
func (d *db) AllDocs(ctx context.Context, opts driver.Options) (driver.Rows, error) {
	p := options(opts)
	dbID, err := d.dbID(ctx, d.client.sql)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	includeDocs := p.bool("include_docs")
	var total int64
	// doc_count is kept by triggers (schema version 3): counting the rows here made every call
	// cost as much as the database is large.
	if err := d.client.sql.QueryRowContext(ctx, `SELECT doc_count FROM dbs WHERE id = ?`, dbID).Scan(&total); err != nil {
		return nil, d.client.wrap(err)
	}
	limit, err := p.int("limit", -1)
	if err != nil {
		return nil, err
	}
	skip, err := p.int("skip", 0)
	if err != nil {
		return nil, err
	}
	if _, set := p["limit"]; set && limit < 0 || skip < 0 {
		return nil, errBadRequest("limit and skip must be positive integers")
	}
	descending := p.bool("descending")
	if keys, ok := p.value("keys"); ok {
		return d.allDocsByKeys(ctx, dbID, keys, includeDocs, total, descending, skip, limit)
	}
	var updateSeq string
	if p.bool("update_seq") {
		var seq int64
		if err := d.client.sql.QueryRowContext(ctx, `SELECT update_seq FROM dbs WHERE id = ?`, dbID).Scan(&seq); err != nil {
			return nil, d.client.wrap(err)
		}
		updateSeq = strconv.FormatInt(seq, 10)
	}

	where := []string{"db = ?", "deleted = 0"}
	args := []any{dbID}
	lo, hi := ">=", "<="
	if descending {
		lo, hi = "<=", ">="
	}
	if key, ok := p.value("key"); ok {
		where = append(where, "id = ?")
		args = append(args, fmt.Sprint(key))
	}
	if start, ok := p.value("startkey", "start_key"); ok {
		where = append(where, "id "+lo+" ?")
		args = append(args, fmt.Sprint(start))
	}
	if end, ok := p.value("endkey", "end_key"); ok {
		if v, set := p["inclusive_end"]; set && (v == false || v == "false") {
			hi = strings.TrimSuffix(hi, "=")
		}
		where = append(where, "id "+hi+" ?")
		args = append(args, fmt.Sprint(end))
	}
	order := "ASC"
	if descending {
		order = "DESC"
	}
	query := `SELECT id, rev, body FROM docs WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id ` + order + ` LIMIT ? OFFSET ?`
	rows, err := d.client.sql.QueryContext(ctx, query, append(args, limit, skip)...)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	return &sqlRows{rows: rows, totalRows: total, offset: skip, updateSeq: updateSeq, scan: func(r *driver.Row) error {
		var id, rev string
		var body []byte
		if err := rows.Scan(&id, &rev, &body); err != nil {
			return err
		}
		*r = driver.Row{ID: id, Key: jsonString(id), Value: revValue(rev, false)}
		if includeDocs {
			r.Doc = bytes.NewReader(withSpecials(id, rev, false, body))
		}
		return nil
	}}, nil
}

// allDocsByKeys answers a keys request: one row per key, in the keys' order, with an error row
// for a key that was never written and a deleted marker for a tombstone.
func (d *db) allDocsByKeys(ctx context.Context, dbID int64, keys any, includeDocs bool, total int64, descending bool, skip, limit int64) (driver.Rows, error) {
	list, ok := keys.([]any)
	if !ok {
		if ss, isStrings := keys.([]string); isStrings {
			for _, s := range ss {
				list = append(list, s)
			}
		} else {
			return nil, errBadRequest("keys must be an array of document ids")
		}
	}
	for _, k := range list {
		if _, ok := k.(string); !ok {
			return nil, errBadRequest("keys must be an array of document ids")
		}
	}
	if descending {
		list = slices.Clone(list)
		slices.Reverse(list)
	}
	list = list[min(skip, int64(len(list))):]
	if limit >= 0 {
		list = list[:min(limit, int64(len(list)))]
	}
	ids := make([]string, len(list))
	for i, k := range list {
		ids[i] = k.(string)
	}
	keysJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	// One query for every key, so one snapshot of the database, as CouchDB answers, at the cost
	// of one query rather than one per key; the bodies only when asked for (a trip's is tens of
	// kilobytes).
	body := "NULL"
	if includeDocs {
		body = "body"
	}
	rows, err := d.client.sql.QueryContext(ctx, `SELECT id, rev, deleted, `+body+` FROM docs
		WHERE db = ? AND id IN (SELECT value FROM json_each(?))`, dbID, string(keysJSON))
	if err != nil {
		return nil, d.client.wrap(err)
	}
	defer rows.Close()
	type stored struct {
		rev     string
		deleted bool
		body    []byte
	}
	byID := make(map[string]stored, len(ids))
	for rows.Next() {
		var id string
		var s stored
		if err := rows.Scan(&id, &s.rev, &s.deleted, &s.body); err != nil {
			return nil, d.client.wrap(err)
		}
		byID[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, d.client.wrap(err)
	}
	out := &sliceRows{totalRows: total}
	for _, id := range ids {
		s, ok := byID[id]
		if !ok {
			out.rows = append(out.rows, driver.Row{Key: jsonString(id), Error: errNotFound("not_found")})
			continue
		}
		row := driver.Row{ID: id, Key: jsonString(id), Value: revValue(s.rev, s.deleted)}
		if includeDocs && !s.deleted {
			row.Doc = bytes.NewReader(withSpecials(id, s.rev, false, s.body))
		}
		out.rows = append(out.rows, row)
	}
	return out, nil
}
