// Package sqlitecouch is an embedded kivik driver: CouchDB semantics on one SQLite file.
//
// It lets the vault run with nothing to install. Import it for its side effect and open a file:
//
//	import _ "github.com/coachco2/coachco2/pkg/sqlitecouch"
//	client, err := kivik.New(sqlitecouch.DriverName, "/home/alice/vault.db")
//
// It is the default vault, so every difference from CouchDB 3 is a bug that shows only when a
// person moves to a real CouchDB (or back). Three references it did not write check it: kivik's
// own conformance suite with CouchDB 3's expectations (kiviktest_test.go: kivik v4.5.2's
// kiviktest subpackages through a small adapter, since its root package does not build with
// Go 1.26), the vault's (pkg/vault/vaultsuite, run on this driver, a CouchDB-protocol server and
// a Cozy stack double), and a randomized comparison with a CouchDB-protocol server
// (FuzzDifferential).
//
// What it implements, with CouchDB's semantics:
//   - revisions "N-<md5>"; a missing or stale _rev is a 409, a malformed one a 400; deletes are
//     tombstones, and a deleted document is recreated only without _rev (deleting it again, or
//     writing at its tombstone's revision, is a 409);
//   - _bulk_docs with one result per document;
//   - _all_docs (keys, startkey/endkey, inclusive_end, include_docs, descending, limit, skip,
//     update_seq);
//   - _find with the Mango selector language, json indexes (used only when the selector requires
//     all their fields), sort, limit, skip, fields, bookmarks and _explain;
//   - _changes: normal, longpoll and continuous feeds (since, limit, include_docs, descending,
//     timeout, heartbeat), _local documents;
//   - create, destroy, list and check databases; _security (kept, not enforced: the file has no
//     users, its permissions guard it); _ensure_full_commit.
//
// Not supported, each call answering 501 Not Implemented:
//   - attachments;
//   - views (JavaScript map/reduce): use _find;
//   - replication, and _db_updates (a server-wide feed of database events, for CouchDB's admins);
//   - new_edits=false and partial indexes.
//
// Known differences that remain:
//   - only the winning revision of each document is kept (no revision tree): reading (or copying)
//     an earlier revision answers 404, as CouchDB does once it has compacted;
//   - a changes feed lists each document at its latest change, so a document written several times
//     while no one reads a live feed shows only its last revision there;
//   - Mango indexes live in their own table, not as _design documents: they are not in
//     _all_docs, _changes or the document count;
//   - $regex uses Go's RE2 syntax, not PCRE (no backreferences or lookarounds).
//
// Durability and concurrency: every write is one SQLite transaction in WAL mode with
// synchronous=FULL, so a write that returned is on disk. Writers in one process take a mutex;
// writers in different processes (the connector syncing while the app serves) serialise on
// SQLite's write lock with a busy timeout. Readers never block writers. The file's schema has a
// version, upgraded by ordered migrations when it opens (schema.go).
//
// Integrity: Open runs SQLite's quick_check, which reads the whole file, unless the file is as
// this program's last clean close left it: Close then writes PATH.clean, the file's size, times,
// inode and device (cleanclose.go; Linux only, elsewhere every open checks).
//
// Index keys are stored in an order-preserving binary encoding of CouchDB's collation (strings by
// their Unicode collation key), so a selective _find reads only the index range it needs.
// The driver opens no network connection.
package sqlitecouch
