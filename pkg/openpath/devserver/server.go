// Package devserver is an e-mission-compatible server for tests, demos and benchmarks: it answers
// the routes a connector uses (/pipeline/get_range_ts, /pipeline/get_complete_ts,
// /datastreams/find_entries/timestamp, /timeline/getTrips/<day>, /profile/get) like the real
// e-mission server, from data directories laid out like the shared OpenPATH samples or from
// synthetic users built by package tripgen.
//
// Behaviour that matters to a client, as the real server does it:
//
//   - token_list auth: the token is "user" in the JSON body; missing → 401, unknown → 403;
//   - getTrips selects trips by their LOCAL start date (properties.start_local_dt, else the date of
//     start_fmt_time), never by UTC date;
//   - find_entries filters on key_time (default metadata.write_ts; data.start_ts, data.end_ts or any
//     other path) with bounds inclusive on both ends, sorts by that time then _id, caps at 250,000
//     entries, and honours max_entries with trunc_method "last" and "sample"; like the real server it
//     answers 500 when a "first" truncation happens, when max_entries is not an integer, and when
//     trunc_method is missing but needed;
//   - timeline trips are also served as analysis/cleaned_trip and analysis/confirmed_trip entries
//     (data = the trip's properties: start_ts, start_fmt_time, start_local_dt, ...), with a
//     deterministic metadata.write_ts (the trip's end plus a stable 5 to 60 minutes), so a client can
//     discover trips by write time; labels/ and composite/ entries are served under their own keys,
//     and generated users' trips also as analysis/composite_trip entries (unless
//     Options.TimelineOnly), as current servers write them;
//   - get_range_ts spans the trip entries (as e-mission reads analysis/confirmed_trip), and
//     get_complete_ts is its end plus e-mission's 5 s END_FUZZ_AVOID_LTE;
//   - unknown routes redirect (301) to the OpenPATH web site, as Bottle's 404 handler does.
//
// Faults can be injected for tests: a fraction of requests answered 500, a fraction of 200 answers
// cut mid-JSON (half by closing the connection, half as a complete but short HTTP answer), and
// latency. Whether a request fails is decided from the seed, the request and how many times the same
// request was made, so a run is reproducible even with concurrent clients, and retries converge.
//
// At run time a test can add or replace a user ([Server.SetUser]), add labels that arrive later
// ([Server.AddLabels]), simulate a pipeline reset that re-processes every trip with new ids and
// write times but the same time spans ([Server.ResetPipeline]), and change the faults.
package devserver

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// MaxEntries is the cap the e-mission server puts on one find_entries answer.
const MaxEntries = openpath.ServerEntryCap

// Faults are the failures a Server injects.
type Faults struct {
	// FailRate is the fraction of requests answered 500, 0 to 1.
	FailRate float64
	// TruncateRate is the fraction of 200 answers cut mid-JSON, 0 to 1.
	TruncateRate float64
	// Latency is added before each answer.
	Latency time.Duration
}

func (f Faults) validate() error {
	switch {
	case f.FailRate < 0 || f.FailRate > 1 || math.IsNaN(f.FailRate):
		return fmt.Errorf("devserver: fail rate %v: want 0 to 1", f.FailRate)
	case f.TruncateRate < 0 || f.TruncateRate > 1 || math.IsNaN(f.TruncateRate):
		return fmt.Errorf("devserver: truncate rate %v: want 0 to 1", f.TruncateRate)
	case f.Latency < 0:
		return fmt.Errorf("devserver: latency %v: want >= 0", f.Latency)
	}
	return nil
}

// Options configures a Server.
type Options struct {
	// Faults to inject from the start; see [Server.SetFaults].
	Faults Faults
	// Seed makes fault injection reproducible.
	Seed int64
	// Logger receives one debug line per request (never a token) and warnings; nil discards.
	Logger *slog.Logger
	// TimelineOnly makes generated users an old server's: no analysis/composite_trip entries, so
	// that clients fetch their trips with getTrips. By default generated users are a current
	// server's, with a composite trip entry for each trip.
	TimelineOnly bool
}

// Server is an e-mission-compatible http.Handler. It is safe for concurrent use.
type Server struct {
	log  *slog.Logger
	seed uint64
	mux  *http.ServeMux
	// composite: generated users get composite trip entries (see Options.TimelineOnly).
	composite bool

	mu     sync.RWMutex
	users  map[string]*user // by token
	named  int
	faults Faults
	// withheld are trip ids getTrips leaves out (see Withhold); replaced, never changed in place.
	withheld map[string]bool

	faultMu  sync.Mutex
	attempts map[uint64]uint32

	statsMu sync.Mutex
	stats   Stats
}

// Stats counts what a Server answered.
type Stats struct {
	// Requests per route; getTrips counts as "/timeline/getTrips" whatever the day.
	Requests map[string]int64
	// Statuses counts answers per HTTP status (a truncated answer counts as 200).
	Statuses map[int]int64
	// Failed is how many 500s were injected, Truncated how many answers were cut.
	Failed    int64
	Truncated int64
}

// New returns a Server without users; add them with SetUser or AddGenerated.
func New(opts Options) (*Server, error) {
	if err := opts.Faults.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		log:       opts.Logger,
		seed:      uint64(opts.Seed),
		composite: !opts.TimelineOnly,
		users:     make(map[string]*user),
		faults:    opts.Faults,
		attempts:  make(map[uint64]uint32),
		stats:     Stats{Requests: map[string]int64{}, Statuses: map[int]int64{}},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /pipeline/get_range_ts", s.handle("/pipeline/get_range_ts", s.rangeTS))
	s.mux.HandleFunc("POST /pipeline/get_complete_ts", s.handle("/pipeline/get_complete_ts", s.completeTS))
	s.mux.HandleFunc("POST /datastreams/find_entries/{timeType}", s.handle("/datastreams/find_entries", s.findEntries))
	s.mux.HandleFunc("POST /timeline/getTrips/{day}", s.handle("/timeline/getTrips", s.getTrips))
	s.mux.HandleFunc("POST /profile/get", s.handle("/profile/get", s.profile))
	s.mux.HandleFunc("/", s.notFound)
	return s, nil
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetUser adds the user with token, or replaces their data: replacing with re-processed trips
// (new ids, same spans) is how a test simulates a pipeline reset by hand. It fails when a trip has
// no start times or local date, or an entry has no key or write time.
func (s *Server) SetUser(token string, data *UserData) error {
	if token == "" {
		return errors.New("devserver: empty token")
	}
	if data == nil {
		data = &UserData{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := s.nameFor(token)
	u, warnings, err := newStaticUser(name, derivedUUID(token), data)
	if err != nil {
		return fmt.Errorf("%w (user %s)", err, name)
	}
	for _, w := range warnings {
		s.log.Warn("devserver: "+w, "user", name)
	}
	s.users[token] = u
	return nil
}

// AddGenerated serves every user of gen under its profile token (user001, ...), replacing users with
// the same tokens, and returns the tokens. Trips are rebuilt from gen when served: as timeline
// trips (getTrips, analysis/cleaned_trip and analysis/confirmed_trip entries) and, unless
// [Options.TimelineOnly], as analysis/composite_trip entries written with their trip.
func (s *Server) AddGenerated(gen *tripgen.Generator) []string {
	profiles := gen.Users()
	tokens := make([]string, len(profiles))
	built := make([]*user, len(profiles))
	for i, p := range profiles {
		tokens[i] = p.Token
		built[i] = newGeneratedUser("", gen, i)
		built[i].composite = s.composite
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, u := range built {
		u.name = s.nameFor(tokens[i])
		s.users[tokens[i]] = u
	}
	return tokens
}

// nameFor returns the log name of token's user, keeping the name of a replaced user. s.mu is held.
func (s *Server) nameFor(token string) string {
	if u, ok := s.users[token]; ok {
		return u.name
	}
	s.named++
	return fmt.Sprintf("user#%d", s.named)
}

// AddLabels adds label entries (see [NewLabelEntry]) to a user, as when they label trips after the
// trips were synced.
func (s *Server) AddLabels(token string, entries ...json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[token]
	if !ok {
		return errors.New("devserver: AddLabels: no such user")
	}
	c := u.clone()
	for i, raw := range entries {
		e, err := staticEntry(raw)
		if err != nil {
			return fmt.Errorf("devserver: AddLabels: entry %d: %w", i, err)
		}
		c.entries = append(c.entries, e)
	}
	s.users[token] = c
	return nil
}

// ResetPipeline simulates a pipeline reset of the user at time at: every trip and analysis/* entry
// is re-processed, with new ids (all ObjectIds inside them are remapped consistently) and write
// times from at on, in trip order; time spans, local dates and labels are unchanged. Each call is a
// new reset.
func (s *Server) ResetPipeline(token string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[token]
	if !ok {
		return errors.New("devserver: ResetPipeline: no such user")
	}
	s.users[token] = u.reset(float64(at.UnixMicro()) / 1e6)
	return nil
}

// RemoveUser stops serving the user: their token now gets 403. It reports whether they existed.
func (s *Server) RemoveUser(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.users[token]
	delete(s.users, token)
	return ok
}

// SetFaults changes the faults injected from now on.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	return nil
}

// Summary describes a served user.
type Summary struct {
	// Name is the user's name in logs ("user#1"), never the token.
	Name string
	// UUID is the user_id the server gives derived entries.
	UUID string
	// Trips, Labels and Entries count timeline trips, label entries and other stored entries.
	Trips, Labels, Entries int
	// First and Last are the local dates of the first and last trips.
	First, Last openpath.Date
	// Resets counts pipeline resets.
	Resets int
}

// User describes the user with token; ok is false when there is none.
func (s *Server) User(token string) (sum Summary, ok bool) {
	s.mu.RLock()
	u, ok := s.users[token]
	s.mu.RUnlock()
	if !ok {
		return Summary{}, false
	}
	sum = Summary{Name: u.name, UUID: u.uuid, Trips: len(u.trips), Resets: u.generation}
	for _, e := range u.entries {
		if e.pipeline {
			sum.Entries++
		} else {
			sum.Labels++
		}
	}
	if len(u.trips) > 0 {
		sum.First, sum.Last = u.trips[0].date, u.trips[0].date
		for _, t := range u.trips {
			if t.date.Compare(sum.First) < 0 {
				sum.First = t.date
			}
			if t.date.Compare(sum.Last) > 0 {
				sum.Last = t.date
			}
		}
	}
	return sum, true
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	st := s.stats
	st.Requests = maps.Clone(s.stats.Requests)
	st.Statuses = maps.Clone(s.stats.Statuses)
	return st
}

// apiRequest is a parsed, authenticated request.
type apiRequest struct {
	r      *http.Request
	fields map[string]json.RawMessage
	u      *user
}

// answer is a handler's result: a JSON body, or an error status and message.
type answer struct {
	status int
	body   []byte
	msg    string
}

func jsonAnswer(body []byte) answer { return answer{status: http.StatusOK, body: body} }
func errorAnswer(status int, format string, args ...any) answer {
	return answer{status: status, msg: fmt.Sprintf(format, args...)}
}

// handle wraps a route handler with faults, auth, stats and logs.
func (s *Server) handle(route string, fn func(*apiRequest) answer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		s.mu.RLock()
		faults := s.faults
		s.mu.RUnlock()
		fail, trunc := s.decide(r.URL.Path, body, faults)
		if faults.Latency > 0 {
			t := time.NewTimer(faults.Latency)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		var ans answer
		var who string
		switch {
		case err != nil:
			ans = errorAnswer(http.StatusBadRequest, "request body: %v", err)
		case fail.hit:
			ans = errorAnswer(http.StatusInternalServerError, "Internal Server Error (injected fault)")
		default:
			req, bad := s.parse(r, body)
			if bad != nil {
				ans = *bad
			} else {
				who = req.u.name
				ans = fn(req)
			}
		}
		s.count(route, ans.status, fail.hit, ans.status == http.StatusOK && trunc.hit)
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "devserver: request",
			slog.String("route", r.URL.Path), slog.String("user", who), slog.Int("status", ans.status),
			slog.Int("bytes", len(ans.body)), slog.Duration("elapsed", time.Since(start)),
			slog.Bool("injected_failure", fail.hit), slog.Bool("truncated", ans.status == http.StatusOK && trunc.hit))
		if ans.status != http.StatusOK {
			writeError(w, r, ans.status, ans.msg)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if !trunc.hit || len(ans.body) < 2 {
			w.Header().Set("Content-Length", strconv.Itoa(len(ans.body)))
			_, _ = w.Write(ans.body)
			return
		}
		cut := 1 + int(trunc.at*float64(len(ans.body)-1))
		if trunc.alt {
			// A complete HTTP answer whose JSON stops short.
			w.Header().Set("Content-Length", strconv.Itoa(cut))
			_, _ = w.Write(ans.body[:cut])
			return
		}
		// The connection dies mid-answer.
		w.Header().Set("Content-Length", strconv.Itoa(len(ans.body)))
		_, _ = w.Write(ans.body[:cut])
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
}

// decision is one fault decision: whether it hits, where to cut, and which way.
type decision struct {
	hit bool
	at  float64
	alt bool
}

// decide draws the faults of a request from the seed, the request and its repetition count.
func (s *Server) decide(path string, body []byte, f Faults) (fail, trunc decision) {
	if f.FailRate == 0 && f.TruncateRate == 0 {
		return
	}
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "%d|%s|", s.seed, path)
	_, _ = h.Write(body)
	key := h.Sum64()
	s.faultMu.Lock()
	n := s.attempts[key]
	s.attempts[key] = n + 1
	s.faultMu.Unlock()
	x := splitmix(key ^ uint64(n+1)*0x9e3779b97f4a7c15)
	y := splitmix(x)
	z := splitmix(y)
	fail.hit = unit(x) < f.FailRate
	trunc = decision{hit: unit(y) < f.TruncateRate, at: unit(z), alt: splitmix(z)&1 == 1}
	return fail, trunc
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }

func (s *Server) count(route string, status int, failed, truncated bool) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.stats.Requests[route]++
	s.stats.Statuses[status]++
	if failed {
		s.stats.Failed++
	}
	if truncated {
		s.stats.Truncated++
	}
}

// parse reads the JSON body and authenticates the user (token_list).
func (s *Server) parse(r *http.Request, body []byte) (*apiRequest, *answer) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		a := errorAnswer(http.StatusBadRequest, "the body must be a JSON object")
		return nil, &a
	}
	raw, ok := fields["user"]
	if !ok {
		a := errorAnswer(http.StatusUnauthorized, "only a user can read his/her data")
		return nil, &a
	}
	var token string
	_ = json.Unmarshal(raw, &token)
	s.mu.RLock()
	u := s.users[token]
	s.mu.RUnlock()
	if u == nil || token == "" {
		a := errorAnswer(http.StatusForbidden, "token is valid, but no account found for user")
		return nil, &a
	}
	return &apiRequest{r: r, fields: fields, u: u}, nil
}

// writeError writes Bottle's HTML error page; the message goes in <pre> as Bottle puts it.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(status)
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	_, _ = fmt.Fprintf(w, `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html>
    <head>
        <title>Error: %s</title>
    </head>
    <body>
        <h1>Error: %s</h1>
        <p>Sorry, the requested URL <tt>&#039;%s&#039;</tt>
           caused an error:</p>
        <pre>%s</pre>
    </body>
</html>
`, text, text, html.EscapeString(r.URL.Path), html.EscapeString(msg))
}

// notFound answers unknown paths like the e-mission server: a redirect to the OpenPATH site; a
// known route with the wrong method gets 405.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	for _, p := range []string{"/pipeline/get_range_ts", "/pipeline/get_complete_ts", "/datastreams/find_entries/", "/timeline/getTrips/", "/profile/get"} {
		if r.URL.Path == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(r.URL.Path, p)) {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, r, http.StatusMethodNotAllowed, "Method not allowed.")
			s.count("other", http.StatusMethodNotAllowed, false, false)
			return
		}
	}
	s.count("other", http.StatusMovedPermanently, false, false)
	http.Redirect(w, r, "https://www.nrel.gov/transportation/openpath.html", http.StatusMovedPermanently)
}

// rangeTS answers get_range_ts as e-mission does: the first start and last end of the user's trip
// entries (the timeline trips, served as analysis/confirmed_trip); composite entries count only
// for a user without timeline trips.
func (s *Server) rangeTS(req *apiRequest) answer {
	lo, hi, ok := req.u.span()
	if !ok {
		return jsonAnswer([]byte(`{"start_ts": null, "end_ts": null}`))
	}
	return jsonAnswer(fmt.Appendf(nil, `{"start_ts": %s, "end_ts": %s}`, num(lo), num(hi)))
}

// endFuzz is e-mission's END_FUZZ_AVOID_LTE: complete_ts is the last trip's end plus 5 s.
const endFuzz = 5

// completeTS answers get_complete_ts: the end of the last processed trip plus endFuzz.
func (s *Server) completeTS(req *apiRequest) answer {
	_, hi, ok := req.u.span()
	if !ok {
		return jsonAnswer([]byte(`{"complete_ts": null}`))
	}
	return jsonAnswer(fmt.Appendf(nil, `{"complete_ts": %s}`, num(hi+endFuzz)))
}

// span returns the first start and last end of the user's trips, or of their analysis entries when
// they have no timeline trips.
func (u *user) span() (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, t := range u.trips {
		lo, hi = math.Min(lo, t.startTS), math.Max(hi, t.endTS)
	}
	if len(u.trips) == 0 {
		for _, e := range u.entries {
			if e.pipeline && !math.IsNaN(e.startTS) && !math.IsNaN(e.endTS) {
				lo, hi = math.Min(lo, e.startTS), math.Max(hi, e.endTS)
			}
		}
	}
	return lo, hi, lo <= hi
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (s *Server) profile(req *apiRequest) answer {
	return jsonAnswer(fmt.Appendf(nil, `{"user_id": {"$uuid": %q}, "mode": {}, "purpose": {}, "mpg_array": [], "source": "devserver"}`, req.u.uuid))
}

// getTrips answers getTrips/<day> with the trips whose local start date is day, in start order.
func (s *Server) getTrips(req *apiRequest) answer {
	day := req.r.PathValue("day")
	date, err := openpath.ParseDate(day)
	if err != nil {
		t, err2 := time.Parse("2006-1-2", day)
		if err2 != nil {
			return errorAnswer(http.StatusInternalServerError, "ValueError: Unknown string format: %s", day)
		}
		date = openpath.DateOf(t)
	}
	rd := newRenderer(req.u)
	buf := append(make([]byte, 0, 64<<10), `{"timeline": [`...)
	withheld := s.withheldTrips()
	sep := ""
	for _, t := range req.u.byDate[date] {
		if withheld[t.id] {
			continue
		}
		buf = append(buf, sep...)
		buf = rd.appendTrip(buf, t)
		sep = ", "
	}
	buf = append(buf, "]}"...)
	return jsonAnswer(buf)
}

// keyTimeOf returns the value of keyTime (the field find_entries filters and sorts on) for a trip
// or entry with these times; for another field it reads the rendered entry, and ok is false when
// the entry has no such number.
func keyTimeOf(keyTime string, writeTS, startTS, endTS float64, render func() []byte) (v float64, ok bool) {
	switch keyTime {
	case openpath.KeyTimeWriteTS:
		return writeTS, true
	case openpath.KeyTimeStartTS:
		return startTS, true
	case "data.end_ts":
		return endTS, true
	}
	r := gjson.GetBytes(render(), keyTime)
	return r.Float(), r.Type == gjson.Number
}

// candidate is one entry that may go into a find_entries answer.
type candidate struct {
	t     float64
	id    string
	key   string
	trip  *tripRecord
	entry *entryRecord
}

// findEntries answers find_entries/timestamp.
func (s *Server) findEntries(req *apiRequest) answer {
	if tt := req.r.PathValue("timeType"); tt != "timestamp" {
		return errorAnswer(http.StatusNotFound, "devserver: only find_entries/timestamp is implemented, not %q", tt)
	}
	f := req.fields
	if _, ok := f["from_local_date"]; ok {
		return errorAnswer(http.StatusBadRequest, "devserver: from_local_date/to_local_date queries are not implemented")
	}
	var keys []string
	if err := json.Unmarshal(f["key_list"], &keys); err != nil || f["key_list"] == nil {
		return errorAnswer(http.StatusInternalServerError, "KeyError: 'key_list' (want a list of keys)")
	}
	var lo, hi float64
	if err := json.Unmarshal(f["start_time"], &lo); err != nil || f["start_time"] == nil {
		return errorAnswer(http.StatusInternalServerError, "KeyError: 'start_time' (want seconds)")
	}
	if err := json.Unmarshal(f["end_time"], &hi); err != nil || f["end_time"] == nil {
		return errorAnswer(http.StatusInternalServerError, "KeyError: 'end_time' (want seconds)")
	}
	keyTime := openpath.KeyTimeWriteTS
	if raw, ok := f["key_time"]; ok {
		if err := json.Unmarshal(raw, &keyTime); err != nil || keyTime == "" {
			return errorAnswer(http.StatusInternalServerError, "invalid key_time")
		}
	}
	u, rd := req.u, newRenderer(req.u)
	var cands []candidate
	var scratch []byte
	for _, key := range uniq(keys) {
		if key == openpath.KeyCleanedTrip || key == openpath.KeyConfirmedTrip {
			for _, t := range u.trips {
				v, ok := keyTimeOf(keyTime, t.writeTS, t.startTS, t.endTS, func() []byte {
					scratch = rd.appendTripEntry(scratch[:0], t, key)
					return scratch
				})
				if !ok {
					continue
				}
				if lo <= v && v <= hi {
					id := t.id
					if key == openpath.KeyConfirmedTrip {
						id = derivedID(t.id+"|confirmed", t.writeTS)
					}
					cands = append(cands, candidate{t: v, id: id, key: key, trip: t})
				}
			}
		}
		if key == openpath.KeyCompositeTrip && u.composite {
			for _, t := range u.trips {
				v, ok := keyTimeOf(keyTime, t.writeTS, t.startTS, t.endTS, func() []byte {
					scratch = rd.appendComposite(scratch[:0], t)
					return scratch
				})
				if !ok {
					continue
				}
				if lo <= v && v <= hi {
					cands = append(cands, candidate{t: v, id: t.id, key: key, trip: t})
				}
			}
		}
		for _, e := range u.entries {
			if e.key != key {
				continue
			}
			v, ok := keyTimeOf(keyTime, e.writeTS, e.startTS, e.endTS, func() []byte {
				scratch = rd.appendEntry(scratch[:0], e)
				return scratch
			})
			if !ok {
				continue
			}
			if lo <= v && v <= hi { // false for NaN: entries without the field are not matched
				cands = append(cands, candidate{t: v, id: e.id, key: key, entry: e})
			}
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.t, b.t), strings.Compare(a.id, b.id))
	})
	if len(cands) > MaxEntries {
		cands = cands[:MaxEntries]
	}
	if raw, ok := f["max_entries"]; ok {
		me, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			return errorAnswer(http.StatusInternalServerError, "Invalid max_entries %s", raw)
		}
		if len(cands) > me {
			var method string
			if err := json.Unmarshal(f["trunc_method"], &method); err != nil {
				return errorAnswer(http.StatusInternalServerError, "KeyError: 'trunc_method'")
			}
			switch method {
			case "first":
				// The e-mission server truncates, then falls into its "unexpected method" branch.
				return errorAnswer(http.StatusInternalServerError, "sampling method not specified while retriving limited data")
			case "last": // Python's data_list[-me:]
				if me > 0 {
					cands = cands[len(cands)-me:]
				} else {
					cands = cands[min(-me, len(cands)):]
				}
			case "sample":
				if me <= 0 {
					return errorAnswer(http.StatusInternalServerError, "ZeroDivisionError: integer division or modulo by zero")
				}
				step := len(cands)/me + 1
				sampled := cands[:0]
				for i := 0; i < len(cands); i += step {
					sampled = append(sampled, cands[i])
				}
				cands = sampled
			default:
				return errorAnswer(http.StatusInternalServerError, "sampling method not specified while retriving limited data")
			}
		}
	}
	size := 1024
	for _, c := range cands {
		if c.trip != nil && c.key == openpath.KeyCompositeTrip {
			size += 48 << 10 // with its locations: a generated composite trip is about 43 kB
		} else {
			size += 1500
		}
	}
	buf := append(make([]byte, 0, size), `{"phone_data": [`...)
	for i, c := range cands {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		switch {
		case c.trip != nil && c.key == openpath.KeyCompositeTrip:
			buf = rd.appendComposite(buf, c.trip)
		case c.trip != nil:
			buf = rd.appendTripEntry(buf, c.trip, c.key)
		default:
			buf = rd.appendEntry(buf, c.entry)
		}
	}
	buf = append(buf, "]}"...)
	return jsonAnswer(buf)
}

func uniq(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// derivedUUID is the e-mission user id of a static user: derived from the token, not revealing it.
func derivedUUID(token string) string {
	id := derivedID("devserver-user|"+token, 0) + derivedID("devserver-uuid|"+token, 0)
	return id[8:24] + id[32:48]
}
