// Package webapp is the Coach CO2 web app: server-rendered pages and a JSON API over a person's
// coach (pkg/coach), on one origin, with every asset embedded.
//
// Screens: the dashboard (12-month CO2 chart, this month against last, breakdowns by mode and
// purpose, CO2 avoided, bike-commute days against the goal), the trip list with filters, a trip's
// detail (its route drawn as SVG, its sections, corrections), the analysis of a month or a year,
// the settings, the exports, the studies, and the connections to tracking servers (when enabled).
// The same data is served as JSON under /api/. Pages work without JavaScript; a little vanilla
// script only submits the trip form when a select changes, and reloads the Connections screen
// when a sync it shows running is over.
//
// Security headers, login beyond loopback and CSRF protection are middleware (pkg/websec) that
// `app serve` wraps around Handler; a mutating request must carry the CSRF token that every page
// embeds (CSRFToken in Options says how to read it).
package webapp

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the web app.
type Options struct {
	// Locale is the instance's locale (COZY_LOCALE), used when the settings give no language.
	Locale string
	// Logger receives errors (never personal data).
	Logger *slog.Logger
	// CSRFToken returns the CSRF token of the request's session, embedded in forms; nil when
	// the middleware in front does not use one.
	CSRFToken func(*http.Request) string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// OpenBaseMap opens the offline base map file the settings name (pkg/basemap's Open);
	// nil when the app offers no offline maps, and the settings then refuse one.
	OpenBaseMap func(ctx context.Context, path string) (BaseMap, error)
}

// Server serves the app.
type Server struct {
	coach *coach.Coach
	opts  Options
	pages map[string]*template.Template
	mux   *http.ServeMux
	// studies is the Studies screen's service (nil until EnableStudies).
	studies *studiesState
	// connections is the Connections screen's service (nil until EnableConnections).
	connections *connectionsState
	// offline is the person's offline base map, when the settings name one.
	offline offlineMap
}

// New returns the app over a coach.
func New(c *coach.Coach, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{coach: c, opts: opts, pages: map[string]*template.Template{}, mux: http.NewServeMux(), offline: offlineMap{open: opts.OpenBaseMap}}
	for _, page := range []string{"dashboard", "trips", "trip", "analysis", "settings", "exports", "studies", "connections", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("webapp: template %s: %w", page, err)
		}
		s.pages[page] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", filesOnly(static)))
	s.mux.HandleFunc("GET /{$}", s.page("dashboard", s.dashboard))
	s.mux.HandleFunc("GET /", s.notFound)
	s.mux.HandleFunc("GET /trips", s.page("trips", s.tripList))
	s.mux.HandleFunc("GET /trips/{id}", s.page("trip", s.tripDetail))
	s.mux.HandleFunc("POST /trips/{id}", s.editTripForm)
	s.mux.HandleFunc("POST /trips/{id}/recurring/undo", s.undoRecurringForm)
	s.mux.HandleFunc("GET /analysis", s.page("analysis", s.analysis))
	s.mux.HandleFunc("GET /settings", s.page("settings", s.settingsPage))
	s.mux.HandleFunc("POST /settings", s.saveSettingsForm)
	s.mux.HandleFunc("GET /tiles/{z}/{x}/{y}", s.tile)
	s.mux.HandleFunc("GET /exports", s.page("exports", s.exportsPage))
	s.mux.HandleFunc("GET /exports/trips.csv", s.exportCSV)
	s.mux.HandleFunc("GET /exports/trips.geojson", s.exportGeoJSON)
	s.mux.HandleFunc("GET /exports/attestation.pdf", s.exportAttestation)
	s.mux.HandleFunc("GET /studies", s.page("studies", s.studiesPage))
	s.mux.HandleFunc("POST /studies/add", s.addStudyForm)
	s.mux.HandleFunc("POST /studies/{id}/consent", s.consentForm)
	s.mux.HandleFunc("POST /studies/{id}/revoke", s.revokeForm)
	s.mux.HandleFunc("GET /connections", s.page("connections", s.connectionsPage))
	s.mux.HandleFunc("POST /connections", s.addConnectionForm)
	s.mux.HandleFunc("POST /connections/{id}/sync", s.syncConnectionForm)
	s.mux.HandleFunc("POST /connections/{id}/remove", s.removeConnectionForm)
	s.mux.HandleFunc("GET /api/connections", s.api(s.connectionsPage))
	s.mux.HandleFunc("GET /api/dashboard", s.api(s.dashboard))
	s.mux.HandleFunc("GET /api/trips", s.api(s.tripList))
	s.mux.HandleFunc("GET /api/trips/{id}", s.api(s.tripDetail))
	s.mux.HandleFunc("POST /api/trips/{id}", s.editTripAPI)
	s.mux.HandleFunc("POST /api/trips/{id}/recurring/undo", s.undoRecurringAPI)
	s.mux.HandleFunc("GET /api/analysis", s.api(s.analysis))
	s.mux.HandleFunc("GET /api/settings", s.api(s.settingsPage))
	s.mux.HandleFunc("GET /api/recompute", s.api(s.recomputeAPI))
	return s, nil
}

// Close releases what the app keeps open (the offline base map).
func (s *Server) Close() error { return s.offline.Close() }

// Handler returns the app's routes.
func (s *Server) Handler() http.Handler { return s.mux }

// Mux lets `app serve` add routes (e.g. the studies screen) to the same origin.
func (s *Server) Mux() *http.ServeMux { return s.mux }

// view is what a page handler gives its template, and the JSON API as is.
type view interface{}

// common is what every page's template reads besides its data.
type common struct {
	Lang  string
	Nav   string
	CSRF  string
	Flash string
	Data  view
	// Recompute is the progress of the recompute a settings change started: a banner on every
	// page while it runs.
	Recompute coach.Progress
	Mode      func(trip.Mode) string
	Purpose   func(trip.Purpose) string
}

// page wraps a data handler into an HTML page.
func (s *Server) page(name string, data func(*http.Request) (view, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := data(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, name, v, http.StatusOK)
	}
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, v view, status int) {
	lang := s.lang(r)
	c := common{
		Lang: lang, Nav: name, Data: v, Flash: r.URL.Query().Get("saved"), Recompute: s.coach.Recomputing(),
		Mode:    func(m trip.Mode) string { return modeName(lang, m) },
		Purpose: func(p trip.Purpose) string { return purposeName(lang, p) },
	}
	if s.opts.CSRFToken != nil {
		c.CSRF = s.opts.CSRFToken(r)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	var buf strings.Builder
	if err := s.pages[name].Execute(&buf, c); err != nil {
		s.opts.Logger.Error("render page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// api wraps a data handler into a JSON endpoint.
func (s *Server) api(data func(*http.Request) (view, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := data(r)
		if err != nil {
			s.failJSON(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// filesOnly serves the files of fsys, and 404 for a directory rather than its listing.
func filesOnly(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if st, err := fs.Stat(fsys, name); name == "" || err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// badRequest marks errors caused by the request; their message says what in the request is
// wrong, and only that.
type badRequest struct{ error }

// publicError returns the status of err and the message the person sees. The vault's errors
// name its file or server, the instance and the databases: they show as their status only.
func publicError(err error) (status int, msg string) {
	var br badRequest
	switch {
	case errors.Is(err, vault.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, vault.ErrConflict):
		return http.StatusConflict, "it changed meanwhile: reload and try again"
	case errors.Is(err, vault.ErrStore), errors.Is(err, vault.ErrForbidden):
		// Even inside a badRequest: the store failed, not the request.
	case errors.As(err, &br):
		return http.StatusBadRequest, br.Error()
	}
	return http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := publicError(err)
	if status == http.StatusInternalServerError {
		s.opts.Logger.Error("request failed", "route", r.Pattern, "error", err)
	}
	s.render(w, r, "error", map[string]any{"Status": status, "Message": msg}, status)
}

func (s *Server) failJSON(w http.ResponseWriter, err error) {
	status, msg := publicError(err)
	if status == http.StatusInternalServerError {
		s.opts.Logger.Error("api request failed", "error", err)
	}
	writeJSON(w, status, map[string]string{"error": msg})
}
