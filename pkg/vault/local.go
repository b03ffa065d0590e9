package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

const localPrefix = "_local/"

// GetLocal reads the _local document id (with or without its "_local/"
// prefix) into dest. _local documents hold checkpoints: they are never
// replicated and never appear in the changes feed, in queries or in counts.
// A missing one gives an error matching [ErrNotFound].
func (d *DB) GetLocal(ctx context.Context, id string, dest any) error {
	_, err := d.Get(ctx, localPrefix+strings.TrimPrefix(id, localPrefix), dest)
	return err
}

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
		var current struct {
			Rev string `json:"_rev"`
		}
		if _, err := d.get(ctx, id, &current); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		body, err := withIDRev(doc, id, current.Rev)
		if err != nil {
			return fmt.Errorf("vault: put %q in %s: %w", id, d.name, err)
		}
		_, err = d.put(ctx, id, json.RawMessage(body))
		return err
	})
}
