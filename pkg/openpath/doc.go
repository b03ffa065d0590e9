// Package openpath is a client for the REST API of an OpenPATH / e-mission trip-tracking server
// (TraceMob, NREL OpenPATH, Cozy's openpath.cozycloud.cc): the routes a connector needs to bring a
// person's processed trips and labels home.
//
// The server identifies the user by a token (an "opcode") sent in the JSON body of every POST. A
// [Client] holds that token and never logs it nor puts it in an error message.
//
// Routes and what the client returns:
//
//   - /pipeline/get_range_ts: [Client.PipelineRange], the span of processed data;
//   - /pipeline/get_complete_ts: [Client.CompleteTS], the time before which data is final;
//   - /datastreams/find_entries/timestamp: [Client.FindEntries], timeseries entries (trips, labels),
//     each as a small typed [Entry] header plus the entry's exact JSON;
//   - /timeline/getTrips/<YYYY-MM-DD>: [Client.Trips], the trips of one local day, each as a typed
//     [TripHeader] plus the trip's exact GeoJSON FeatureCollection.
//
// Answers are streamed: each entry or trip is kept once, as its own json.RawMessage, and the rest of
// the answer is not held in memory. Unknown fields are ignored and MongoDB extended JSON ids
// ({"$oid": ...}, {"$uuid": ...}) are read as plain strings. Each answer must carry its payload:
// e-mission answers an empty list ({"timeline": []}) or null times ({"start_ts": null, ...}) when
// there is nothing, so an answer without its list or fields ({}, null, {"error": ...}) is malformed,
// never "nothing".
//
// [FromTimeline] and [FromComposite] convert the server's trips into vault documents ([trip.Doc]):
// this package is the only one that knows the server's formats.
//
// Failures are typed: [ErrAuthRefused] (401/403, never retried), [ErrServerDown] (5xx, timeouts and
// connection errors that outlasted the retries) and [ErrMalformed] (an answer that is not the JSON the
// route promises, with the route and byte offset). Retries use exponential backoff with jitter, see
// [RetryPolicy].
package openpath
