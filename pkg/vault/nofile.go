//go:build novaultfile

package vault

import (
	"context"
	"fmt"

	kivik "github.com/go-kivik/kivik/v4"
)

// openFile refuses: a program built with the tag novaultfile (the Cozy app's service, which
// reaches its vault only through the stack) leaves the embedded driver and SQLite out, which
// are most of its size.
func openFile(_ context.Context, loc location, _ bool) (*kivik.Client, rawGetter, error) {
	return nil, nil, fmt.Errorf("vault: %s: this program is built without the embedded vault (tag novaultfile): give a CouchDB URL or a Cozy instance", loc)
}
