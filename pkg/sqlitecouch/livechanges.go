package sqlitecouch

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/go-kivik/kivik/v4/driver"
)

// The live feeds wait for changes by reading the file's sequence again, with a pause that grows
// from pollMin to pollMax while nothing changes: a writer may be another process (the connector
// syncing while the app serves), which no in-process signal would reach.
const (
	pollMin = 20 * time.Millisecond
	pollMax = time.Second
	// defaultFeedTimeout is CouchDB's: a feed without heartbeat ends after a minute without changes.
	defaultFeedTimeout = 60 * time.Second
)

// liveChanges opens a longpoll or continuous feed. continuous streams every change after since
// until the caller closes the feed or ctx ends; longpoll waits for the first changes and returns
// them. Without heartbeat, the feed ends after timeout milliseconds (default 60 000) without a
// change; with heartbeat (which the embedded store has no connection to keep alive for), it runs
// until closed.
func (d *db) liveChanges(ctx context.Context, p params, continuous bool) (driver.Changes, error) {
	dbID, err := d.dbID(ctx, d.client.sql)
	if err != nil {
		return nil, d.client.wrap(err)
	}
	var since int64
	switch s := p.string("since"); s {
	case "", "0":
	case "now":
		if err := d.client.sql.QueryRowContext(ctx, `SELECT update_seq FROM dbs WHERE id = ?`, dbID).Scan(&since); err != nil {
			return nil, d.client.wrap(err)
		}
	default:
		if since, err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, errBadRequest("since must be a sequence this database returned, or now")
		}
	}
	limit, err := p.int("limit", -1)
	if err != nil {
		return nil, err
	}
	timeout := defaultFeedTimeout
	if _, heartbeat := p["heartbeat"]; heartbeat {
		timeout = -1
	} else if ms, err := p.int("timeout", -1); err != nil {
		return nil, err
	} else if ms >= 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	ctx, cancel := context.WithCancel(ctx)
	return &live{d: d, ctx: ctx, cancel: cancel, dbID: dbID, since: since, limit: limit,
		includeDocs: p.bool("include_docs"), continuous: continuous, timeout: timeout}, nil
}

// live is a longpoll or continuous feed.
type live struct {
	d           *db
	ctx         context.Context
	cancel      context.CancelFunc
	dbID        int64
	since       int64 // the last sequence read
	limit       int64 // changes left to give, -1 for no limit
	includeDocs bool
	continuous  bool
	timeout     time.Duration // < 0: none
	buf         []driver.Change
	gave        bool // longpoll: a batch was given
}

var _ driver.Changes = (*live)(nil)

func (l *live) Next(ch *driver.Change) error {
	poll := pollMin
	var deadline <-chan time.Time
	if l.timeout >= 0 {
		t := time.NewTimer(l.timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		if len(l.buf) > 0 {
			*ch, l.buf = l.buf[0], l.buf[1:]
			if l.limit > 0 {
				l.limit--
			}
			return nil
		}
		if l.limit == 0 || !l.continuous && l.gave {
			return io.EOF
		}
		if err := l.read(); err != nil {
			return err
		}
		if len(l.buf) > 0 {
			l.gave = true
			continue
		}
		wait := time.NewTimer(poll)
		select {
		case <-l.ctx.Done():
			wait.Stop()
			if l.ctx.Err() == context.Canceled {
				return io.EOF // closed by the caller
			}
			return l.ctx.Err()
		case <-deadline:
			wait.Stop()
			return io.EOF
		case <-wait.C:
		}
		poll = min(2*poll, pollMax)
	}
}

// read buffers the changes after l.since.
func (l *live) read() error {
	limit := l.limit
	body := "NULL"
	if l.includeDocs {
		body = "body"
	}
	rows, err := l.d.client.sql.QueryContext(l.ctx, `SELECT id, rev, seq, deleted, `+body+` FROM docs
		WHERE db = ? AND seq > ? ORDER BY seq LIMIT ?`, l.dbID, l.since, limit)
	if err != nil {
		if l.ctx.Err() != nil {
			return nil // closed meanwhile: Next sees it
		}
		return l.d.client.wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, rev string
		var seq int64
		var deleted bool
		var doc []byte
		if err := rows.Scan(&id, &rev, &seq, &deleted, &doc); err != nil {
			return l.d.client.wrap(err)
		}
		c := driver.Change{ID: id, Seq: strconv.FormatInt(seq, 10), Deleted: deleted, Changes: driver.ChangedRevs{rev}}
		if l.includeDocs {
			c.Doc = withSpecials(id, rev, deleted, doc)
		}
		l.buf = append(l.buf, c)
		l.since = seq
	}
	if err := rows.Err(); err != nil && l.ctx.Err() == nil {
		return l.d.client.wrap(err)
	}
	return nil
}

// Close ends the feed; a Next waiting for changes returns io.EOF.
func (l *live) Close() error {
	l.cancel()
	return nil
}

// LastSeq is the sequence of the last change read, or since.
func (l *live) LastSeq() string { return strconv.FormatInt(l.since, 10) }

// Pending is not counted for live feeds.
func (l *live) Pending() int64 { return 0 }

// ETag is empty: the embedded store does not serve HTTP.
func (l *live) ETag() string { return "" }
