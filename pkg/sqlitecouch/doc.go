// Package sqlitecouch is an embedded kivik driver: CouchDB semantics on one SQLite file.
//
// It lets the vault run with nothing to install. Import it for its side effect and open a file:
//
//	import _ "github.com/coachco2/coachco2/pkg/sqlitecouch"
//	client, err := kivik.New(sqlitecouch.DriverName, "/home/alice/vault.db")
//
// What it implements is what the project relies on, with CouchDB's semantics:
//   - revisions "N-<md5>", 409 on a stale or missing _rev, deletes as tombstones;
//   - _bulk_docs with one result per document;
//   - _all_docs (keys, startkey/endkey, inclusive_end, include_docs, descending, limit, skip);
//   - _find with the Mango selector language, json indexes, sort, limit, skip, fields and bookmarks;
//   - _changes (since, limit, include_docs, descending), _local documents;
//   - create, destroy, list and check databases.
//
// It keeps only the winning revision of each document (no revision tree, no replication), does not
// run views or store attachments, and keeps Mango indexes in their own table rather than as
// _design documents. Those calls answer 501 Not Implemented.
//
// Durability and concurrency: every write is one SQLite transaction in WAL mode with
// synchronous=FULL, so a write that returned is on disk. Writers in one process take a mutex;
// writers in different processes (the connector syncing while the app serves) serialise on
// SQLite's write lock with a busy timeout. Readers never block writers.
//
// Index keys are stored in an order-preserving binary encoding of CouchDB's collation (strings by
// their Unicode collation key), so a selective _find reads only the index range it needs.
// The driver opens no network connection.
package sqlitecouch
