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
	if d.v.rawGet == nil {
		_, err := d.Get(ctx, id, dest)
		return err
	}
	// The embedded driver hands the document over as it is: kivik would pass it through a JSON
	// decoder, which reads a document twice before a json.Unmarshaler gets it (the figures
	// cache's are megabytes, read at every report).
	if err := d.allow(http.MethodGet); err != nil {
		return err
	}
	_, doc, err := d.v.rawGet(ctx, d.name, id)
	if err != nil {
		return d.fail("get", id, err)
	}
	if u, ok := dest.(json.Unmarshaler); ok {
		err = u.UnmarshalJSON(doc)
	} else {
		err = json.Unmarshal(doc, dest)
	}
	if err != nil {
		return d.fail("decode", id, err)
	}
	return nil
}

// rawGetter reads a document of a database, as the driver holds it.
type rawGetter func(ctx context.Context, db, id string) (rev string, doc []byte, err error)

// PutLocal writes doc (which must encode to a JSON object) as the _local
// document id (with or without its "_local/" prefix), replacing whatever was
// there: the revision is handled here. With a [Policy], PutLocal needs PUT
// (not GET, although it reads the current revision).
func (d *DB) PutLocal(ctx context.Context, id string, doc any) error {
	if err := d.allow(http.MethodPut); err != nil {
		return err
	}
	id = localPrefix + strings.TrimPrefix(id, localPrefix)
	return defaultRetry().run(ctx, fmt.Sprintf("vault: %s: put %q in %s", d.v.loc, id, d.name), func() error {
		rev, err := d.currentRev(ctx, id)
		if err != nil {
			return err
		}
		body, err := withIDRev(doc, id, rev)
		if err != nil {
			return fmt.Errorf("vault: put %q in %s: %w", id, d.name, err)
		}
		_, err = d.put(ctx, id, json.RawMessage(body))
		return err
	})
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
