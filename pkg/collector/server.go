package collector

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coachco2/coachco2/pkg/csvsafe"
	"github.com/coachco2/coachco2/pkg/study"
)

// Defaults and limits of a Server.
const (
	// DefaultRate is the requests per second a client may make on average.
	DefaultRate = 2.0
	// DefaultBurst is the requests a client may make at once.
	DefaultBurst = 20
	// MinAdminTokenLen is the shortest admin token accepted.
	MinAdminTokenLen = 16
	// MaxBodyBytes caps every request body (a batch, a descriptor).
	MaxBodyBytes = study.MaxBatchBytes
)

// Options configure a Server.
type Options struct {
	// AdminToken is the bearer token of the admin routes (registering studies, reading
	// aggregates): at least MinAdminTokenLen characters. Required.
	AdminToken string
	// Rate is the requests per second each client IP may make on average (DefaultRate when 0, no
	// limit when negative); Burst the requests it may make at once (DefaultBurst when 0).
	Rate  float64
	Burst int
	// TrustForwardedFor takes the client IP from the last X-Forwarded-For address: only behind a
	// reverse proxy that sets it.
	TrustForwardedFor bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives one line per request: method, route pattern, status and duration. Never a
	// pseudonym, a value or a client address. slog.Default when nil.
	Logger *slog.Logger
}

// Server is the collector's HTTP API (docs/collector-api.md) over a Store.
type Server struct {
	store     *Store
	opts      Options
	tokenHash [32]byte
	limiter   *limiter
	mux       *http.ServeMux
}

// NewServer returns the API over a store.
func NewServer(store *Store, opts Options) (*Server, error) {
	if len(opts.AdminToken) < MinAdminTokenLen {
		return nil, fmt.Errorf("collector: the admin token must have at least %d characters", MinAdminTokenLen)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Rate == 0 {
		opts.Rate = DefaultRate
	}
	if opts.Burst == 0 {
		opts.Burst = DefaultBurst
	}
	s := &Server{store: store, opts: opts, tokenHash: sha256.Sum256([]byte(opts.AdminToken)), mux: http.NewServeMux()}
	if opts.Rate > 0 {
		s.limiter = newLimiter(opts.Rate, opts.Burst, opts.Now)
	}
	s.mux.HandleFunc("/healthz", s.handleHealth)
	s.mux.HandleFunc("/studies/{id}", s.handleStudy)
	s.mux.HandleFunc("/studies/{id}/contributions", s.handleContributions)
	s.mux.HandleFunc("/studies/{id}/participants/{pseudonym}", s.handleParticipant)
	s.mux.HandleFunc("/studies/{id}/participants/{pseudonym}/withdrawal", s.handleWithdrawal)
	s.mux.HandleFunc("/studies/{id}/aggregates", s.handleAggregates)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, apiError{Code: study.CodeNotFound, Message: "no such route: see docs/collector-api.md"})
	})
	return s, nil
}

// ServeHTTP rate-limits, routes and logs a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			s.opts.Logger.Error("panic", "route", r.Pattern, "panic", fmt.Sprint(p))
			if !rec.wrote {
				writeError(rec, http.StatusInternalServerError, apiError{Code: study.CodeInternal, Message: "internal error"})
			}
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		// r.Pattern is the route's pattern (set by the mux): never the path, which may hold a
		// pseudonym.
		s.opts.Logger.Log(r.Context(), level, "request", "method", r.Method, "route", r.Pattern,
			"status", rec.status, "duration_ms", time.Since(start).Milliseconds())
	}()
	rec.Header().Set("X-Content-Type-Options", "nosniff")
	rec.Header().Set("Cache-Control", "no-store")
	if s.limiter != nil && r.URL.Path != "/healthz" {
		if ok, wait := s.limiter.allow(clientKey(r, s.opts.TrustForwardedFor)); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			if secs < 1 {
				secs = 1
			}
			rec.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(rec, http.StatusTooManyRequests, apiError{Code: study.CodeRateLimited,
				Message: fmt.Sprintf("too many requests from this address: try again in %d s", secs)})
			r.Pattern = "(rate limited)"
			return
		}
	}
	s.mux.ServeHTTP(rec, r)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleStudy: GET (public) returns a descriptor, PUT (admin) registers one.
func (s *Server) handleStudy(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet, http.MethodPut) {
		return
	}
	id := r.PathValue("id")
	if r.Method == http.MethodGet {
		d, err := s.store.Study(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
		return
	}
	if !s.admin(w, r) {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	d, err := study.ParseDescriptor(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d.ID != id {
		writeError(w, http.StatusBadRequest, apiError{Code: study.CodeStudyMismatch,
			Message: fmt.Sprintf("the descriptor's id %q differs from the URL's %q", d.ID, id)})
		return
	}
	status, err := s.store.PutStudy(r.Context(), d, s.opts.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code := http.StatusOK
	if status == StudyCreated {
		code = http.StatusCreated
	}
	writeJSON(w, code, map[string]any{"id": d.ID, "version": d.Version, "status": status})
}

// handleContributions: POST a batch.
func (s *Server) handleContributions(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	id := r.PathValue("id")
	if _, err := s.store.Study(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	b, err := study.ParseBatch(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	saved, err := s.store.SaveBatch(r.Context(), id, b, s.opts.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, saved)
}

// handleParticipant: DELETE a pseudonym's data.
func (s *Server) handleParticipant(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodDelete) {
		return
	}
	s.withdraw(w, r)
}

// handleWithdrawal: POST, the same withdrawal as DELETE on the participant, for the clients that
// can only GET and POST: an app in a Cozy reaches the outside only through the stack's remote
// doctypes, whose requests are GET or POST (cozy-stack model/remote/remote.go). The body, if
// any, is ignored.
func (s *Server) handleWithdrawal(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	s.withdraw(w, r)
}

// withdraw deletes every contribution of the path's pseudonym in the path's study.
func (s *Server) withdraw(w http.ResponseWriter, r *http.Request) {
	pseudonym := r.PathValue("pseudonym")
	if !study.ValidPseudonym(pseudonym) {
		writeError(w, http.StatusBadRequest, apiError{Code: study.CodeMalformedPseudonym,
			Message: fmt.Sprintf("a pseudonym is %d lowercase hexadecimal digits", study.PseudonymLen)})
		return
	}
	del, err := s.store.DeletePseudonym(r.Context(), r.PathValue("id"), pseudonym, s.opts.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, del)
}

// handleAggregates: GET (admin) statistics, as JSON or CSV.
func (s *Server) handleAggregates(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet) || !s.admin(w, r) {
		return
	}
	q, asCSV, err := parseAggregatesQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, apiError{Code: study.CodeInvalidQuery, Message: err.Error()})
		return
	}
	res, err := s.store.Aggregates(r.Context(), r.PathValue("id"), q, s.opts.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !asCSV {
		writeJSON(w, http.StatusOK, res)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", res.StudyID+"-aggregates.csv"))
	w.WriteHeader(http.StatusOK)
	if err := WriteCSV(w, res); err != nil {
		s.opts.Logger.Warn("writing CSV aggregates", "error", err)
	}
}

// parseAggregatesQuery reads measure, period, group and format; each of the first three may be
// repeated or comma-separated. Any other parameter is an error.
func parseAggregatesQuery(r *http.Request) (Query, bool, error) {
	var q Query
	vals := r.URL.Query()
	for k := range vals {
		if !slices.Contains([]string{"measure", "period", "group", "format"}, k) {
			return q, false, fmt.Errorf("unknown query parameter %q (measure, period, group, format)", truncateString(k, 40))
		}
	}
	list := func(name string) []string {
		var out []string
		for _, v := range vals[name] {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	for _, m := range list("measure") {
		if _, ok := study.LookupMeasure(study.MeasureID(m)); !ok {
			return q, false, fmt.Errorf("measure %q is not in the catalogue", truncateString(m, 64))
		}
		q.Measures = append(q.Measures, study.MeasureID(m))
	}
	for _, p := range list("period") {
		per, err := study.ParsePeriod(p)
		if err != nil {
			return q, false, err
		}
		q.Periods = append(q.Periods, per)
	}
	q.Groups = list("group")
	asCSV := false
	switch f := vals.Get("format"); f {
	case "csv":
		asCSV = true
	case "json":
	case "":
		asCSV = acceptsCSV(r.Header.Values("Accept"))
	default:
		return q, false, fmt.Errorf("format %q: json or csv", truncateString(f, 20))
	}
	return q, asCSV, nil
}

// acceptsCSV reports whether the Accept header asks for text/csv before JSON.
func acceptsCSV(accept []string) bool {
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case "text/csv":
				return true
			case "application/json":
				return false
			}
		}
	}
	return false
}

// WriteCSV writes aggregates as CSV (RFC 4180, encoding/csv): a header, then one line per
// aggregate, then one per suppressed group with suppressed=true and empty statistics. Text cells
// go through pkg/csvsafe, so that no cell opens as a spreadsheet formula; numbers stay numbers.
func WriteCSV(w io.Writer, res *Aggregates) error {
	cw := csvsafe.NewWriter(w)
	T, N := csvsafe.Text, csvsafe.Number
	if err := cw.Write(csvsafe.Texts("study_id", "study_version", "k", "measure", "unit", "period", "group", "group_value", "category",
		"suppressed", "count", "sum", "mean", "median", "q1", "q3")...); err != nil {
		return err
	}
	head := []csvsafe.Cell{T(res.StudyID), csvsafe.Int(res.StudyVersion), csvsafe.Int(res.K)}
	for _, a := range res.Aggregates {
		rec := append(slices.Clone(head), T(string(a.Measure)), T(string(a.Unit)), T(a.Period.String()), T(a.Group), T(a.GroupValue), T(a.Category),
			T("false"), csvsafe.Int(a.Count), N(a.Sum), N(a.Mean), N(a.Median), N(a.Q1), N(a.Q3))
		if err := cw.Write(rec...); err != nil {
			return err
		}
	}
	e := csvsafe.Empty()
	for _, sp := range res.Suppressed {
		m, _ := study.LookupMeasure(sp.Measure)
		rec := append(slices.Clone(head), T(string(sp.Measure)), T(string(m.Unit)), T(sp.Period.String()), T(sp.Group), T(sp.GroupValue), e,
			T("true"), e, e, e, e, e, e)
		if err := cw.Write(rec...); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// admin checks the bearer token, answering 401 when it is missing or wrong.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if ok {
		h := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if subtle.ConstantTimeCompare(h[:], s.tokenHash[:]) == 1 {
			return true
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="collector"`)
	writeError(w, http.StatusUnauthorized, apiError{Code: study.CodeUnauthorized, Message: "this route needs the admin token: Authorization: Bearer TOKEN"})
	return false
}

// fail answers an error of the store or of validation.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var es study.Errors
	var qe *QueryError
	switch {
	case errors.Is(err, ErrUnknownStudy):
		writeError(w, http.StatusNotFound, apiError{Code: study.CodeUnknownStudy, Message: fmt.Sprintf("no study %q is registered here", truncateString(r.PathValue("id"), 80))})
	case errors.Is(err, ErrWithdrawn):
		writeError(w, http.StatusGone, apiError{Code: study.CodeWithdrawn, Message: "this pseudonym was withdrawn from the study: nothing is stored under it any more (take part again with a new consent and a new pseudonym)"})
	case errors.Is(err, ErrVersionConflict):
		writeError(w, http.StatusConflict, apiError{Code: study.CodeVersionConflict, Message: err.Error()})
	case errors.As(err, &qe):
		writeError(w, http.StatusBadRequest, apiError{Code: study.CodeInvalidQuery, Message: qe.Msg})
	case errors.As(err, &es) && len(es) > 0:
		status, code := validationStatus(es)
		e := apiError{Code: code, Message: es.Error(), Details: capDetails(es)}
		if code == study.CodeVersionMismatch {
			if d, err := s.store.Study(r.Context(), r.PathValue("id")); err == nil {
				e.CurrentVersion = d.Version
			}
		}
		writeError(w, status, e)
	default:
		s.opts.Logger.Error("request failed", "route", r.Pattern, "error", err)
		writeError(w, http.StatusInternalServerError, apiError{Code: study.CodeInternal, Message: "internal error"})
	}
}

// validationStatus returns the HTTP status of validation problems and the code that decided it.
func validationStatus(es study.Errors) (int, study.Code) {
	for _, c := range []struct {
		code   study.Code
		status int
	}{
		{study.CodeMalformedJSON, http.StatusBadRequest},
		{study.CodeTooLong, http.StatusRequestEntityTooLarge},
		{study.CodeTooManyContributions, http.StatusRequestEntityTooLarge},
		{study.CodeVersionMismatch, http.StatusConflict},
	} {
		if es.Has(c.code) {
			return c.status, c.code
		}
	}
	return http.StatusUnprocessableEntity, es[0].Code
}

// maxDetails caps the problems listed in an error answer.
const maxDetails = 50

func capDetails(es study.Errors) []*study.Error {
	if len(es) > maxDetails {
		return es[:maxDetails]
	}
	return es
}

// apiError is the "error" object of every error answer.
type apiError = study.APIError

func writeError(w http.ResponseWriter, status int, e apiError) {
	writeJSON(w, status, study.ErrorResponse{Error: e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}

// readBody reads a JSON body of at most MaxBodyBytes, answering 415 or 413 itself.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, apiError{Code: study.CodeUnsupportedMediaType, Message: "send JSON with Content-Type: application/json"})
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, apiError{Code: study.CodeBodyTooLarge,
			Message: fmt.Sprintf("the body is larger than %d bytes: send fewer contributions per batch (at most %d)", MaxBodyBytes, study.MaxBatchEntries)})
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, apiError{Code: study.CodeMalformedJSON, Message: "could not read the body"})
		return nil, false
	}
	return body, true
}

// allowMethod answers 405 with Allow unless the request's method is one of those.
func allowMethod(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, apiError{Code: study.CodeMethodNotAllowed,
		Message: fmt.Sprintf("%s is not allowed here: %s", r.Method, strings.Join(methods, ", "))})
	return false
}

// statusRecorder keeps the status for the log line.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// truncateString cuts s for an error message, on a character boundary.
func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
