package sqlitecouch_test

import (
	"os"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// couch is the CouchDB-protocol server the differential test compares the embedded store with:
// COUCHDB_URL, or a pouchdb-server started on first use.
var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }
