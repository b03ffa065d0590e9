package openpath

import (
	"errors"
	"fmt"
	"net/http"
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
	// Message is the server's explanation, shortened, with the token removed.
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
	// Err is the last attempt's cause.
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

// MalformedError is a 200 answer that is not the JSON its route promises (truncated, invalid, or of
// the wrong shape) on every attempt. It matches [ErrMalformed].
type MalformedError struct {
	// Route is the path requested.
	Route string
	// Offset is the byte offset in the last answer at which it stopped making sense; for a
	// truncated answer, how many bytes arrived.
	Offset int64
	// Attempts is how many requests were made.
	Attempts int
	// Err describes the fault.
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
	// Location is the redirect target for 3xx answers.
	Location string
	// Message is the server's explanation, shortened, with the token removed.
	Message string
}

// Error names the route and the status, and the redirect target if any.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("openpath: POST %s: unexpected answer %d %s", e.Route, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Location != "" {
		msg += "; the server redirects to " + e.Location + ": check the server URL"
	}
	if e.Message != "" {
		msg += " (server said: " + e.Message + ")"
	}
	return msg
}
