package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	kivik "github.com/go-kivik/kivik/v4"
)

const localPrefix = "_local/"

// GetLocal reads the _local document id (with or without its "_local/"
// prefix) into dest. _local documents hold checkpoints: they are never
// replicated and never appear in the changes feed, in queries or in counts.
// A missing one gives an error matching [ErrNotFound].
func (d *DB) GetLocal(ctx context.Context, id string, dest any) error {
	id = localPrefix + strings.TrimPrefix(id, localPrefix)
	rev, err := d.getLocal(ctx, id, dest)
	switch {
	case err == nil:
		d.rememberLocal(id, rev)
	case errors.Is(err, ErrNotFound):
		d.rememberLocal(id, "")
	}
	return err
}

// getLocal is GetLocal without remembering the revision.
func (d *DB) getLocal(ctx context.Context, id string, dest any) (rev string, err error) {
	if d.v.rawGet == nil {
		return d.Get(ctx, id, dest)
	}
	// The embedded driver hands the document over as it is: kivik would pass it through a JSON
	// decoder, which reads a document twice before a json.Unmarshaler gets it (the figures
	// cache's are megabytes, read at every report).
	if err := d.allow(http.MethodGet); err != nil {
		return "", err
	}
	rev, doc, err := d.v.rawGet(ctx, d.name, id)
	if err != nil {
		return "", d.fail("get", id, err)
	}
	if u, ok := dest.(json.Unmarshaler); ok {
		err = u.UnmarshalJSON(doc)
	} else {
		err = json.Unmarshal(doc, dest)
	}
	if err != nil {
		return "", d.fail("decode", id, err)
	}
	return rev, nil
}

// rawGetter reads a document of a database, as the driver holds it.
type rawGetter func(ctx context.Context, db, id string) (rev string, doc []byte, err error)

// PutLocal writes doc (which must encode to a JSON object) as the _local
// document id (with or without its "_local/" prefix), replacing whatever was
// there: the revision is handled here. With a [Policy], PutLocal needs PUT
// (not GET, although it may read the current revision).
//
// It writes in one request when it knows the document's revision, from this
// handle's last read or write of it, or, on a server, when the document is
// new. A revision it does not know, or that changed since, costs a read of it
// and a second write. (CouchDB 3 takes any write of a _local document, whatever
// its revision: couch_db_updater.erl, increment_local_doc_revs. PouchDB and
// the embedded store want the current one.)
func (d *DB) PutLocal(ctx context.Context, id string, doc any) error {
	if err := d.allow(http.MethodPut); err != nil {
		return err
	}
	id = localPrefix + strings.TrimPrefix(id, localPrefix)
	return defaultRetry().run(ctx, fmt.Sprintf("vault: %s: put %q in %s", d.v.loc, id, d.name), func() error {
		rev, known := d.localRev(id)
		if !known && d.v.Embedded() { // there the revision alone is cheap to read
			var err error
			if rev, err = d.currentRev(ctx, id); err != nil {
				return err
			}
		}
		newRev, err := d.putLocal(ctx, id, doc, rev)
		if errors.Is(err, ErrConflict) {
			// Written meanwhile by another handle, or there before this one knew it.
			if rev, err = d.currentRev(ctx, id); err != nil {
				d.forgetLocal(id)
				return err
			}
			newRev, err = d.putLocal(ctx, id, doc, rev)
		}
		if err != nil || newRev == "" {
			d.forgetLocal(id)
			return err
		}
		d.rememberLocal(id, newRev)
		return nil
	})
}

// putLocal writes doc as the _local document id at revision rev.
func (d *DB) putLocal(ctx context.Context, id string, doc any, rev string) (string, error) {
	body, err := withIDRev(doc, id, rev)
	if err != nil {
		return "", fmt.Errorf("vault: put %q in %s: %w", id, d.name, err)
	}
	return d.put(ctx, id, json.RawMessage(body))
}

// localRev is the revision of the _local document id this handle last saw ("" when missing);
// known is false when it has seen none.
func (d *DB) localRev(id string) (rev string, known bool) {
	d.localMu.Lock()
	defer d.localMu.Unlock()
	rev, known = d.localRevs[id]
	return rev, known
}

// rememberLocal records the revision of the _local document id, "" when it is missing.
func (d *DB) rememberLocal(id, rev string) {
	d.localMu.Lock()
	defer d.localMu.Unlock()
	if d.localRevs == nil {
		d.localRevs = map[string]string{}
	}
	d.localRevs[id] = rev
}

// forgetLocal forgets the revision of the _local document id: the next write reads it.
func (d *DB) forgetLocal(id string) {
	d.localMu.Lock()
	defer d.localMu.Unlock()
	delete(d.localRevs, id)
}

// currentRev returns the current revision of the _local document id, "" when there is none. The
// embedded store gives it alone (its revision column), which spares reading a large document only
// to replace it. A server is asked for the whole document: CouchDB documents no HEAD for _local
// documents, nor does the Cozy stack route one (web/data/data.go).
func (d *DB) currentRev(ctx context.Context, id string) (string, error) {
	if d.v.Embedded() {
		rev, err := d.kdb.GetRev(ctx, id)
		if kivik.HTTPStatus(err) == http.StatusNotFound {
			return "", nil
		}
		if err != nil {
			return "", d.fail("get", id, err)
		}
		return rev, nil
	}
	var current struct {
		Rev string `json:"_rev"`
	}
	if _, err := d.get(ctx, id, &current); err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	return current.Rev, nil
}
