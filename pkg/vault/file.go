//go:build !novaultfile

package vault

import (
	"context"
	"errors"
	"fmt"

	kivik "github.com/go-kivik/kivik/v4"

	"github.com/coachco2/coachco2/pkg/sqlitecouch"
	"github.com/coachco2/coachco2/pkg/sqlitedb"
)

// openFile opens (or, unless mustExist, creates) an embedded vault file, checking first what can
// be checked without the driver so that the common mistakes get a clear
// message naming the file.
func openFile(ctx context.Context, loc location, mustExist bool) (*kivik.Client, rawGetter, error) {
	path := loc.file
	exists, err := sqlitedb.CheckFile(path)
	if errors.Is(err, sqlitedb.ErrNotDatabase) {
		err = errors.New("is not a vault file (not an SQLite database), or is corrupt")
	}
	if err != nil {
		return nil, nil, storeError{fmt.Errorf("vault: %s: %w", loc, err)}
	}
	if !exists && mustExist {
		return nil, nil, fmt.Errorf("vault: %s: %w: the file does not exist (check --vault; the connector's sync creates it)", loc, ErrNoVault)
	}
	cleanup := func() {
		if !exists {
			_ = sqlitedb.Remove(path)
		}
	}
	var embedded *sqlitecouch.Client
	client, err := kivik.New(embeddedDriver, path, sqlitecouch.Expose(&embedded))
	if err != nil {
		cleanup()
		return nil, nil, storeError{fmt.Errorf("vault: %s: %s: %w", loc, damagedOr(err, "open"), err)}
	}
	// Make the driver really open and read the file now.
	if _, err := client.AllDBs(ctx); err != nil {
		_ = client.Close()
		cleanup()
		return nil, nil, storeError{fmt.Errorf("vault: %s: %s: %w", loc, damagedOr(err, "read"), err)}
	}
	if embedded == nil {
		return client, nil, nil
	}
	return client, embedded.Get, nil
}
