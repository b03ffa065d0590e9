package sqlitecouch

import (
	"context"
	"database/sql"
	"io"
	"strconv"

	"github.com/go-kivik/kivik/v4/driver"
)

// Changes lists the documents changed after since, one row per document at its latest change, in
// sequence order. Sequences are decimal strings; callers must treat them as opaque, as CouchDB's
// are. Options: feed (normal, longpoll or continuous), since ("now" for the current sequence),
// limit, include_docs, descending (from the latest change, since ignored, as in CouchDB), and for
// the live feeds timeout and heartbeat (see liveChanges).
func (d *db) Changes(ctx context.Context, opts driver.Options) (driver.Changes, error) {
	p := options(opts)
	feed := p.string("feed")
	switch feed {
	case "", "normal", "longpoll", "continuous":
	default:
		return nil, errNotImplemented("the " + feed + " changes feed")
	}
	if (feed == "longpoll" || feed == "continuous") && !p.bool("descending") {
		return d.liveChanges(ctx, p, feed == "continuous")
	}
	dbID, err := d.dbID(ctx, d.client.sql)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	var current int64
	if err := d.client.sql.QueryRowContext(ctx, `SELECT update_seq FROM dbs WHERE id = ?`, dbID).Scan(&current); err != nil {
		return nil, d.client.wrap(err)
	}
	var since int64
	switch s := p.string("since"); s {
	case "", "0":
	case "now":
		since = current
	default:
		if since, err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, errBadRequest("since must be a sequence this database returned, or now")
		}
	}
	limit, err := p.int("limit", -1)
	if err != nil {
		return nil, err
	}
	descending := p.bool("descending")
	order, cmp := "ASC", ">"
	if descending {
		// A descending feed starts from the latest change: since applies to the forward
		// direction only (couch_changes).
		order, cmp = "DESC", "<"
		since = current + 1
	}
	var pending int64
	if err := d.client.sql.QueryRowContext(ctx, `SELECT count(*) FROM docs WHERE db = ? AND seq `+cmp+` ?`, dbID, since).Scan(&pending); err != nil {
		return nil, d.client.wrap(err)
	}
	body := "NULL" // read the bodies only when they are asked for
	if p.bool("include_docs") {
		body = "body"
	}
	rows, err := d.client.sql.QueryContext(ctx, `SELECT id, rev, seq, deleted, `+body+` FROM docs
		WHERE db = ? AND seq `+cmp+` ? ORDER BY seq `+order+` LIMIT ?`, dbID, since, limit)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	lastSeq := since
	if descending && lastSeq > current {
		lastSeq = current
	}
	return &changes{rows: rows, includeDocs: p.bool("include_docs"), lastSeq: lastSeq, pending: pending}, nil
}

type changes struct {
	rows        *sql.Rows
	includeDocs bool
	lastSeq     int64
	pending     int64
}

func (c *changes) Next(ch *driver.Change) error {
	if !c.rows.Next() {
		if err := c.rows.Err(); err != nil {
			return err
		}
		c.rows.Close()
		return io.EOF
	}
	var id, rev string
	var seq int64
	var deleted bool
	var body []byte
	if err := c.rows.Scan(&id, &rev, &seq, &deleted, &body); err != nil {
		return err
	}
	*ch = driver.Change{ID: id, Seq: strconv.FormatInt(seq, 10), Deleted: deleted, Changes: driver.ChangedRevs{rev}}
	if c.includeDocs {
		ch.Doc = withSpecials(id, rev, deleted, body)
	}
	c.lastSeq = seq
	c.pending--
	return nil
}

func (c *changes) Close() error { return c.rows.Close() }

// LastSeq is the sequence of the last row read, or since when there was none: the value to pass as
// since next time.
func (c *changes) LastSeq() string { return strconv.FormatInt(c.lastSeq, 10) }

// Pending is the number of changes after the last row read.
func (c *changes) Pending() int64 { return c.pending }

// ETag is empty: the embedded store does not serve HTTP.
func (c *changes) ETag() string { return "" }
