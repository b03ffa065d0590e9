package study

import (
	"fmt"
	"strings"
)

// Code names what is wrong with a descriptor or a contribution. Codes are part of the collector's
// HTTP contract (docs/collector-api.md): clients may switch on them, so they never change meaning.
type Code string

// Codes of contributions and batches.
const (
	// CodeMalformedJSON: the body is not JSON, or not the expected shape of objects.
	CodeMalformedJSON Code = "malformed_json"
	// CodeInvalidType: a field has the wrong JSON type (a string where a number is expected...).
	CodeInvalidType Code = "invalid_type"
	// CodeUnknownField: a field that is not part of the format.
	CodeUnknownField Code = "unknown_field"
	// CodeIdentifyingField: a field that looks like coordinates, a place, a precise date or free
	// text; such fields are never accepted.
	CodeIdentifyingField Code = "identifying_field"
	// CodeMissingField: a required field is absent or empty.
	CodeMissingField Code = "missing_field"
	// CodeUnknownMeasure: the measure is not in the catalogue.
	CodeUnknownMeasure Code = "unknown_measure"
	// CodeMeasureNotRequested: the measure is in the catalogue but the study does not ask for it.
	CodeMeasureNotRequested Code = "measure_not_requested"
	// CodeWrongValueShape: "value" given for a measure per category, "values" for a single-number
	// measure, both or neither.
	CodeWrongValueShape Code = "wrong_value_shape"
	// CodeUnknownCategory: a key of "values" is not a category of the measure.
	CodeUnknownCategory Code = "unknown_category"
	// CodeOutOfRange: a number outside the measure's valid range.
	CodeOutOfRange Code = "out_of_range"
	// CodeNotInteger: a count with a fractional part.
	CodeNotInteger Code = "not_integer"
	// CodeInvalidShares: modal shares that do not add up to 1.
	CodeInvalidShares Code = "invalid_shares"
	// CodeMalformedPeriod: a period that is neither "YYYY-MM" nor "YYYY".
	CodeMalformedPeriod Code = "malformed_period"
	// CodePeriodGranularity: a year for a monthly measure, or a month for a yearly one.
	CodePeriodGranularity Code = "period_granularity"
	// CodePeriodOutsideStudy: a period outside the study's period.
	CodePeriodOutsideStudy Code = "period_outside_study"
	// CodePeriodNotComplete: a period that has not ended yet.
	CodePeriodNotComplete Code = "period_not_complete"
	// CodeMalformedPseudonym: a pseudonym that is not 32 lowercase hexadecimal digits.
	CodeMalformedPseudonym Code = "malformed_pseudonym"
	// CodeUnknownProfileField: a profile field the study does not offer.
	CodeUnknownProfileField Code = "unknown_profile_field"
	// CodeProfileValueNotAllowed: a profile value not among the field's allowed values.
	CodeProfileValueNotAllowed Code = "profile_value_not_allowed"
	// CodeStudyMismatch: a contribution for another study than the one addressed.
	CodeStudyMismatch Code = "study_mismatch"
	// CodeVersionMismatch: a contribution made under another version of the study's descriptor
	// than its current one (a new version needs a new consent).
	CodeVersionMismatch Code = "version_mismatch"
	// CodeMixedPseudonyms: a batch with more than one pseudonym.
	CodeMixedPseudonyms Code = "mixed_pseudonyms"
	// CodeDuplicateContribution: a batch with the same measure and period twice.
	CodeDuplicateContribution Code = "duplicate_contribution"
	// CodeEmptyBatch: a batch without contributions.
	CodeEmptyBatch Code = "empty_batch"
	// CodeTooManyContributions: a batch with more than [MaxBatchEntries] contributions.
	CodeTooManyContributions Code = "too_many_contributions"
)

// Codes of descriptors.
const (
	// CodeInvalidID: a study id outside the allowed characters or length.
	CodeInvalidID Code = "invalid_id"
	// CodeInvalidVersion: a version below 1.
	CodeInvalidVersion Code = "invalid_version"
	// CodeInvalidURL: a collector URL that is not an absolute URL without credentials, query or
	// fragment.
	CodeInvalidURL Code = "invalid_url"
	// CodeInsecureURL: a collector URL that is not https (plain http is allowed on loopback only).
	CodeInsecureURL Code = "insecure_url"
	// CodeKTooSmall: a minimum group size below [MinK].
	CodeKTooSmall Code = "k_too_small"
	// CodeInvalidRetention: a retention below 1 month or above [MaxRetentionMonths].
	CodeInvalidRetention Code = "invalid_retention"
	// CodeInvalidPeriod: a study period whose bounds are not months, or that ends before it starts.
	CodeInvalidPeriod Code = "invalid_period"
	// CodeDuplicateMeasure: a measure requested twice.
	CodeDuplicateMeasure Code = "duplicate_measure"
	// CodeInvalidProfileField: a profile field with a bad name, no label or bad allowed values.
	CodeInvalidProfileField Code = "invalid_profile_field"
	// CodeTooLong: a text longer than the format allows.
	CodeTooLong Code = "too_long"
)

// Error is one thing wrong with a descriptor or a contribution.
type Error struct {
	// Code says what is wrong, for programs.
	Code Code `json:"code"`
	// Field is where, as a JSON path from the document's root: "contributions[2].values.CAR",
	// "period.to". Empty when the problem is the document as a whole.
	Field string `json:"field,omitempty"`
	// Message says what is wrong, for people, in English.
	Message string `json:"message"`
}

// Error returns "field: message", or the message alone.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Errors is every problem found in one document, in the order of the document. A validation that
// fails returns a non-empty Errors; errors.As finds its first *Error too.
type Errors []*Error

// Error counts the problems and quotes the first three.
func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "no error"
	case 1:
		return es[0].Error()
	}
	const shown = 3
	parts := make([]string, 0, shown)
	for i, e := range es {
		if i == shown {
			break
		}
		parts = append(parts, e.Error())
	}
	more := ""
	if len(es) > shown {
		more = fmt.Sprintf("; and %d more", len(es)-shown)
	}
	return fmt.Sprintf("%d problems: %s%s", len(es), strings.Join(parts, "; "), more)
}

// Unwrap gives each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Has reports whether one of the problems has the code.
func (es Errors) Has(c Code) bool {
	for _, e := range es {
		if e.Code == c {
			return true
		}
	}
	return false
}

// add appends a problem.
func (es *Errors) add(c Code, field, format string, args ...any) {
	*es = append(*es, &Error{Code: c, Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns es as an error, nil when it is empty.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// join prefixes a field path: join("contributions[2]", "value") is "contributions[2].value".
func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}
