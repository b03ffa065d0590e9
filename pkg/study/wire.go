package study

import "fmt"

// The collector's answers (docs/collector-api.md), shared here so that a participant's app reads
// them without importing the collector.

// EntryStatus says what the collector did with one contribution of a batch.
type EntryStatus string

// The outcomes of a contribution.
const (
	// EntryCreated: the first contribution of that pseudonym for that measure and period.
	EntryCreated EntryStatus = "created"
	// EntryReplaced: a resend with other numbers, profile or version replaced the earlier one.
	EntryReplaced EntryStatus = "replaced"
	// EntryUnchanged: a resend identical to what was stored; nothing changed.
	EntryUnchanged EntryStatus = "unchanged"
)

// StoredEntry is one contribution of a batch as stored.
type StoredEntry struct {
	Measure MeasureID   `json:"measure"`
	Period  Period      `json:"period"`
	Status  EntryStatus `json:"status"`
}

// BatchResult is the answer (200) to POST /studies/{id}/contributions: the whole batch is stored.
type BatchResult struct {
	StudyID      string        `json:"study_id"`
	StudyVersion int           `json:"study_version"`
	Created      int           `json:"created"`
	Replaced     int           `json:"replaced"`
	Unchanged    int           `json:"unchanged"`
	Stored       []StoredEntry `json:"stored"`
}

// WithdrawalResult is the answer (200) to DELETE /studies/{id}/participants/{pseudonym}.
type WithdrawalResult struct {
	StudyID string `json:"study_id"`
	// Deleted is the number of contributions deleted (0 when there was none, or on a repeated
	// withdrawal).
	Deleted int `json:"deleted"`
	// Contributions are the measures and periods deleted.
	Contributions []Key `json:"contributions"`
}

// Codes of the collector's HTTP answers, besides those of contributions and descriptors.
const (
	CodeUnknownStudy         Code = "unknown_study"          // 404: no such study at this collector
	CodeWithdrawn            Code = "withdrawn"              // 410: the pseudonym was withdrawn
	CodeVersionConflict      Code = "version_conflict"       // 409: PUT of a changed or older descriptor version
	CodeBodyTooLarge         Code = "body_too_large"         // 413: body over MaxBatchBytes
	CodeUnsupportedMediaType Code = "unsupported_media_type" // 415: not Content-Type: application/json
	CodeUnauthorized         Code = "unauthorized"           // 401: admin route without the token
	CodeRateLimited          Code = "rate_limited"           // 429: see Retry-After
	CodeInvalidQuery         Code = "invalid_query"          // 400: bad aggregates query
	CodeMethodNotAllowed     Code = "method_not_allowed"     // 405: see Allow
	CodeNotFound             Code = "not_found"              // 404: no such route
	CodeInternal             Code = "internal"               // 5xx: retry later
)

// APIError is the "error" object of every error answer of the collector.
type APIError struct {
	// Code is stable: programs switch on it.
	Code Code `json:"code"`
	// Message is for people.
	Message string `json:"message"`
	// Details lists every problem of a descriptor or batch (at most 50).
	Details []*Error `json:"details,omitempty"`
	// CurrentVersion is the study's current version, with CodeVersionMismatch.
	CurrentVersion int `json:"current_version,omitempty"`
}

// Error returns "code: message".
func (e *APIError) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// ErrorResponse is the body of every error answer: {"error": {...}}.
type ErrorResponse struct {
	Error APIError `json:"error"`
}
