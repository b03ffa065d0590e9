// Package sharing is the participant's side of research studies: the study descriptors a person
// has been offered, their consents, the measures computed locally from their trips, and the
// transmissions to the studies' collectors, every one of them logged in the vault.
//
// Everything lives in the person's vault, in three doctypes:
//
//   - io.cozy.coachco2.studies: one document per descriptor version ([Service.AddStudy]);
//   - io.cozy.coachco2.consents: one document per consent ([Service.Grant]), with the study
//     version, the measures granted (a subset of the study's), the profile answers (only the
//     study's fields and values), the dates granted, expiring and revoked, and a pseudonym of 32
//     random hexadecimal digits drawn from crypto/rand for that consent alone;
//   - io.cozy.coachco2.transmissions: the append-only log of every request sent to a collector
//     (contributions and withdrawals, each attempt): the exact bytes, the time, the URL, the
//     HTTP status and the answer, or the error ("what left my vault"). The package only creates
//     documents there, never updates them.
//
// A consent is active while it is not revoked, not expired (the study's last month plus its
// retention), and its version is the newest descriptor of the study in the vault: a newer
// descriptor makes it inactive until the person grants again (a new consent, a new pseudonym).
//
// [Service.Share] computes, for each active consent, the granted measures of the complete past
// periods of the study that were not sent yet (months before the current month, years before the
// current year), from the coach's monthly reports, and POSTs them to the collector
// (docs/collector-api.md) through a [Transport]: the caller's http.Client ([HTTPTransport]), so
// that the app's network guard applies, or, in a Cozy, the stack's remote doctypes
// ([CozyRemote]: the stack makes the request and logs it). Either way, 5xx, 429 and network
// errors are retried with backoff, 4xx are not. The collector
// keeps one contribution per pseudonym, measure and period, so a resend is counted once.
// [Service.Revoke] marks the consents of a study revoked, then asks the collector to delete
// everything sent under their pseudonyms; a revoked consent never sends again, and a withdrawal
// that failed is retried by the next Share. [Service.CollectorHosts] lists the hosts the network
// guard must let through: the collectors of active consents and of unconfirmed withdrawals;
// [Service.AllowCollectors] gives them to the guard. A [Scheduler] shares at once and then daily
// (the web app's sharing), keeping the guard to those collectors.
//
// A contribution carries only an id, a pseudonym, a measure of the catalogue, a month or a year,
// numbers and profile values from closed lists (pkg/study): no coordinates, no place names, no
// trip ids, no dates finer than a month. Each one is checked against the study's descriptor
// before it leaves. A period without any trip is not sent (it cannot be told from a period the
// app did not record).
package sharing
