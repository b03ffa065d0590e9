package openpath

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
)

// Sentinel errors, matched with errors.Is against the typed errors the client returns.
var (
	// ErrAuthRefused: the server refused the token (HTTP 401 or 403). Retrying will not help; the
	// user must check the token (opcode) and the server URL. Returned as an [*AuthError].
	ErrAuthRefused = errors.New("openpath: the server refused the token")
	// ErrServerDown: the server answered 5xx, timed out or could not be reached, on every attempt.
	// Returned as a [*ServerError].
	ErrServerDown = errors.New("openpath: the server is unavailable")
	// ErrMalformed: the server answered 200 with something that is not the JSON of the route, on
	// every attempt. Returned as a [*MalformedError].
	ErrMalformed = errors.New("openpath: malformed answer")
	// ErrAnswerTooLarge: an answer was larger than the client's cap ([WithMaxAnswerBytes]); the
	// client stopped reading it and did not retry. Returned as a [*MalformedError], so it also
	// matches [ErrMalformed].
	ErrAnswerTooLarge = errors.New("openpath: answer over the size cap")
	// ErrInvalidEntry: an entry or trip of a well-formed answer lacks a field its reader needs (see
	// [Entry.Label], [Entry.TripHeader], [TripHeader.StartDate]). Other entries are unaffected.
	ErrInvalidEntry = errors.New("openpath: entry lacks a required field")
)

// AuthError is a 401 or 403 answer. It matches [ErrAuthRefused].
type AuthError struct {
	// Route is the path that was refused, e.g. "/pipeline/get_range_ts".
	Route string
	// StatusCode is 401 (no user in the request) or 403 (unknown token).
	StatusCode int
	// Message is what the server said when the client recognizes it as one of e-mission's
	// messages, in the client's words (e.g. "no account found for this token"); empty otherwise. It
	// never quotes the answer, which may echo the token.
	Message string
}

// Error describes the refusal and what to check.
func (e *AuthError) Error() string {
	msg := fmt.Sprintf("openpath: POST %s: %d %s: the server refused the token; check the token (opcode) and the server URL",
		e.Route, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += " (server said: " + e.Message + ")"
	}
	return msg
}

// Is reports whether target is [ErrAuthRefused].
func (e *AuthError) Is(target error) bool { return target == ErrAuthRefused }

// ServerError is a request that failed on every attempt with a 5xx answer, a timeout or a connection
// error. It matches [ErrServerDown] and unwraps to the last attempt's cause.
type ServerError struct {
	// Route is the path requested.
	Route string
	// StatusCode is the last HTTP status, 0 when the last attempt got no answer.
	StatusCode int
	// Attempts is how many requests were made.
	Attempts int
	// Err is the last attempt's cause, in the client's words (e.g. "no answer: connection
	// refused"): never the text of a net/http error, which may name a URL a redirect chose.
	Err error
}

// Error names the route, the attempts and the last cause.
func (e *ServerError) Error() string {
	return fmt.Sprintf("openpath: POST %s: server unavailable after %d attempt(s): %v; try again later", e.Route, e.Attempts, e.Err)
}

// Is reports whether target is [ErrServerDown].
func (e *ServerError) Is(target error) bool { return target == ErrServerDown }

// Unwrap returns the last attempt's cause.
func (e *ServerError) Unwrap() error { return e.Err }

// MalformedError is a 200 answer that is not the JSON its route promises (truncated, invalid, of
// the wrong shape, or without its payload) on every attempt, or an answer over the size cap. It
// matches [ErrMalformed], and [ErrAnswerTooLarge] for the latter.
type MalformedError struct {
	// Route is the path requested.
	Route string
	// Offset is the byte offset in the last answer at which it stopped making sense; for a
	// truncated answer, how many bytes arrived.
	Offset int64
	// Attempts is how many requests were made.
	Attempts int
	// Err describes the fault in the client's words; it never quotes the answer.
	Err error
}

// Error names the route, the byte offset and the fault.
func (e *MalformedError) Error() string {
	return fmt.Sprintf("openpath: POST %s: malformed answer at byte %d (after %d attempt(s)): %v; is the URL an e-mission server?",
		e.Route, e.Offset, e.Attempts, e.Err)
}

// Is reports whether target is [ErrMalformed].
func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

// Unwrap returns the fault.
func (e *MalformedError) Unwrap() error { return e.Err }

// StatusError is an answer with a status the client does not retry and that is not an auth refusal:
// a redirect (the URL is probably wrong) or a 4xx such as 400 or 404.
type StatusError struct {
	// Route is the path requested.
	Route string
	// StatusCode is the HTTP status.
	StatusCode int
	// Redirect says where a 3xx answer sends the client, as seen from the client's server URL: "to
	// another host", "to another path on the same host", or "to https on the same host: try
	// https://host/path". The Location header itself is not kept: it may carry the token.
	Redirect string
	// Message is what the server said when the client recognizes it, in the client's words (see
	// [AuthError.Message]); empty otherwise.
	Message string
}

// Error names the route and the status, and the redirect target if any.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("openpath: POST %s: unexpected answer %d %s", e.Route, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Redirect != "" {
		msg += "; the server redirects " + e.Redirect + ": check the server URL"
	}
	if e.Message != "" {
		msg += " (server said: " + e.Message + ")"
	}
	return msg
}

// Faults of the transport, in the client's words. An error of net/http names the URL (which a
// redirect may have chosen) and its causes may quote the server (a certificate's names): only
// their classification is kept.
var (
	errTimeout   = errors.New("timed out")
	errRefused   = errors.New("connection refused")
	errReset     = errors.New("connection reset")
	errClosed    = errors.New("the server closed the connection")
	errNoHost    = errors.New("the server's host name does not resolve")
	errTLS       = errors.New("TLS handshake or certificate refused")
	errRedirect  = errors.New("the server redirects to an unreadable location: check the server URL")
	errTransport = errors.New("connection failed")
)

// transportFault classifies a failure to get or read an answer as one of the errors above.
func transportFault(err error) error {
	var (
		dns       *net.DNSError
		netErr    net.Error
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		alert     tls.AlertError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &dns):
		return errNoHost
	case errors.Is(err, syscall.ECONNREFUSED):
		return errRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return errReset
	case errors.As(err, &verify), errors.As(err, &record), errors.As(err, &alert),
		errors.As(err, &authority), errors.As(err, &hostname), errors.As(err, &invalid):
		return errTLS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return errTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errClosed
	case strings.Contains(err.Error(), "failed to parse Location header"):
		// An http.Client given with WithHTTPClient quotes the Location it could not parse; the
		// text is matched, never kept.
		return errRedirect
	}
	return errTransport
}

// serverSays recognizes the explanation of an error answer (Bottle's HTML page, a JSON object) as
// one of the messages e-mission servers send, and returns it in the client's words; "" when it
// recognizes none. The answer's text is matched, never returned: whatever it holds, the token
// included, cannot reach an error.
func serverSays(body []byte) string {
	text := strings.ToLower(html.UnescapeString(string(body)))
	switch {
	case strings.Contains(text, "no account found for user"):
		return "no account found for this token"
	case strings.Contains(text, "not found in list of length"):
		return "the token is not in the server's token list"
	case strings.Contains(text, "only a user can read his/her data"):
		return "the request names no user"
	case strings.Contains(text, "invalid max_entries"):
		return "max_entries refused"
	case strings.Contains(text, "sampling method not specified"), strings.Contains(text, "keyerror: 'trunc_method'"):
		return "trunc_method refused"
	case strings.Contains(text, "unknown string format"):
		return "the server could not read the date"
	case strings.Contains(text, "injected fault"):
		return "injected fault (devserver)"
	}
	return ""
}

// redirectHint says where a redirect sends the client, comparing its Location (resolved against
// the request URL) with the client's server URL base. Only base's text and fixed words are
// returned.
func redirectHint(base, request *url.URL, location string) string {
	if location == "" {
		return "without saying where"
	}
	to, err := request.Parse(location)
	if err != nil {
		return "to an unreadable location"
	}
	if !strings.EqualFold(to.Hostname(), base.Hostname()) {
		return "to another host"
	}
	for _, scheme := range []string{"http", "https"} {
		if to.Scheme == scheme && base.Scheme != scheme {
			return "to " + scheme + " on the same host: try " + scheme + "://" + base.Hostname() + strings.TrimRight(base.EscapedPath(), "/")
		}
	}
	return "to another path on the same host"
}
