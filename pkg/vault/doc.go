// Package vault is a person's personal data store: one CouchDB database per
// (instance, doctype), named exactly as a Cozy instance names them, read and
// written through kivik.
//
// A vault is opened from a DSN. An http:// or https:// URL uses Apache CouchDB
// (or any server speaking its protocol) through kivik's CouchDB driver; a file
// path, or file:PATH, uses the embedded driver of pkg/sqlitecouch, which keeps
// everything in one SQLite file and opens no network connection:
//
//	v, err := vault.Open(ctx, "file:/home/alice/.coachco2/vault.db", "alice")
//	trips, err := v.DB(ctx, vault.DoctypeTrips)
//
// The instance name is the Cozy prefix of the person's databases: instance
// "alice" and doctype io.cozy.accounts give the database "alice/io-cozy-accounts"
// (see [DBName]).
//
// A [DB] offers what the rest of the project needs and nothing more: Get, Put,
// Delete, optimistic-concurrency updates ([Update]), batched bulk writes
// ([SaveMany]), Mango queries paged to exhaustion ([DB.Find]), the changes feed
// with opaque sequences ([DB.Changes]) and _local checkpoint documents.
// Errors name the server's host or the vault file, never a password; use
// errors.Is with [ErrNotFound] and [ErrConflict] to tell the usual cases apart.
//
// A sandboxed user of the vault opens it with [WithPolicy]: every operation
// then asks the [Policy] whether its verb (GET, PUT, POST, DELETE) is granted
// on the doctype before it touches the store, and a refusal matches
// [ErrForbidden]. pkg/sandbox builds such a policy from an app's manifest.
package vault
