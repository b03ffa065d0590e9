package sqlitecouch

import (
	"fmt"
	"net/http"
)

// Error is a CouchDB-style error: an HTTP status, CouchDB's short error name and a reason.
// kivik.HTTPStatus reads its status, so callers handle both backends alike.
type Error struct {
	Status int    // HTTP status, e.g. 404, 409
	Name   string // CouchDB's error name, e.g. "not_found", "conflict"
	Reason string // what happened, for people
}

func (e *Error) Error() string {
	if e.Reason == "" {
		return e.Name
	}
	return e.Name + ": " + e.Reason
}

// HTTPStatus returns the HTTP status CouchDB would answer with.
func (e *Error) HTTPStatus() int { return e.Status }

func errNotFound(reason string) error {
	return &Error{Status: http.StatusNotFound, Name: "not_found", Reason: reason}
}

func errNoDB(name string) error {
	return &Error{Status: http.StatusNotFound, Name: "not_found", Reason: fmt.Sprintf("database %q does not exist", name)}
}

func errConflict() error {
	return &Error{Status: http.StatusConflict, Name: "conflict", Reason: "Document update conflict."}
}

func errBadRequest(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Name: "bad_request", Reason: fmt.Sprintf(format, args...)}
}

func errInvalidRev() error {
	return &Error{Status: http.StatusBadRequest, Name: "bad_request", Reason: "Invalid rev format"}
}

func errNotImplemented(what string) error {
	return &Error{Status: http.StatusNotImplemented, Name: "not_implemented", Reason: what + " is not supported by the embedded store"}
}
