package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// A lease is a small document that processes sharing a database take turns with: each writes it
// only at the revision it read, so that of two writers one gets a conflict. It is kept as the
// design document "_design/lease-NAME": a design document is not a document of the doctype (no
// query, count or changes feed of this package shows it), and its revisions are checked, which a
// _local document's are not on CouchDB (couch_db_updater.erl, update_local_doc_revs, takes any
// revision it is given and adds one to it).

// ErrNoLease is returned by the lease methods through a Cozy stack, whose data API writes no
// design document (web/data/data.go routes GET and DELETE of /data/:doctype/_design/:ddocid only).
var ErrNoLease = errors.New("vault: no lease through a Cozy stack")

const leasePrefix = "_design/lease-"

// GetLease reads the lease name into dest and returns its revision; a lease never written gives
// an error matching [ErrNotFound].
func (d *DB) GetLease(ctx context.Context, name string, dest any) (rev string, err error) {
	if d.v.cozy {
		return "", ErrNoLease
	}
	return d.Get(ctx, leasePrefix+name, dest)
}

// PutLeaseIf writes doc (which must encode to a JSON object) as the lease name only if its
// current revision is rev ("" for a lease that must not exist yet), and returns the new
// revision; otherwise it writes nothing and returns an error matching [ErrConflict].
func (d *DB) PutLeaseIf(ctx context.Context, name, rev string, doc any) (string, error) {
	if d.v.cozy {
		return "", ErrNoLease
	}
	if err := d.allow(http.MethodPut); err != nil {
		return "", err
	}
	id := leasePrefix + name
	body, err := withIDRev(doc, id, rev)
	if err != nil {
		return "", fmt.Errorf("vault: put %q in %s: %w", id, d.name, err)
	}
	return d.put(ctx, id, json.RawMessage(body))
}
