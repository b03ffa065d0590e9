package sqlitecouch

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/go-kivik/kivik/v4/driver"
)

// params are kivik options read into a map, with tolerant accessors: the same option may arrive
// as a Go value, a string or raw JSON depending on how the caller built it.
type params map[string]any

func (p params) string(key string) string {
	switch v := p[key].(type) {
	case string:
		return v
	case json.RawMessage:
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return string(v)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func (p params) bool(key string) bool {
	switch v := p[key].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	}
	return false
}

// int returns the option as an integer, def when absent; an unreadable value is a 400.
func (p params) int(key string, def int64) (int64, error) {
	switch v := p[key].(type) {
	case nil:
		return def, nil
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case float64:
		return int64(v), nil
	case json.Number:
		return v.Int64()
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, errBadRequest("%s must be an integer", key)
		}
		return n, nil
	}
	return 0, errBadRequest("%s must be an integer", key)
}

// value returns a key-like option (startkey, keys...) decoded to a Go value: strings given by Go
// callers stay strings, raw JSON is decoded.
func (p params) value(keys ...string) (any, bool) {
	for _, key := range keys {
		v, ok := p[key]
		if !ok {
			continue
		}
		switch t := v.(type) {
		case json.RawMessage:
			var out any
			if json.Unmarshal(t, &out) == nil {
				return out, true
			}
			return string(t), true
		case []byte:
			var out any
			if json.Unmarshal(t, &out) == nil {
				return out, true
			}
			return string(t), true
		}
		return v, true
	}
	return nil, false
}

// sqlRows streams rows from an open SQLite cursor; the cursor closes at the end or on Close.
type sqlRows struct {
	rows      *sql.Rows
	scan      func(*driver.Row) error
	offset    int64
	totalRows int64
	updateSeq string
	warning   string
	bookmark  string
}

var (
	_ driver.Rows       = (*sqlRows)(nil)
	_ driver.RowsWarner = (*sqlRows)(nil)
	_ driver.Bookmarker = (*sqlRows)(nil)
)

func (r *sqlRows) Next(row *driver.Row) error {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		r.rows.Close()
		return io.EOF
	}
	return r.scan(row)
}

func (r *sqlRows) Close() error      { return r.rows.Close() }
func (r *sqlRows) UpdateSeq() string { return r.updateSeq }
func (r *sqlRows) Offset() int64     { return r.offset }
func (r *sqlRows) TotalRows() int64  { return r.totalRows }
func (r *sqlRows) Warning() string   { return r.warning }
func (r *sqlRows) Bookmark() string  { return r.bookmark }

// sliceRows serves rows already in memory (small results: keys lookups, index lists).
type sliceRows struct {
	rows      []driver.Row
	totalRows int64
	offset    int64
}

func (r *sliceRows) Next(row *driver.Row) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	*row = r.rows[0]
	r.rows = r.rows[1:]
	return nil
}

func (r *sliceRows) Close() error      { r.rows = nil; return nil }
func (r *sliceRows) UpdateSeq() string { return "" }
func (r *sliceRows) Offset() int64     { return r.offset }
func (r *sliceRows) TotalRows() int64  { return r.totalRows }
