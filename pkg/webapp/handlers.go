package webapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/export"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// pageSize is the trip list's, as in the existing app.
const pageSize = 50

// TripsPerPage is how many trips a page of the trip list shows, for a front end that pages the
// same list (the Cozy page).
const TripsPerPage = pageSize

var funcs = template.FuncMap{
	"duration": duration,
	"when":     when,
	"color":    modeColor,
	"add":      func(a, b int) int { return a + b },
	"sub":      func(a, b int) int { return a - b },
	"modes":    func() []trip.Mode { return trip.Modes() },
	"purposes": func() []trip.Purpose { return trip.Purposes() },
	"sets":     func() []*co2.FactorSet { return co2.Sets() },
	"divf":     func(a, b float64) float64 { return a / b },
}

func duration(s float64) string {
	d := time.Duration(s) * time.Second
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02d", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d min", int(d.Minutes()))
}

// when shows an ISO local time as "2016-06-20 08:28".
func when(iso string) string {
	if t, err := time.Parse(time.RFC3339Nano, iso); err == nil {
		return t.Format("2006-01-02 15:04")
	}
	return iso
}

// isPage says whether r asks for a page rather than the JSON API, which leaves out what only a
// page shows (charts, maps).
func isPage(r *http.Request) bool { return !strings.HasPrefix(r.URL.Path, "/api/") }

// notFound answers a page that does not exist with the error page and its whole menu (JSON
// under /api/), rather than the mux's bare text.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	err := fmt.Errorf("page %q: %w", r.URL.Path, vault.ErrNotFound)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.failJSON(w, err)
		return
	}
	s.fail(w, r, err)
}

// dashboardView is the dashboard's data.
type dashboardView struct {
	Months       []string            `json:"months"`
	Report       *indicators.Report  `json:"report"`
	ThisMonth    *indicators.Figures `json:"this_month"`
	LastMonth    *indicators.Figures `json:"last_month"`
	Year         string              `json:"year"`
	BikeDays     int                 `json:"bike_days"`
	BikeGoal     int                 `json:"bike_goal"`
	Chart        template.HTML       `json:"-"`
	ModeChart    template.HTML       `json:"-"`
	PurposeChart template.HTML       `json:"-"`
}

// dashboard covers the current month and the 11 before it; when the newest trip is older than
// that, the 12 months up to it, so that an old history still shows.
func (s *Server) dashboard(r *http.Request) (view, error) {
	ctx := r.Context()
	lang := s.lang(r)
	end := s.opts.Now()
	last, err := s.coach.LastMonth(ctx)
	if err != nil {
		return nil, err
	}
	if t, err := time.Parse("2006-01", last); err == nil && t.Before(end.AddDate(0, -11, 0)) {
		end = t
	}
	start := time.Date(end.Year(), end.Month()-11, 1, 0, 0, 0, 0, time.UTC)
	q := indicators.Query{From: start.Format("2006-01"), To: end.Format("2006-01"), Devices: s.coach.Settings().Devices}
	rep, err := s.coach.Report(ctx, q, nil)
	if err != nil {
		return nil, err
	}
	v := &dashboardView{Report: rep, Year: end.Format("2006"), BikeGoal: s.coach.Settings().BikeGoal.Target}
	html := isPage(r)
	var bars []bar
	for m := start; !m.After(end); m = m.AddDate(0, 1, 0) {
		key := m.Format("2006-01")
		v.Months = append(v.Months, key)
		if html {
			f := rep.ByMonth[key]
			bars = append(bars, bar{Label: m.Format("01/06"), Value: f.CO2Kg, Text: i18n.For(lang).Sprintf("%.1f kg", f.CO2Kg), Color: "#00897b"})
		}
	}
	v.ThisMonth = rep.ByMonth[end.Format("2006-01")]
	v.LastMonth = rep.ByMonth[time.Date(end.Year(), end.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")]
	v.BikeDays = rep.BikeCommuteDays[v.Year]
	if !html {
		return v, nil // the charts are the page's only
	}
	v.Chart = columnChart(translate(lang, "dash.chart"), yAxis{Unit: translate(lang, "col.co2"), Format: func(x float64) string {
		return i18n.For(lang).Number(x, axisDecimals(x))
	}}, bars)
	v.ModeChart, v.PurposeChart = breakdownCharts(lang, rep)
	return v, nil
}

func breakdownCharts(lang string, rep *indicators.Report) (byMode, byPurpose template.HTML) {
	var mb, pb []bar
	loc := i18n.For(lang)
	for _, m := range rep.ModeOrder {
		f := rep.ByMode[m]
		mb = append(mb, bar{Label: modeName(lang, m), Value: f.CO2Kg, Text: loc.Sprintf("%.1f kg · %d", f.CO2Kg, f.Trips), Color: modeColor(m)})
	}
	for _, p := range rep.PurposeOrder {
		f := rep.ByPurpose[p]
		pb = append(pb, bar{Label: purposeName(lang, p), Value: f.CO2Kg, Text: loc.Sprintf("%.1f kg · %d", f.CO2Kg, f.Trips), Color: "#1565c0"})
	}
	return barChart(translate(lang, "dash.byMode"), mb), barChart(translate(lang, "dash.byPurpose"), pb)
}

// tripsView is the trip list's data.
type tripsView struct {
	Trips   []coach.TripSummary `json:"trips"`
	Total   int                 `json:"total"`
	Offset  int                 `json:"offset"`
	Filters url.Values          `json:"-"`
	Query   map[string]string   `json:"query"`
	Devices []string            `json:"-"`
	Prev    string              `json:"-"`
	Next    string              `json:"-"`
}

func (s *Server) tripList(r *http.Request) (view, error) {
	q := r.URL.Query()
	tq := coach.TripQuery{Limit: pageSize}
	if m := q.Get("month"); m != "" {
		tq.From, tq.To = m, m
	}
	tq.Mode, tq.Purpose = trip.Mode(q.Get("mode")), trip.Purpose(q.Get("purpose"))
	if d := q.Get("device"); d != "" {
		tq.Devices = []string{d}
	} else {
		tq.Devices = s.coach.Settings().Devices
	}
	if tq.Mode != "" && !tq.Mode.Valid() || tq.Purpose != "" && !tq.Purpose.Valid() {
		return nil, badRequest{fmt.Errorf("unknown mode or purpose")}
	}
	if o, err := strconv.Atoi(q.Get("offset")); err == nil && o > 0 {
		tq.Offset = o
	}
	if err := tq.Validate(); err != nil {
		return nil, badRequest{err}
	}
	list, total, err := s.coach.ListTrips(r.Context(), tq)
	if err != nil {
		return nil, err
	}
	v := &tripsView{Trips: list, Total: total, Offset: tq.Offset, Query: map[string]string{}}
	for _, k := range []string{"month", "mode", "purpose", "device"} {
		v.Query[k] = q.Get(k)
	}
	page := func(offset int) string {
		p := url.Values{}
		for k, val := range v.Query {
			if val != "" {
				p.Set(k, val)
			}
		}
		p.Set("offset", strconv.Itoa(offset))
		return "/trips?" + p.Encode()
	}
	if tq.Offset > 0 {
		v.Prev = page(max(0, tq.Offset-pageSize))
	}
	if tq.Offset+pageSize < total {
		v.Next = page(tq.Offset + pageSize)
	}
	return v, nil
}

// tripView is a trip's detail.
type tripView struct {
	ID          string            `json:"id"`
	Summary     coach.TripSummary `json:"summary"`
	Aggregation trip.Aggregation  `json:"aggregation"`
	Manual      trip.Manual       `json:"manual"`
	Labels      trip.Labels       `json:"labels"`
	Map         template.HTML     `json:"-"`
	Propagated  int               `json:"-"`
	Undone      int               `json:"-"`
	// Copies is how many similar trips hold this recurring trip's purpose.
	Copies int `json:"copies"`
	// Confirm asks the person to confirm an edit that gives the purpose to similar trips.
	Confirm *confirmView `json:"-"`
}

// confirmView is an edit waiting for confirmation: the form's fields, sent again with confirm.
type confirmView struct {
	Count   int
	Purpose trip.Purpose
	Fields  []formField
}

type formField struct{ Name, Value string }

func (s *Server) tripDetail(r *http.Request) (view, error) {
	d, a, err := s.coach.Trip(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	m, err := d.ManualEdits()
	if err != nil {
		return nil, err
	}
	modes := make([]trip.Mode, len(a.Sections))
	for i, sec := range a.Sections {
		modes[i] = sec.Mode
	}
	propagated, _ := strconv.Atoi(r.URL.Query().Get("propagated")) // only shown; 0 when absent
	undone, _ := strconv.Atoi(r.URL.Query().Get("undone"))
	v := &tripView{ID: d.ID, Summary: coach.Summarize(d.ID, d.CaptureDevice, a), Aggregation: a, Manual: m, Labels: d.Labels,
		Propagated: propagated, Undone: undone}
	if m.Recurring {
		copies, err := s.coach.Propagated(r.Context(), d.ID)
		if err != nil {
			return nil, err
		}
		v.Copies = len(copies)
	}
	if !isPage(r) {
		return v, nil // the map is the page's only
	}
	if sections, err := d.Sections(); err == nil {
		v.Map = routeMap(translate(s.lang(r), "trip.route")+": "+a.ShownTitle(), sections, modes, s.baseLayer(r.Context()))
	}
	return v, nil
}

// editFromForm reads the trip form: purpose, title, recurring and each section's mode.
func editFromForm(r *http.Request, sections int) (figures.Edit, error) {
	if err := r.ParseForm(); err != nil {
		return figures.Edit{}, err
	}
	var e figures.Edit
	if r.Form.Has("purpose") {
		p := trip.Purpose(r.Form.Get("purpose"))
		e.Purpose = &p
	}
	if r.Form.Has("title") {
		t := strings.TrimSpace(r.Form.Get("title"))
		e.Title = &t
	}
	if r.Form.Has("form") { // a checkbox is absent when unchecked: the form says it was sent
		rec := r.Form.Get("recurring") == "on"
		e.Recurring = &rec
	}
	for i := range sections {
		key := "section-" + strconv.Itoa(i)
		if r.Form.Has(key) {
			if e.SectionModes == nil {
				e.SectionModes = map[int]trip.Mode{}
			}
			e.SectionModes[i] = trip.Mode(r.Form.Get(key))
		}
	}
	return e, e.Validate()
}

func (s *Server) editTripForm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, a, err := s.coach.Trip(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := editFromForm(r, len(a.Sections))
	if err != nil {
		s.fail(w, r, badRequest{err})
		return
	}
	// A section set to its current mode is no correction: leave it out.
	for i, m := range e.SectionModes {
		if i < len(a.Sections) && a.Sections[i].Mode == m {
			delete(e.SectionModes, i)
		}
	}
	// A recurring trip's purpose reaching other trips is shown, and confirmed, before it is done;
	// the confirmation carries the count, so that a count changed meanwhile is asked again.
	preview, err := s.coach.PreviewEdit(r.Context(), id, e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(preview) > 0 && r.Form.Get("confirm") != strconv.Itoa(len(preview)) {
		v, err := s.tripDetail(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		tv := v.(*tripView)
		tv.Confirm = &confirmView{Count: len(preview)}
		if e.Purpose != nil {
			tv.Confirm.Purpose = *e.Purpose
		} else {
			tv.Confirm.Purpose = tv.Manual.Purpose
		}
		for k, vals := range r.PostForm {
			if k == "csrf_token" || k == "confirm" {
				continue
			}
			for _, val := range vals {
				tv.Confirm.Fields = append(tv.Confirm.Fields, formField{k, val})
			}
		}
		slices.SortFunc(tv.Confirm.Fields, func(a, b formField) int { return strings.Compare(a.Name, b.Name) })
		s.render(w, r, "trip", tv, http.StatusOK)
		return
	}
	propagated, err := s.coach.Edit(r.Context(), id, e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/trips/%s?saved=1&propagated=%d", url.PathEscape(id), len(propagated)), http.StatusSeeOther)
}

// undoRecurringForm makes the trip no longer recurring and takes back the purposes it gave.
func (s *Server) undoRecurringForm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	undone, err := s.coach.UndoRecurring(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/trips/%s?saved=1&undone=%d", url.PathEscape(id), len(undone)), http.StatusSeeOther)
}

// undoRecurringAPI is undoRecurringForm's JSON twin: {"undone": [ids]}.
func (s *Server) undoRecurringAPI(w http.ResponseWriter, r *http.Request) {
	undone, err := s.coach.UndoRecurring(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failJSON(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"undone": undone})
}

// editTripAPI takes {"purpose": ..., "title": ..., "recurring": ..., "mode": ..., "sectionModes": {"0": "BUS"}}.
func (s *Server) editTripAPI(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Purpose      *trip.Purpose        `json:"purpose"`
		Title        *string              `json:"title"`
		Recurring    *bool                `json:"recurring"`
		Mode         *trip.Mode           `json:"mode"`
		SectionModes map[string]trip.Mode `json:"sectionModes"`
		// Confirm is the number of trips the edit gives its purpose to, as a preview said.
		Confirm *int `json:"confirm"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		s.failJSON(w, badRequest{fmt.Errorf("malformed edit: %w", err)})
		return
	}
	e := figures.Edit{Purpose: body.Purpose, Title: body.Title, Recurring: body.Recurring, Mode: body.Mode}
	for k, m := range body.SectionModes {
		i, err := strconv.Atoi(k)
		if err != nil {
			s.failJSON(w, badRequest{fmt.Errorf("section %q: want an index", k)})
			return
		}
		if e.SectionModes == nil {
			e.SectionModes = map[int]trip.Mode{}
		}
		e.SectionModes[i] = m
	}
	if err := e.Validate(); err != nil {
		s.failJSON(w, badRequest{err})
		return
	}
	preview, err := s.coach.PreviewEdit(r.Context(), r.PathValue("id"), e)
	if err != nil {
		s.failJSON(w, err)
		return
	}
	if len(preview) > 0 && (body.Confirm == nil || *body.Confirm != len(preview)) {
		writeJSON(w, http.StatusConflict, map[string]any{"error": fmt.Sprintf(
			"this gives the purpose to %d similar trips: send the edit again with \"confirm\": %d", len(preview), len(preview)),
			"would_propagate_to": preview})
		return
	}
	propagated, err := s.coach.Edit(r.Context(), r.PathValue("id"), e)
	if err != nil {
		s.failJSON(w, err)
		return
	}
	v, err := s.tripDetail(r)
	if err != nil {
		s.failJSON(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"trip": v, "propagated_to": propagated})
}

// analysisView is a month's or a year's breakdown, and the months around it by mode.
type analysisView struct {
	Period       string             `json:"period"`
	Report       *indicators.Report `json:"report"`
	ModeChart    template.HTML      `json:"-"`
	PurposeChart template.HTML      `json:"-"`
	// Monthly covers the year, or for a month the 12 months up to it: CO2, distance and modal
	// share by distance, per month and mode group.
	Monthly *monthlyView `json:"monthly"`
}

// monthlyView is the monthly charts and their data, by mode group.
type monthlyView struct {
	Months []string     `json:"months"`
	Groups []trip.Group `json:"groups"`
	// CO2Kg, DistanceKm and Share are by group, then month.
	CO2Kg      map[trip.Group][]float64 `json:"co2_kg"`
	DistanceKm map[trip.Group][]float64 `json:"distance_km"`
	Share      map[trip.Group][]float64 `json:"share_by_distance"`
	Charts     []monthlyChart           `json:"-"`
}

// monthlyChart is one monthly chart and its table.
type monthlyChart struct {
	ID, Title string
	SVG       template.HTML
	Rows      []monthlyRow
}

type monthlyRow struct {
	Label string
	Cells []string
}

// groupOrder is the mode groups in the order they stack.
var groupOrder = []trip.Group{trip.GroupWalking, trip.GroupBike, trip.GroupTransit, trip.GroupCar, trip.GroupPlane, trip.GroupUnknown}

// axisDecimals is how many decimals an axis tick of x needs.
func axisDecimals(x float64) int {
	if x != math.Trunc(x) {
		return 1
	}
	return 0
}

// monthly builds the monthly figures from a report of months, and their charts for a page.
func monthly(lang string, rep *indicators.Report, months []string, charts bool) *monthlyView {
	loc := i18n.For(lang)
	v := &monthlyView{Months: months, CO2Kg: map[trip.Group][]float64{}, DistanceKm: map[trip.Group][]float64{}, Share: map[trip.Group][]float64{}}
	for _, g := range groupOrder {
		co2s, kms, shares := make([]float64, len(months)), make([]float64, len(months)), make([]float64, len(months))
		used := false
		for i, m := range months {
			for mode, f := range rep.ByMonthMode[m] {
				if mode.Group() == g {
					co2s[i] += f.CO2Kg
					kms[i] += f.DistanceKm
					used = true
				}
			}
			if total := rep.ByMonth[m]; total != nil && total.DistanceKm > 0 {
				shares[i] = kms[i] / total.DistanceKm
			}
		}
		if used {
			v.Groups = append(v.Groups, g)
			v.CO2Kg[g], v.DistanceKm[g], v.Share[g] = co2s, kms, shares
		}
	}
	if !charts {
		return v
	}
	labels := make([]string, len(months))
	for i, m := range months {
		if t, err := time.Parse("2006-01", m); err == nil {
			labels[i] = t.Format("01/06")
		}
	}
	num := func(d int) func(float64) string { return func(x float64) string { return loc.Number(x, d) } }
	pct := func(x float64) string { return loc.Number(100*x, 0) + " %" }
	for _, c := range []struct {
		id, title string
		data      map[trip.Group][]float64
		ax        yAxis
		cell      func(float64) string
	}{
		{"monthly-co2", translate(lang, "analysis.co2ByMonth"), v.CO2Kg, yAxis{Unit: translate(lang, "col.co2"), Format: func(x float64) string { return loc.Number(x, axisDecimals(x)) }}, num(2)},
		{"monthly-km", translate(lang, "analysis.kmByMonth"), v.DistanceKm, yAxis{Unit: "km", Format: func(x float64) string { return loc.Number(x, axisDecimals(x)) }}, num(1)},
		{"monthly-share", translate(lang, "analysis.shareByMonth"), v.Share, yAxis{Unit: translate(lang, "analysis.shareUnit"), Format: pct, Max: 1}, pct},
	} {
		var ss []series
		mc := monthlyChart{ID: c.id, Title: c.title}
		for _, g := range v.Groups {
			s := series{Label: name(lang, "group.", string(g)), Color: groupColors[g], Values: c.data[g]}
			row := monthlyRow{Label: s.Label}
			for _, x := range c.data[g] {
				s.Texts = append(s.Texts, c.cell(x))
				row.Cells = append(row.Cells, c.cell(x))
			}
			ss = append(ss, s)
			mc.Rows = append(mc.Rows, row)
		}
		mc.SVG = stackedChart(c.title, c.ax, labels, ss)
		v.Charts = append(v.Charts, mc)
	}
	return v
}

func (s *Server) analysis(r *http.Request) (view, error) {
	period := r.URL.Query().Get("period")
	if period == "" {
		period = s.opts.Now().Format("2006")
	}
	q := indicators.Query{Devices: s.coach.Settings().Devices}
	switch len(period) {
	case 4:
		q.From, q.To = period+"-01", period+"-12"
	case 7:
		q.From, q.To = period, period
	default:
		return nil, badRequest{fmt.Errorf("period %q: want YYYY or YYYY-MM", period)}
	}
	if err := q.Validate(); err != nil {
		return nil, badRequest{err}
	}
	rep, err := s.coach.Report(r.Context(), q, nil)
	if err != nil {
		return nil, err
	}
	v := &analysisView{Period: period, Report: rep}
	lang := s.lang(r)
	if isPage(r) {
		v.ModeChart, v.PurposeChart = breakdownCharts(lang, rep)
	}
	// The months charted: the year's, or the 12 up to the month.
	last, err := time.Parse("2006-01", q.To)
	if err != nil {
		return nil, badRequest{err}
	}
	first := last.AddDate(0, -11, 0)
	yearRep := rep
	if q.From != first.Format("2006-01") {
		yq := indicators.Query{From: first.Format("2006-01"), To: q.To, Devices: q.Devices}
		if yearRep, err = s.coach.Report(r.Context(), yq, nil); err != nil {
			return nil, err
		}
	}
	var months []string
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		months = append(months, m.Format("2006-01"))
	}
	v.Monthly = monthly(lang, yearRep, months, isPage(r))
	return v, nil
}

// settingsView is the settings form's data.
type settingsView struct {
	Settings  settings.Settings             `json:"settings"`
	Recompute coach.Progress                `json:"recompute"`
	Suggested map[string]*places.Suggestion `json:"suggested,omitempty"`
	Error     string                        `json:"error,omitempty"`
}

// DefaultMode is the default mode set for a group, for the form.
func (v *settingsView) DefaultMode(group string) trip.Mode {
	return v.Settings.DefaultModes[trip.Group(group)]
}

func (s *Server) settingsPage(r *http.Request) (view, error) {
	v := &settingsView{Settings: s.coach.Settings(), Recompute: s.coach.Recomputing()}
	if r.URL.Query().Get("suggest") == "1" {
		home, work, err := s.coach.SuggestPlaces(r.Context())
		if err != nil {
			return nil, err
		}
		v.Suggested = map[string]*places.Suggestion{"home": home, "work": work}
	}
	return v, nil
}

func (s *Server) saveSettingsForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, badRequest{err})
		return
	}
	f := r.Form
	// An offline map is checked before it is saved: a file that is no raster map is refused.
	if p := strings.TrimSpace(f.Get("baseMap")); p != "" {
		if err := s.offline.check(r.Context(), p); err != nil {
			s.render(w, r, "settings", &settingsView{Settings: s.coach.Settings(), Recompute: s.coach.Recomputing(), Error: err.Error()}, http.StatusBadRequest)
			return
		}
	}
	// A new factor set or default mode recomputes every trip: the page answers once the
	// settings are saved and shows the recompute's progress.
	_, err := s.coach.UpdateSettingsInBackground(r.Context(), func(st *settings.Settings) error {
		st.FactorSet = f.Get("factorSet")
		st.DefaultModes = map[trip.Group]trip.Mode{}
		for _, g := range []trip.Group{trip.GroupBike, trip.GroupCar} {
			if m := f.Get("default-" + string(g)); m != "" {
				st.DefaultModes[g] = trip.Mode(m)
			}
		}
		for _, p := range []struct {
			key string
			dst **places.Place
		}{{"home", &st.Home}, {"work", &st.Work}} {
			val := strings.TrimSpace(f.Get(p.key))
			if val == "" {
				*p.dst = nil
				continue
			}
			pl, err := places.ParseLatLon(val)
			if err != nil {
				return fmt.Errorf("%s: %w", p.key, err)
			}
			*p.dst = pl
		}
		target, err := strconv.Atoi(f.Get("target"))
		if err != nil {
			return fmt.Errorf("bike goal: %q is not a number of days", f.Get("target"))
		}
		st.BikeGoal.Target = target
		st.BikeGoal.FirstName, st.BikeGoal.LastName = strings.TrimSpace(f.Get("firstName")), strings.TrimSpace(f.Get("lastName"))
		st.BikeGoal.Employer, st.BikeGoal.Place = strings.TrimSpace(f.Get("employer")), strings.TrimSpace(f.Get("place"))
		st.Language = f.Get("language")
		st.TileServer = strings.TrimSpace(f.Get("tileServer"))
		st.BaseMap = strings.TrimSpace(f.Get("baseMap"))
		st.Devices = nil
		for _, d := range strings.Split(f.Get("devices"), ",") {
			if d = strings.TrimSpace(d); d != "" {
				st.Devices = append(st.Devices, d)
			}
		}
		return nil
	})
	if err != nil {
		s.render(w, r, "settings", &settingsView{Settings: s.coach.Settings(), Recompute: s.coach.Recomputing(), Error: err.Error()}, http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/settings?saved=1", http.StatusSeeOther)
}

// recomputeAPI says how far the recompute a settings change started is.
func (s *Server) recomputeAPI(r *http.Request) (view, error) { return s.coach.Recomputing(), nil }

func (s *Server) exportsPage(r *http.Request) (view, error) {
	now := s.opts.Now()
	return map[string]string{"From": now.AddDate(-1, 0, 0).Format("2006-01"), "To": now.Format("2006-01"), "Year": now.Format("2006")}, nil
}

// tripWriter is an export format: CSV or GeoJSON.
type tripWriter interface {
	Write(*trip.Doc, trip.Aggregation) error
}

// exportTrips streams the period's trips, oldest first, one document read at a time.
func (s *Server) exportTrips(w http.ResponseWriter, r *http.Request, contentType, filename string, open func(io.Writer) (tripWriter, func() error)) {
	q := indicators.Query{From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to")}
	if err := q.Validate(); err != nil {
		s.fail(w, r, badRequest{err})
		return
	}
	list, _, err := s.coach.ListTrips(r.Context(), coach.TripQuery{Query: q})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	tw, finish := open(w)
	for i := len(list) - 1; i >= 0; i-- {
		d, a, err := s.coach.Trip(r.Context(), list[i].ID)
		if err != nil {
			s.opts.Logger.Error("export: read a trip", "error", err)
			return // the download ends short: the browser reports it
		}
		if err := tw.Write(d, a); err != nil {
			return
		}
	}
	_ = finish()
}

func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) {
	s.exportTrips(w, r, "text/csv; charset=utf-8", "coachco2-trips.csv", func(out io.Writer) (tripWriter, func() error) {
		cw := export.NewCSVWriter(out)
		return cw, cw.Flush
	})
}

func (s *Server) exportGeoJSON(w http.ResponseWriter, r *http.Request) {
	s.exportTrips(w, r, "application/geo+json", "coachco2-trips.geojson", func(out io.Writer) (tripWriter, func() error) {
		gw := export.NewGeoJSONWriter(out)
		return gw, gw.Close
	})
}

// exportAttestation writes the year's Forfait Mobilités Durables attestation.
func (s *Server) exportAttestation(w http.ResponseWriter, r *http.Request) {
	year, err := strconv.Atoi(r.URL.Query().Get("year"))
	if err != nil {
		s.fail(w, r, badRequest{fmt.Errorf("year: want YYYY")})
		return
	}
	at, err := s.coach.Attestation(r.Context(), year, s.lang(r), s.opts.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := export.WriteAttestationPDF(&buf, at); err != nil {
		if errors.Is(err, export.ErrInvalidAttestation) {
			err = badRequest{fmt.Errorf("%w (fill in your name and employer in the settings)", err)}
		}
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="attestation-fmd-%d.pdf"`, year))
	_, _ = w.Write(buf.Bytes())
}
