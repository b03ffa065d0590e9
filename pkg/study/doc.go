// Package study is the data model shared by a study's participants and its researchers: study
// descriptors, the fixed catalogue of measures, and contributions, with their JSON shapes and
// their validation. It does no I/O.
//
// A study runs like this:
//
//  1. Researchers publish a [Descriptor] (JSON, see [ParseDescriptor]): who they are, what for,
//     which measures of the catalogue they ask for ([Catalogue]), over which months, how long
//     they keep contributions, the minimum group size k below which nothing is published, and
//     the coarse profile fields (such as an age band) participants may give. They register it
//     at their collector (pkg/collector).
//  2. A participant consents to one version of the descriptor, to some or all of its measures,
//     and draws a random pseudonym for that study (32 lowercase hexadecimal digits).
//  3. Their app computes the granted measures locally for complete past periods and sends them
//     as a [Batch] of [Contribution]s. A contribution is an id, a pseudonym, a measure, a month
//     or a year ([Period]), a number or a number per category, and profile values from closed
//     lists: never coordinates, places, dates finer than a month, or free text.
//  4. The collector checks each batch with [ParseBatch] and [Descriptor.CheckBatch], keeps
//     one contribution per (pseudonym, measure, period), and publishes only statistics over
//     groups of at least k participants.
//
// Every validation reports all the problems it finds as an [Errors], each an [*Error] with a
// stable [Code], the JSON path of the field and a message; the collector sends them as they are
// (docs/collector-api.md).
package study
