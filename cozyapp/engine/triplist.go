package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// TripListID is the document of the trip list's rows, which the page filters and pages as the
// web app's /trips does: the filters (month, mode, purpose, device) combine into more lists
// than the engine could render ahead, so each trip's row is rendered once, by the web app's own
// template, with what the filters read.
const TripListID = "triplist"

// TripList is the document TripListID.
type TripList struct {
	ID  string `json:"_id,omitempty"`
	Rev string `json:"_rev,omitempty"`
	// Rows are every trip the web app's list can show, in its order (newest first).
	Rows []TripRow `json:"rows"`
	// Devices are the settings' devices: the list's trips when no device is asked for (every
	// trip when empty).
	Devices []string `json:"devices"`
	// PageSize is how many rows a page shows.
	PageSize int `json:"page_size"`
	// Counts[n] is the list's "n trips", as the web app writes it (plural and digits in the
	// person's language).
	Counts []string `json:"counts"`
	// None, Prev and Next are the list's texts for no trip and its two page links.
	None string `json:"none"`
	Prev string `json:"prev"`
	Next string `json:"next"`
	// Table is the list's table, empty: its header, for the rows.
	Table string `json:"table"`
}

// TripRow is one trip of the list: what the filters read, and its row as the web app renders it.
type TripRow struct {
	ID string `json:"id"`
	// Month is the trip's month as the figures' cache files it (its local start's "YYYY-MM").
	Month   string       `json:"month"`
	Device  string       `json:"device"`
	Modes   []trip.Mode  `json:"modes"`
	Purpose trip.Purpose `json:"purpose"`
	HTML    string       `json:"html"`
}

// writeTripList renders each trip's row of the web app's list, page by page and device by device
// (a row does not depend on the filter that shows it), and writes the document TripListID.
func writeTripList(ctx context.Context, c *coach.Coach, db *vault.DB, h http.Handler, lang string) error {
	all, _, err := c.ListTrips(ctx, coach.TripQuery{})
	if err != nil {
		return fmt.Errorf("engine: list the trips: %w", err)
	}
	var devices []string
	for _, t := range all {
		if !slices.Contains(devices, t.Device) {
			devices = append(devices, t.Device)
		}
	}
	html := map[string]string{}
	var table string
	for _, d := range devices {
		// Without a device, the list shows the settings' devices: every trip when there are none;
		// a trip without a device is shown by no other filter.
		tq := coach.TripQuery{Limit: webapp.TripsPerPage}
		q := url.Values{}
		if d != "" {
			tq.Devices = []string{d}
			q.Set("device", d)
		} else {
			tq.Devices = c.Settings().Devices
		}
		for offset := 0; ; offset += webapp.TripsPerPage {
			tq.Offset = offset
			ids, total, err := c.ListTrips(ctx, tq)
			if err != nil {
				return fmt.Errorf("engine: list the trips: %w", err)
			}
			if len(ids) == 0 {
				break
			}
			q.Set("offset", strconv.Itoa(offset))
			main, err := render(ctx, h, "/trips?"+q.Encode())
			if err != nil {
				return err
			}
			head, rows, err := tableRows(main)
			if err != nil {
				return fmt.Errorf("engine: the trip list at %d: %w", offset, err)
			}
			if len(rows) != len(ids) {
				return fmt.Errorf("engine: the trip list at %d shows %d rows, the coach lists %d trips", offset, len(rows), len(ids))
			}
			table = head
			for i, t := range ids {
				html[t.ID] = rows[i]
			}
			if offset+len(ids) >= total {
				break
			}
		}
	}
	p := i18n.For(lang)
	l := TripList{Devices: c.Settings().Devices, PageSize: webapp.TripsPerPage, Table: table,
		None: p.T("trips.none"), Prev: p.T("trips.prev"), Next: p.T("trips.next")}
	for _, t := range all {
		row, ok := html[t.ID]
		if !ok {
			continue
		}
		month := "unknown" // as pkg/figures files a trip without a local start
		if len(t.Start) >= 7 {
			month = t.Start[:7]
		}
		l.Rows = append(l.Rows, TripRow{ID: t.ID, Month: month, Device: t.Device, Modes: t.Modes, Purpose: t.Purpose, HTML: row})
	}
	for n := range len(l.Rows) + 1 {
		l.Counts = append(l.Counts, p.T("trips.count", n))
	}
	return putDoc(ctx, db, TripListID, &l, &l.ID, &l.Rev)
}

// tableRows cuts the list's table out of a rendered /trips: the table without its rows, and each
// row (<tr>…</tr>) in order.
func tableRows(main string) (table string, rows []string, err error) {
	start := strings.Index(main, `<table class="trips">`)
	open := strings.Index(main, "<tbody>")
	end := strings.Index(main, "</tbody>")
	if start < 0 || open < start || end < open {
		return "", nil, fmt.Errorf("no table of trips in the page")
	}
	body := main[open+len("<tbody>") : end]
	for {
		i := strings.Index(body, "</tr>")
		if i < 0 {
			break
		}
		rows = append(rows, strings.TrimSpace(body[:i+len("</tr>")]))
		body = body[i+len("</tr>"):]
	}
	return main[start:open+len("<tbody>")] + "</tbody></table>", rows, nil
}
