package openpath

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/retry"
)

// Route names an API route in [Stats] and errors.
type Route string

// The routes the client calls.
const (
	RouteRangeTS     Route = "/pipeline/get_range_ts"
	RouteCompleteTS  Route = "/pipeline/get_complete_ts"
	RouteFindEntries Route = "/datastreams/find_entries/timestamp"
	// RouteGetTrips is counted as one route whatever the day; requests go to RouteGetTrips + "/<day>".
	RouteGetTrips Route = "/timeline/getTrips"
)

// RetryPolicy bounds the retries of a request. Retried: 5xx and 429 answers, timeouts, connection
// errors, and 200 answers that are truncated or malformed. Never retried: 401/403, other 4xx,
// redirects, answers over the size cap ([WithMaxAnswerBytes]: the same request would get the same
// answer, and fetching it again costs as much), and a cancelled context.
type RetryPolicy struct {
	// MaxRetries is how many times a failed request is sent again; 0 means one attempt only.
	MaxRetries int
	// InitialBackoff is the delay before the first retry. It doubles at each retry up to MaxBackoff,
	// and each delay is drawn at random between half of it and all of it (jitter). A Retry-After
	// header, when longer, is honoured up to MaxBackoff.
	InitialBackoff time.Duration
	// MaxBackoff caps the delay between two attempts.
	MaxBackoff time.Duration
}

// DefaultRetryPolicy returns the policy a client uses unless told otherwise: 4 retries, backoff from
// 500ms up to 30s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 4, InitialBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}
}

// DefaultRequestTimeout bounds one attempt (sending the request and reading the whole answer) unless
// [WithRequestTimeout] says otherwise. getTrips on a busy day can take the server a while.
const DefaultRequestTimeout = 2 * time.Minute

// DefaultMaxAnswerBytes caps one answer unless [WithMaxAnswerBytes] says otherwise: 64 MiB. Real
// answers are far smaller: the busiest day of the shared samples is 0.9 MB through getTrips (22
// trips with all their points), and a composite trip entry is 35 to 50 kB, so a full find_entries
// window of a sync (it halves its window past 400 entries) is about 20 MB. 64 MiB leaves three times
// that while bounding what a broken or hostile server can make the client read and hold: the
// decoded entries are kept, so memory grows with the answer.
const DefaultMaxAnswerBytes int64 = 64 << 20

// Option configures a [Client].
type Option func(*Client)

// WithHTTPClient makes the client send its requests with hc. The client does not change hc; note
// that a client following redirects turns a POST into a GET, which servers refuse. Without it the
// client sends through its own transport and never follows a redirect: it reports it.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.send = hc.Do
		}
	}
}

// WithRequestTimeout bounds each attempt, from sending the request to reading the last byte of the
// answer. An attempt that times out is retried.
func WithRequestTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithMaxAnswerBytes caps the size of one answer (default [DefaultMaxAnswerBytes]). The cap is
// enforced while the answer streams in: the client stops reading at n bytes and fails with an
// [ErrAnswerTooLarge] error (an [ErrMalformed] one too), without retrying. An answer declaring a
// larger Content-Length fails before any byte is read.
func WithMaxAnswerBytes(n int64) Option { return func(c *Client) { c.maxAnswer = n } }

// WithRetryPolicy replaces [DefaultRetryPolicy].
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithLogger makes the client log requests (debug) and retries (warn) to l. The token is never
// logged. Without it the client logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// secret holds the token; every way of printing it prints a placeholder. The token leaves it only
// for the body of a request (reveal).
type secret string

const redacted = "[REDACTED]"

func (secret) String() string             { return redacted }
func (secret) GoString() string           { return redacted }
func (secret) LogValue() slog.Value       { return slog.StringValue(redacted) }
func (secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }
func (s secret) reveal() string           { return string(s) }

// Client calls one user's routes on one e-mission server. It is safe for concurrent use.
//
// The token goes only into the JSON body of requests. Errors and log lines are built only from the
// client's own text (route, status, counts, byte offsets, and fixed words for the faults and the
// e-mission messages it recognizes), never from an answer's body or headers nor from the text of a
// net/http or encoding/json error: a server echoing the token, in any escaping, cannot bring it
// into an error. Formatting a Client (%v, %#v, slog) shows only the server URL.
type Client struct {
	base    string
	baseURL *url.URL // base, parsed
	token   secret
	// send sends a request: an http.Client's Do, or a transport's RoundTrip, which follows no
	// redirect and so never parses (nor quotes in an error) a Location header.
	send    func(*http.Request) (*http.Response, error)
	timeout time.Duration
	// maxAnswer caps the bytes of one answer.
	maxAnswer int64
	retry     RetryPolicy
	log       *slog.Logger
	stats     statsRecorder
}

// New returns a client for the server at serverURL (e.g. "https://openpath.example.org", a path
// prefix is kept) and the user whose token (opcode) is token.
func New(serverURL, token string, opts ...Option) (*Client, error) {
	// The URL is not quoted back: a token pasted into it would land in the error.
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("openpath: the server URL is not of the form http(s)://host[:port][/path]")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("openpath: the server URL has a query, fragment or user: give only http(s)://host[:port][/path]")
	}
	if token == "" {
		return nil, errors.New("openpath: the token is empty: give the user's opcode")
	}
	c := &Client{
		base:      strings.TrimRight(u.String(), "/"),
		baseURL:   u,
		token:     secret(token),
		timeout:   DefaultRequestTimeout,
		maxAnswer: DefaultMaxAnswerBytes,
		retry:     DefaultRetryPolicy(),
		log:       slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(c)
	}
	if c.send == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 8
		// A redirected POST becomes a GET the server refuses: the transport alone reports the
		// redirect instead of following it.
		c.send = tr.RoundTrip
	}
	if c.maxAnswer <= 0 {
		return nil, fmt.Errorf("openpath: answer size cap %d: want > 0 bytes", c.maxAnswer)
	}
	if c.timeout <= 0 {
		return nil, fmt.Errorf("openpath: request timeout %v: want > 0", c.timeout)
	}
	if c.retry.MaxRetries < 0 || c.retry.InitialBackoff < 0 || c.retry.MaxBackoff < c.retry.InitialBackoff {
		return nil, fmt.Errorf("openpath: retry policy %+v: want MaxRetries >= 0 and 0 <= InitialBackoff <= MaxBackoff", c.retry)
	}
	return c, nil
}

// String describes the client without its token.
func (c *Client) String() string { return "openpath.Client(" + c.base + ")" }

// GoString describes the client without its token.
func (c *Client) GoString() string { return c.String() }

// LogValue describes the client for slog without its token.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ServerURL returns the server URL the client calls, without a trailing slash.
func (c *Client) ServerURL() string { return c.base }

// Stats returns a snapshot of the requests the client made since it was created.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// PipelineRange is the span of a user's processed data, from get_range_ts.
type PipelineRange struct {
	// StartTS and EndTS bound the processed data, seconds since the epoch; 0 when Empty.
	StartTS float64
	EndTS   float64
	// Empty is true when the server has processed nothing yet for the user: it answered
	// {"start_ts": null, "end_ts": null}.
	Empty bool
}

// PipelineRange asks /pipeline/get_range_ts for the span of the user's processed data. An answer
// without both fields, or with only one of them null, is an [ErrMalformed] error, never Empty.
func (c *Client) PipelineRange(ctx context.Context) (PipelineRange, error) {
	var pr PipelineRange
	err := c.call(ctx, RouteRangeTS, string(RouteRangeTS), c.userBody(), func(r io.Reader) (int, error) {
		v, err := decodeTimes(r, "start_ts", "end_ts")
		if err != nil {
			return 0, err
		}
		switch {
		case v[0] == nil && v[1] == nil:
			pr = PipelineRange{Empty: true}
		case v[0] == nil || v[1] == nil:
			return 0, &parseError{Offset: 0, Err: errors.New("one of start_ts and end_ts is null, not both")}
		default:
			pr = PipelineRange{StartTS: *v[0], EndTS: *v[1]}
		}
		return 1, nil
	})
	return pr, err
}

// CompleteTS asks /pipeline/get_complete_ts for the time before which the user's data is final. ok
// is false when the server has no such time yet (it answered {"complete_ts": null}); an answer
// without the field is an [ErrMalformed] error.
func (c *Client) CompleteTS(ctx context.Context) (ts float64, ok bool, err error) {
	err = c.call(ctx, RouteCompleteTS, string(RouteCompleteTS), c.userBody(), func(r io.Reader) (int, error) {
		v, err := decodeTimes(r, "complete_ts")
		if err != nil {
			return 0, err
		}
		ts, ok = 0, false
		if v[0] != nil {
			ts, ok = *v[0], true
		}
		return 1, nil
	})
	return ts, ok, err
}

// TruncMethod says which entries find_entries keeps when more than MaxEntries match.
//
// There is no constant for "first": e-mission servers answer 500 when a "first" truncation actually
// happens (a server bug), so it cannot page forward; narrow the time window instead.
type TruncMethod string

// Truncation methods.
const (
	// TruncLast keeps the MaxEntries latest entries.
	TruncLast TruncMethod = "last"
	// TruncSample keeps every n-th entry, n = len/MaxEntries + 1.
	TruncSample TruncMethod = "sample"
)

// EntryQuery selects entries for [Client.FindEntries].
type EntryQuery struct {
	// Keys lists the entry keys to return, e.g. [KeyConfirmedTrip] and the [LabelKeys].
	Keys []string
	// Start and End bound KeyTime, inclusive on both ends, in seconds since the epoch.
	Start, End float64
	// KeyTime is the field Start and End filter and the answer is sorted on; empty means
	// [KeyTimeWriteTS] (when the pipeline wrote the entry). [KeyTimeStartTS] filters on trip time.
	KeyTime string
	// MaxEntries, when > 0, caps the answer; Trunc then says which entries are kept.
	MaxEntries int
	// Trunc is required when MaxEntries > 0.
	Trunc TruncMethod
}

// FindEntries asks /datastreams/find_entries/timestamp for the entries matching q, sorted by
// q.KeyTime then _id, as the server sorts them. Each entry keeps its exact JSON in Raw; the answer is
// streamed and nothing else of it is held. See [ServerEntryCap] for the server's own cap. An answer
// without its "phone_data" list ({}, {"phone_data": null}, {"error": ...}) is an [ErrMalformed]
// error, never "no entries": the server answers {"phone_data": []} when nothing matches.
func (c *Client) FindEntries(ctx context.Context, q EntryQuery) ([]Entry, error) {
	if len(q.Keys) == 0 {
		return nil, errors.New("openpath: find_entries: no keys: name at least one entry key")
	}
	if q.End < q.Start {
		return nil, fmt.Errorf("openpath: find_entries: End %v is before Start %v", q.End, q.Start)
	}
	if q.MaxEntries < 0 || (q.MaxEntries > 0 && q.Trunc == "") {
		return nil, errors.New("openpath: find_entries: MaxEntries needs a Trunc method (TruncLast or TruncSample)")
	}
	if math.IsInf(q.Start, 0) || math.IsInf(q.End, 0) || math.IsNaN(q.Start) || math.IsNaN(q.End) {
		return nil, errors.New("openpath: find_entries: Start and End must be finite")
	}
	body, err := json.Marshal(struct {
		User        string      `json:"user"`
		KeyList     []string    `json:"key_list"`
		StartTime   float64     `json:"start_time"`
		EndTime     float64     `json:"end_time"`
		KeyTime     string      `json:"key_time,omitempty"`
		MaxEntries  int         `json:"max_entries,omitempty"`
		TruncMethod TruncMethod `json:"trunc_method,omitempty"`
	}{c.token.reveal(), q.Keys, q.Start, q.End, q.KeyTime, q.MaxEntries, q.Trunc})
	if err != nil {
		// Not quoted: the body being encoded holds the token.
		return nil, errors.New("openpath: find_entries: the query could not be encoded")
	}
	var entries []Entry
	err = c.call(ctx, RouteFindEntries, string(RouteFindEntries), body, func(r io.Reader) (int, error) {
		entries = entries[:0]
		validated, err := decodeList(r, "phone_data", func(raw json.RawMessage) error {
			entries = append(entries, parseEntry(raw))
			return nil
		})
		for i := range entries {
			entries[i].validated = validated
		}
		return len(entries), err
	})
	if err != nil {
		return nil, err
	}
	return entries, nil
}

// Trips asks /timeline/getTrips/<day> for the trips whose local start date is day, in the server's
// order. Each trip keeps its exact FeatureCollection in Raw; a day without trips (the server
// answers {"timeline": []}) is an empty slice. An answer without its "timeline" list is an
// [ErrMalformed] error, never "no trips".
func (c *Client) Trips(ctx context.Context, day Date) ([]Trip, error) {
	if !day.Valid() {
		return nil, fmt.Errorf("openpath: getTrips: invalid date %v", day)
	}
	var trips []Trip
	path := string(RouteGetTrips) + "/" + day.String()
	err := c.call(ctx, RouteGetTrips, path, c.userBody(), func(r io.Reader) (int, error) {
		trips = trips[:0]
		_, err := decodeList(r, "timeline", func(raw json.RawMessage) error {
			trips = append(trips, parseTrip(raw))
			return nil
		})
		return len(trips), err
	})
	if err != nil {
		return nil, err
	}
	return trips, nil
}

func (c *Client) userBody() []byte {
	b, _ := json.Marshal(struct {
		User string `json:"user"`
	}{c.token.reveal()})
	return b
}

// attemptError is the outcome of one failed attempt.
type attemptError struct {
	kind       failureKind
	status     int
	offset     int64
	retryAfter time.Duration
	says       string // what the server said, in the client's words (see serverSays)
	// err describes the failure in the client's own text only.
	err error
}

type failureKind int

const (
	failTransport failureKind = iota // no answer, timeout, connection error
	failStatus                       // 5xx or 429
	failMalformed                    // 200 with a broken body
	failTooLarge                     // 200 with a body over the cap: final
	failAuth                         // 401/403: final
	failOther                        // other status: final
)

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// call posts body to path, retrying per the policy, and hands a 2xx answer to decode, which returns
// how many items it read. decode must reset its results: it runs again on a retry.
func (c *Client) call(ctx context.Context, route Route, path string, body []byte, decode func(io.Reader) (int, error)) error {
	c.stats.call(route)
	attempts := 0
	err := retry.Do(ctx, c.retryPolicy(ctx, route, path), func(attempt int) error {
		attempts = attempt
		items, aerr := c.attempt(ctx, route, path, body, decode)
		if aerr != nil {
			return aerr
		}
		c.stats.items(route, items)
		return nil
	})
	if err == nil {
		return nil
	}
	c.stats.fail(route)
	var in *retry.Interrupted
	switch {
	case errors.As(err, &in):
		return fmt.Errorf("openpath: POST %s: %w (while waiting to retry after: %v)", path, ctxErr(ctx), in.Err)
	case ctx.Err() != nil:
		return fmt.Errorf("openpath: POST %s: %w", path, ctxErr(ctx))
	}
	var aerr *attemptError
	if !errors.As(err, &aerr) {
		return fmt.Errorf("openpath: POST %s: %w", path, err)
	}
	return c.finalError(path, attempts, aerr)
}

// retryPolicy is the client's [RetryPolicy] for one call: exponential backoff with equal jitter,
// a Retry-After header honoured up to MaxBackoff; a final failure, or a done ctx, is not retried.
func (c *Client) retryPolicy(ctx context.Context, route Route, path string) retry.Policy {
	return retry.Policy{
		Attempts: c.retry.MaxRetries + 1,
		Initial:  c.retry.InitialBackoff,
		Max:      c.retry.MaxBackoff,
		Jitter:   retry.EqualJitter,
		Retryable: func(err error) bool {
			var aerr *attemptError
			return ctx.Err() == nil && errors.As(err, &aerr) &&
				aerr.kind != failAuth && aerr.kind != failOther && aerr.kind != failTooLarge
		},
		RetryAfter: func(err error) time.Duration {
			var aerr *attemptError
			if errors.As(err, &aerr) {
				return aerr.retryAfter
			}
			return 0
		},
		OnRetry: func(attempt int, delay time.Duration, err error) {
			c.stats.retry(route)
			c.log.LogAttrs(ctx, slog.LevelWarn, "openpath: retrying",
				slog.String("route", path), slog.Int("attempt", attempt), slog.Duration("delay", delay),
				slog.String("error", err.Error()))
		},
	}
}

// ctxErr is the error of a done context, with its cause when one was given.
func ctxErr(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("%w: %w", err, cause)
	}
	return err
}

// finalError turns the last failed attempt into the error the caller gets.
func (c *Client) finalError(path string, attempts int, aerr *attemptError) error {
	switch aerr.kind {
	case failAuth:
		return &AuthError{Route: path, StatusCode: aerr.status, Message: aerr.says}
	case failOther:
		var se *StatusError
		if errors.As(aerr.err, &se) {
			return se
		}
		return &StatusError{Route: path, StatusCode: aerr.status, Message: aerr.says}
	case failMalformed, failTooLarge:
		return &MalformedError{Route: path, Offset: aerr.offset, Attempts: attempts, Err: aerr.err}
	default:
		return &ServerError{Route: path, StatusCode: aerr.status, Attempts: attempts, Err: aerr.err}
	}
}

// attempt sends one request and decodes its answer.
func (c *Client) attempt(ctx context.Context, route Route, path string, body []byte, decode func(io.Reader) (int, error)) (int, *attemptError) {
	actx, cancel := context.WithTimeoutCause(ctx, c.timeout, errAttemptTimeout)
	defer cancel()
	start := time.Now()
	c.stats.request(route)
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, &attemptError{kind: failOther, err: errors.New("the request could not be built")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "coachco2-openpath-client")
	resp, err := c.send(req)
	if err != nil {
		// err names the URL, which a redirect followed by a caller's http.Client may have chosen:
		// only its classification is kept.
		aerr := &attemptError{kind: failTransport, err: c.transportErr(actx, err)}
		c.logAttempt(ctx, path, 0, 0, start, aerr.err)
		return 0, aerr
	}
	defer resp.Body.Close()
	cr := &countingReader{r: resp.Body}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		aerr := c.statusFailure(path, req.URL, resp, cr)
		c.stats.bytes(route, cr.n)
		c.logAttempt(ctx, path, resp.StatusCode, cr.n, start, aerr.err)
		return 0, aerr
	}
	if resp.ContentLength > c.maxAnswer {
		aerr := &attemptError{kind: failTooLarge, status: resp.StatusCode, err: &tooLargeError{limit: c.maxAnswer, declared: resp.ContentLength}}
		c.logAttempt(ctx, path, resp.StatusCode, 0, start, aerr.err)
		return 0, aerr
	}
	cr.r = &cappedReader{r: resp.Body, left: c.maxAnswer, limit: c.maxAnswer}
	cr.hint = resp.ContentLength
	items, err := decode(cr)
	c.stats.bytes(route, cr.n)
	if err == nil {
		// Drain what follows the answer so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		c.logAttempt(ctx, path, resp.StatusCode, cr.n, start, nil)
		return items, nil
	}
	aerr := c.decodeFailure(ctx, actx, resp.StatusCode, cr, err)
	c.logAttempt(ctx, path, resp.StatusCode, cr.n, start, aerr.err)
	return 0, aerr
}

// decodeFailure classifies an answer decode could not read, in the client's own text.
func (c *Client) decodeFailure(ctx, actx context.Context, status int, cr *countingReader, err error) *attemptError {
	var tl *tooLargeError
	if errors.As(cr.err, &tl) {
		return &attemptError{kind: failTooLarge, status: status, offset: cr.n, err: tl}
	}
	if cr.err != nil {
		// The body stopped arriving: a timeout, or a connection cut mid-answer.
		if errors.Is(context.Cause(actx), errAttemptTimeout) || ctx.Err() != nil {
			return &attemptError{kind: failTransport, status: status, err: c.transportErr(actx, cr.err)}
		}
		return &attemptError{kind: failMalformed, offset: cr.n, err: fmt.Errorf("answer cut after %d bytes: %w", cr.n, transportFault(cr.err))}
	}
	var pe *parseError
	if errors.As(err, &pe) {
		offset := pe.Offset
		if errors.Is(pe.Err, io.ErrUnexpectedEOF) {
			offset = cr.n // a truncated answer: where it stopped
		}
		return &attemptError{kind: failMalformed, offset: offset, err: pe.Err}
	}
	return &attemptError{kind: failMalformed, offset: cr.n, err: errInvalidJSON}
}

var errAttemptTimeout = errors.New("request timed out")

func (c *Client) logAttempt(ctx context.Context, path string, status int, n int64, start time.Time, err error) {
	level := slog.LevelDebug
	if !c.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("route", path), slog.Int("status", status), slog.Int64("bytes", n),
		slog.Duration("elapsed", time.Since(start))}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log.LogAttrs(ctx, level, "openpath: request", attrs...)
}

// transportErr describes a failure to get or read an answer, in the client's own text.
func (c *Client) transportErr(actx context.Context, err error) error {
	if errors.Is(context.Cause(actx), errAttemptTimeout) {
		return fmt.Errorf("no complete answer within %v: %w", c.timeout, errAttemptTimeout)
	}
	return fmt.Errorf("no answer: %w", transportFault(err))
}

// statusFailure classifies a non-2xx answer. Of the answer it keeps the status, what the server
// said when the client recognizes it (serverSays) and where a redirect goes as seen from the
// client (redirectHint): never the body's or the headers' text.
func (c *Client) statusFailure(path string, reqURL *url.URL, resp *http.Response, body io.Reader) *attemptError {
	b, _ := io.ReadAll(io.LimitReader(body, 8<<10))
	says := serverSays(b)
	status := resp.StatusCode
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if says != "" {
		text += " (server said: " + says + ")"
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &attemptError{kind: failAuth, status: status, says: says, err: errors.New(text)}
	case status == http.StatusTooManyRequests || status >= 500:
		return &attemptError{kind: failStatus, status: status, says: says, retryAfter: retryAfter(resp.Header.Get("Retry-After")), err: errors.New(text)}
	default:
		se := &StatusError{Route: path, StatusCode: status, Message: says}
		if status >= 300 && status < 400 {
			se.Redirect = redirectHint(c.baseURL, reqURL, resp.Header.Get("Location"))
		}
		return &attemptError{kind: failOther, status: status, says: says, err: se}
	}
}

// retryAfter reads a Retry-After header given in seconds; 0 when absent or a date.
func retryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// tooLargeError is an answer over the client's cap. It matches [ErrAnswerTooLarge].
type tooLargeError struct {
	limit    int64
	declared int64 // the Content-Length the server announced; 0 when it did not
}

func (e *tooLargeError) Error() string {
	msg := fmt.Sprintf("the answer is larger than the client's cap of %d bytes", e.limit)
	if e.declared > 0 {
		msg = fmt.Sprintf("the answer announces %d bytes, more than the client's cap of %d bytes", e.declared, e.limit)
	}
	return msg + " (see WithMaxAnswerBytes); not retried: it would be as large again"
}

func (e *tooLargeError) Is(target error) bool { return target == ErrAnswerTooLarge }

// cappedReader reads at most limit bytes of r, then fails with a *tooLargeError if r has more.
type cappedReader struct {
	r     io.Reader
	left  int64 // bytes still allowed
	limit int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// At the cap: one more byte means the answer is over it.
		var probe [1]byte
		n, err := c.r.Read(probe[:])
		if n > 0 {
			return 0, &tooLargeError{limit: c.limit}
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// countingReader counts the bytes read and remembers the first read error other than io.EOF.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
	// hint is the answer's declared length (Content-Length), -1 or 0 when unknown.
	hint int64
}

// sizeHint lets decodeList read the answer in one allocation.
func (cr *countingReader) sizeHint() int64 { return cr.hint }

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	if err != nil && err != io.EOF && cr.err == nil {
		cr.err = err
	}
	return n, err
}
