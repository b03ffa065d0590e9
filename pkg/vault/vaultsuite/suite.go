// Package vaultsuite is the vault's conformance suite: the contract every store behind
// pkg/vault must keep, written as literal expectations from CouchDB 3's documented (or, where the
// documentation is silent, its source's) behaviour, never computed by the code under test.
//
// Like kivik's kiviktest, it is a package that any backend runs, with its own table of known
// differences, each skipped with its reason:
//
//	func TestConformance(t *testing.T) {
//		vaultsuite.Run(t, vaultsuite.Backend{Name: "embedded", NewStore: ..., Known: ...})
//	}
//
// Most cases go through the vault's API; the protocol cases ("Protocol...") check, through a kivik
// handle on the same database, the CouchDB behaviours the vault's API does not expose but that a
// person's or another app's query on their own vault may use.
package vaultsuite

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	kivik "github.com/go-kivik/kivik/v4"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// Backend is one implementation of the vault's store.
type Backend struct {
	// Name names the backend in messages, e.g. "embedded", "pouchdb-server", "cozy-stack".
	Name string
	// NewStore returns a new, empty store for one test. Everything it opens is closed, and
	// whatever it created removed, when the test ends.
	NewStore func(t testing.TB) Store
	// Known maps a case ("Case") or one of its subtests ("Case/sub_test", as go test names it)
	// that the backend is known to get wrong to the reason; they are skipped with it.
	Known map[string]string
}

// Store is one test's store on a backend.
type Store struct {
	// Open opens the vault of instance: every vault opened for one instance sees the same
	// databases. It is closed when the test ends.
	Open func(t testing.TB, instance string) *vault.Vault
	// Kivik returns a kivik handle on the database of the instance for doctype, for the
	// protocol cases. The database must exist: open it through a vault first.
	Kivik func(t testing.TB, instance, doctype string) *kivik.DB
}

// Case is one check of the contract.
type Case struct {
	Name string
	run  func(t *testing.T, s *suite)
}

// Cases returns the contract, in the order [Run] runs it.
func Cases() []Case {
	return append(vaultCases(), protocolCases()...)
}

// suite is one case's view of the backend.
type suite struct {
	backend Backend
	store   Store
	root    string // t.Name() of the test Run was called with
}

// Run runs every case on the backend, each as a subtest of t named after the case.
func Run(t *testing.T, b Backend) {
	root := t.Name()
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			s := &suite{backend: b, root: root}
			s.skipIfKnown(t)
			s.store = b.NewStore(t)
			c.run(t, s)
		})
	}
}

// skipIfKnown skips t when it is a known difference of the backend.
func (s *suite) skipIfKnown(t *testing.T) {
	t.Helper()
	name := strings.TrimPrefix(t.Name(), s.root+"/")
	if why, ok := s.backend.Known[name]; ok {
		t.Skipf("known difference of %s: %s", s.backend.Name, why)
	}
}

// testDoctype is the doctype of most cases' database.
const testDoctype = "io.cozy.coachco2.vaulttest"

// Doctypes lists the doctypes the suite writes to, for backends that grant them one by one.
func Doctypes() []string {
	return []string{testDoctype, vault.DoctypeSettings, vault.DoctypeAccounts}
}

// openVault opens the vault of a new, unique instance.
func (s *suite) openVault(t testing.TB) *vault.Vault {
	t.Helper()
	return s.store.Open(t, vaulttest.Instance(t))
}

// OpenDB returns the database of doctype, destroyed when the test ends (a server outlives
// the test).
func OpenDB(t testing.TB, v *vault.Vault, doctype string) *vault.DB {
	t.Helper()
	db, err := v.DB(context.Background(), doctype)
	if err != nil {
		t.Fatalf("DB(%s): %v", doctype, err)
	}
	t.Cleanup(func() {
		if err := v.DestroyDB(context.Background(), doctype); err != nil {
			t.Errorf("DestroyDB(%s): %v", doctype, err)
		}
	})
	return db
}

// FindIDs runs the query and returns the ids of the documents, in order.
func FindIDs(t testing.TB, db *vault.DB, q vault.Query) []string {
	t.Helper()
	var ids []string
	err := db.Find(context.Background(), q, func(doc json.RawMessage) error {
		var d struct {
			ID string `json:"_id"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			return err
		}
		ids = append(ids, d.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("Find(%+v): %v", q, err)
	}
	return ids
}

// sorted returns a sorted copy of ids.
func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// revGen returns the generation of a revision "N-hash", or -1.
func revGen(t testing.TB, rev string) int {
	t.Helper()
	var n int
	var hash string
	if _, err := fmt.Sscanf(strings.Replace(rev, "-", " ", 1), "%d %s", &n, &hash); err != nil || hash == "" {
		t.Errorf("revision %q is not of the form N-hash", rev)
		return -1
	}
	return n
}

// PouchDBKnown returns pouchdb-server 4.2.0's known differences from CouchDB 3.
func PouchDBKnown() map[string]string {
	return map[string]string{
		"ListDatabasesWithSlash":                   "pouchdb-server strips '/' from the database names it lists (express-pouchdb passes names through sanitize-filename)",
		"SlashIsolation":                           "pouchdb-server strips '/' from database names, so names that differ only by where the '/' is are the same database",
		"DeleteTombstoneAgain":                     "pouchdb-server deletes a deleted document again (a new tombstone revision), where CouchDB answers 404",
		"PagingOverThousand/unsorted_pages_of_300": "pouchdb-find applies skip to _all_docs rows before it drops the design documents (its Mango indexes), so skip-based pages overlap",
		"PagingExclusiveRange":                     "pouchdb-find applies limit and skip before it drops the rows equal to an exclusive bound ($gt, or $lt when descending), and returns no bookmark, so pages come back short or overlap",

		"ProtocolIndexNeedsAllFields/$not_on_the_first_field":             "pouchdb-find does not know $not as a field's operator (400 unknown operator)",
		"ProtocolIndexNeedsAllFields/sort_on_both_fields":                 "pouchdb-find keeps the documents that lack a sort field, where CouchDB's index holds only those that have them all",
		"ProtocolIndexNeedsAllFields/sort_after_a_constant_field":         "pouchdb-find cannot sort with an index whose first field the selector holds constant (400 no index for the sort)",
		"ProtocolAllDocsKeysLimit/descending":                             "pouchdb-server applies limit to the keys before it reverses them for descending",
		"ProtocolMalformedRev/Delete":                                     "pouchdb-server answers a DELETE with a malformed rev with 404 missing",
		"ProtocolMalformedRev/non-hex_revision_id":                        "pouchdb-server takes a 32-character revision id that is not hexadecimal as any other (409), where CouchDB reads it as a 128-bit number",
		"ProtocolBulkDeletedConflict/delete_at_the_tombstone's_revision":  "pouchdb-server deletes a deleted document again (a new tombstone revision), where CouchDB answers 409",
		"ProtocolLiveChanges/continuous":                                  "pouchdb-server's continuous feed, as kivik asks for it (POST _changes), sends nothing before it ends",
		"ProtocolBulkDeletedConflict/write_over_the_tombstone's_revision": "pouchdb-server writes over a tombstone's revision (undeleting the document), where CouchDB 3 recreates a deleted document only from no revision and answers 409",
	}
}

// CozyStackKnown returns what a Cozy stack's data API does not offer, for a backend that reaches
// the store through it (see vaulttest.CozyStack).
func CozyStackKnown() map[string]string {
	return map[string]string{
		"DatabaseNamesWithSlash": "through the stack a database is named by its doctype: the stack, not the client, prefixes it with the instance",
		"ListDatabasesWithSlash": "the stack's data API does not list databases",
		"SlashIsolation":         "through the stack a database is named by its doctype: the stack, not the client, prefixes it with the instance",
		// The double still answers GET _index (a stricter double is another issue's).
		"IndexesIdempotentAndHidden": "the stack's data API has no GET or DELETE /data/:doctype/_index (web/data/data.go): its indexes can be neither listed nor replaced",
		"ProtocolLiveChanges":        "the stack's _changes serves the normal feed only (web/data/replication.go)",
		"LeaseTakenInTurns":          "the stack's data API writes no design document (web/data/data.go routes GET and DELETE of /data/:doctype/_design/:ddocid only): the lease methods give ErrNoLease without asking it",
		"LocalDocuments":             "the stack creates a doctype's database with its first document (pkg/couchdb creates it when a document write finds none); a _local document written before any finds no database (web/data/replication.go proxies it as is): no_db_file",
	}
}

// Merge returns the union of known-difference tables; a later table's reason wins.
func Merge(tables ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, t := range tables {
		for k, v := range t {
			out[k] = v
		}
	}
	return out
}
