// Package collector is the service a study's researchers run: it registers study descriptors,
// receives participants' contributions, deletes a participant's data on request, and answers
// only aggregates over groups of at least k participants.
//
// # HTTP API
//
// JSON in and out; docs/collector-api.md is the full contract, with examples.
//
//	GET    /healthz                                        liveness, never rate-limited
//	GET    /studies/{id}                                   the study's current descriptor (public)
//	PUT    /studies/{id}                                   register or update a descriptor (admin)
//	POST   /studies/{id}/contributions                     a batch from one pseudonym
//	DELETE /studies/{id}/participants/{pseudonym}          withdraw: delete all of a pseudonym's data
//	GET    /studies/{id}/aggregates?measure=&period=&group=&format=   statistics (admin), JSON or CSV
//
// Admin routes need "Authorization: Bearer TOKEN". Bodies are JSON (Content-Type:
// application/json) of at most [MaxBodyBytes]; a batch holds at most [study.MaxBatchEntries]
// contributions. Every error is {"error": {"code", "message", "details"?}} ([study.ErrorResponse])
// with a stable [study.Code] and a 4xx status; a batch with any problem stores nothing. The
// answers' shapes ([study.BatchResult], [study.WithdrawalResult]) live in pkg/study, so that a
// participant's app reads them without importing this package and its database drivers. Each client IP has a token bucket (Options.Rate and Options.Burst); an empty
// bucket answers 429 with Retry-After.
//
// # Guarantees
//
//   - Idempotent contributions: one row per (study, pseudonym, measure, period); a resend
//     replaces it, so a period sent twice counts once. The answer says, per contribution,
//     created, replaced or unchanged.
//   - Withdrawal: DELETE removes every contribution of the pseudonym in the study, in one
//     transaction, erases their bytes from the SQLite file and its WAL (secure_delete, then a
//     TRUNCATE checkpoint; PostgreSQL needs VACUUM FULL, see docs/collector-api.md), answers
//     what it removed, and is idempotent; from then on the pseudonym's
//     contributions are refused (410), so that a late retry cannot bring data back.
//   - k-anonymity of the answers: statistics (count, sum, mean, median, quartiles) are given per
//     measure, period, group and category only for groups of at least k distinct pseudonyms,
//     where k is the study's current k or, when higher, the highest k of the descriptor versions
//     the group's contributions were sent under (lowering k in a new version publishes nothing
//     consented under a higher one). A smaller group is listed as suppressed, without its size;
//     and groups by a profile field are suppressed further when the participants outside the
//     published groups would be too few for their own k (the "all" group minus the others must
//     not reveal a small group). See [Store.Aggregates].
//   - Minimal storage: no client address, no time finer than the UTC day of reception (for
//     retention), pseudonyms never logged. Contributions older than the study's retention are
//     purged by [Store.Purge], which [RunRetention] calls at start and daily.
//
// # Storage
//
// [Open] takes a DSN: a SQLite file path (the default, pure Go, WAL mode, file mode 0600) or a
// postgres:// URL (pgx). The URL's password (user info, or the password and sslpassword
// parameters) is split off before the driver reads the URL, so that no error or log line can
// show it; a URL whose password is not percent-encoded is refused without being quoted. The schema is migrated in code at opening ([SchemaVersion]); each batch,
// withdrawal and descriptor update is one transaction.
package collector
