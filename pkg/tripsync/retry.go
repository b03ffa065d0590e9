package tripsync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/trip"
)

// Trips to retry.
//
// On a server without composite entries, find_entries announces the trips of a window and getTrips
// sends them, day by day. When a day's answer leaves out an announced trip (the server is still
// writing it, or serves an older copy of its timeline), the window is saved and its cursor moves on
// as usual, but the trip goes to the account's retry list: every run first asks again for the days
// of the trips on that list, one getTrips per day, until each trip comes. That costs a request per
// missing day and run, instead of reading whole windows again, and one missing trip never holds
// back the cursor of the others. A trip still missing after retryFor, and at least minRetries
// runs, is given up: reported as an error and kept in the account's failed trips.
const (
	retryFor   = 14 * 24 * time.Hour
	minRetries = 3
)

// retryMissing asks again for the trips on the account's retry list.
func (r *run) retryMissing(ctx context.Context) error {
	if len(r.retry) == 0 {
		return nil
	}
	now := r.opts.Now()
	byDay := map[string][]accounts.RetryTrip{}
	for _, m := range r.retry {
		byDay[m.Day] = append(byDay[m.Day], m)
	}
	b := &batch{}
	gone := map[string]bool{}    // entry ids found or given up
	attempts := map[string]int{} // entry id -> attempts, for those still missing
	var gaveUp []TripError
	for _, ds := range slices.Sorted(maps.Keys(byDay)) {
		want := byDay[ds]
		day, err := openpath.ParseDate(ds)
		if err != nil { // not a date this engine wrote: nothing to ask for
			for _, m := range want {
				gone[m.EntryID] = true
				gaveUp = append(gaveUp, TripError{Kind: ErrorGaveUp, TripID: m.EntryID, Error: fmt.Sprintf("retry record with an invalid day: %v", err)})
			}
			continue
		}
		trips, err := r.src.Trips(r.budget, day)
		if err = r.fetched(err); err != nil {
			return fmt.Errorf("getTrips %s, for trips to retry: %w", day, err)
		}
		for _, t := range trips {
			i := slices.IndexFunc(want, func(m accounts.RetryTrip) bool {
				return !gone[m.EntryID] && sameTrip(trip.ServerInfo{StartTS: m.StartTS, EndTS: m.EndTS}, trip.ServerInfo{StartTS: t.StartTS, EndTS: t.EndTS})
			})
			if i < 0 {
				continue // not one we wait for: it was kept when its own window was read
			}
			gone[want[i].EntryID] = true
			b.add(t.ID, func() (*trip.Doc, error) { return openpath.FromTimeline(t.Raw, r.origin, now) })
		}
		for _, m := range want {
			if gone[m.EntryID] {
				continue
			}
			m.Attempts++
			since, err := time.Parse(time.RFC3339, m.Since)
			if err != nil || now.Sub(since) >= retryFor && m.Attempts >= minRetries {
				gone[m.EntryID] = true
				gaveUp = append(gaveUp, TripError{Kind: ErrorGaveUp, TripID: m.EntryID, Error: fmt.Sprintf(
					"the server announced the trip of %s starting at %s but has not sent it in %d runs since %s; given up",
					m.Day, openpath.TimeOf(m.StartTS).Format(time.RFC3339), m.Attempts, m.Since)})
				continue
			}
			attempts[m.EntryID] = m.Attempts
		}
	}
	applied, _, err := r.keep(ctx, b, nil)
	if err != nil {
		return err
	}
	r.sum.Errors = append(r.sum.Errors, gaveUp...)
	r.retry = settleRetries(r.retry, gone, attempts)
	r.log.Info("trips to retry asked for again", "found", len(b.docs)+len(b.failures), "given_up", len(gaveUp), "still_missing", len(r.retry))
	return r.saveAccount(ctx, func(d *accounts.Data) {
		d.PendingLabels = removeLabels(d.PendingLabels, applied)
		d.Retry = settleRetries(d.Retry, gone, attempts)
		b.record(d, now)
		for _, g := range gaveUp {
			d.RecordFailure(g.TripID, fmt.Errorf("%s", g.Error), now)
		}
	})
}

// settleRetries updates a retry list after a retry pass: the trips gone (found or given up) leave
// it, the others keep the attempts counted.
func settleRetries(list []accounts.RetryTrip, gone map[string]bool, attempts map[string]int) []accounts.RetryTrip {
	var out []accounts.RetryTrip
	for _, m := range list {
		if gone[m.EntryID] {
			continue
		}
		if n, ok := attempts[m.EntryID]; ok {
			m.Attempts = max(m.Attempts, n)
		}
		out = append(out, m)
	}
	return out
}

// addRetries adds missing trips to a retry list, once each.
func addRetries(list, missing []accounts.RetryTrip) []accounts.RetryTrip {
	for _, m := range missing {
		if !slices.ContainsFunc(list, func(x accounts.RetryTrip) bool { return x.EntryID == m.EntryID }) {
			list = append(list, m)
		}
	}
	return list
}
