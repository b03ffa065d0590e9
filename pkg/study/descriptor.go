package study

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits of a descriptor.
const (
	// MinK is the smallest minimum group size a study may set.
	MinK = 2
	// MaxRetentionMonths is the longest retention a study may set (10 years).
	MaxRetentionMonths = 120
	// MaxProfileFields is the number of profile fields a study may offer.
	MaxProfileFields = 8
	// MaxProfileValues is the number of allowed values of a profile field.
	MaxProfileValues = 32
	// MaxDescriptorBytes is the largest descriptor ParseDescriptor reads.
	MaxDescriptorBytes = 64 << 10

	maxIDLen         = 64
	maxShortTextLen  = 200
	maxLongTextLen   = 4000
	maxProfileName   = 32
	maxProfileValLen = 32
)

// Text is a text in French and English.
type Text struct {
	FR string `json:"fr"`
	EN string `json:"en"`
}

// ProfileField is a coarse fact about a participant that a study offers to ask, such as an age
// band; participants may give it or not, and only one of its allowed values.
type ProfileField struct {
	// Name is the field's key in contributions and the "group" of aggregates: lowercase letters,
	// digits and underscores, starting with a letter, at most 32, not "all".
	Name string `json:"name"`
	// Label is the question, for people.
	Label Text `json:"label"`
	// Values are the answers allowed, in the order they are shown: 1 to 32 characters among
	// letters, digits and "+-<>._".
	Values []string `json:"values"`
}

// Descriptor is a study as its researchers publish it (a JSON file, kept in a participant's vault
// as an io.cozy.coachco2.studies document, and registered at the collector). A descriptor is
// immutable once published: any change is a new version, and a participant's consent is to one
// version.
type Descriptor struct {
	// ID names the study: 3 to 64 characters among lowercase letters, digits, "-" and ".",
	// starting and ending with a letter or a digit. It appears in the collector's URLs.
	ID string `json:"id"`
	// Version is 1 for the first descriptor and grows with each change.
	Version int `json:"version"`
	// Title, Institution and Contact (an e-mail address or a URL) are for people.
	Title       string `json:"title"`
	Institution string `json:"institution"`
	Contact     string `json:"contact"`
	// Purpose says what the study is for and what the measures will be used for.
	Purpose Text `json:"purpose"`
	// CollectorURL is the base URL of the study's collector: https, or http on a loopback
	// address for tests. The routes of docs/collector-api.md are under it.
	CollectorURL string `json:"collector_url"`
	// Measures are the measures the study asks for, from the catalogue, each once.
	Measures []MeasureID `json:"measures"`
	// Period is the months the study covers.
	Period Span `json:"period"`
	// RetentionMonths is how long the collector keeps a contribution after receiving it.
	RetentionMonths int `json:"retention_months"`
	// K is the minimum group size: the collector publishes statistics only on groups of at least
	// K distinct participants.
	K int `json:"k"`
	// ProfileFields are the coarse profile fields participants may give (none when empty).
	ProfileFields []ProfileField `json:"profile_fields,omitempty"`
}

// ParseDescriptor reads a descriptor from JSON and validates it. Unknown fields are errors (a
// misspelt "k" must not pass unnoticed). The error is an [Errors] when the JSON was read.
func ParseDescriptor(data []byte) (*Descriptor, error) {
	if len(data) > MaxDescriptorBytes {
		return nil, Errors{{Code: CodeTooLong, Message: fmt.Sprintf("descriptor of %d bytes: at most %d", len(data), MaxDescriptorBytes)}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Descriptor
	if err := dec.Decode(&d); err != nil {
		e := jsonError(err, "")
		if e.Code == CodeMalformedPeriod { // from Period.UnmarshalText, which knows no field
			e.Code, e.Field = CodeInvalidPeriod, "period"
		}
		return nil, Errors{e}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, Errors{{Code: CodeMalformedJSON, Message: "data after the descriptor's JSON object"}}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Validate checks every field of the descriptor and returns all the problems as an [Errors], or
// nil.
func (d *Descriptor) Validate() error {
	var es Errors
	if !validID(d.ID) {
		es.add(CodeInvalidID, "id", "study id %q: 3 to %d characters among a-z, 0-9, '-' and '.', starting and ending with a letter or a digit", truncate(d.ID, maxIDLen+8), maxIDLen)
	}
	if d.Version < 1 {
		es.add(CodeInvalidVersion, "version", "version %d: versions start at 1", d.Version)
	}
	checkText(&es, "title", d.Title, maxShortTextLen)
	checkText(&es, "institution", d.Institution, maxShortTextLen)
	checkText(&es, "contact", d.Contact, maxShortTextLen)
	checkText(&es, "purpose.fr", d.Purpose.FR, maxLongTextLen)
	checkText(&es, "purpose.en", d.Purpose.EN, maxLongTextLen)
	if err := CheckCollectorURL(d.CollectorURL); err != nil {
		var e *Error
		if errors.As(err, &e) {
			es = append(es, e)
		}
	}
	if len(d.Measures) == 0 {
		es.add(CodeMissingField, "measures", "a study requests at least one measure")
	}
	for i, m := range d.Measures {
		f := fmt.Sprintf("measures[%d]", i)
		if _, ok := LookupMeasure(m); !ok {
			es.add(CodeUnknownMeasure, f, "measure %q is not in the catalogue (%s)", truncate(string(m), 64), catalogueList())
		} else if slices.Contains(d.Measures[:i], m) {
			es.add(CodeDuplicateMeasure, f, "measure %q is requested twice", m)
		}
	}
	switch {
	case d.Period.From.Month == 0 || !d.Period.From.Valid():
		es.add(CodeInvalidPeriod, "period.from", "the study's first month is required, as \"YYYY-MM\"")
	case d.Period.To.Month == 0 || !d.Period.To.Valid():
		es.add(CodeInvalidPeriod, "period.to", "the study's last month is required, as \"YYYY-MM\"")
	case d.Period.To.Compare(d.Period.From) < 0:
		es.add(CodeInvalidPeriod, "period", "the study ends (%s) before it starts (%s)", d.Period.To, d.Period.From)
	}
	if d.RetentionMonths < 1 || d.RetentionMonths > MaxRetentionMonths {
		es.add(CodeInvalidRetention, "retention_months", "retention of %d months: from 1 to %d", d.RetentionMonths, MaxRetentionMonths)
	}
	if d.K < MinK {
		es.add(CodeKTooSmall, "k", "minimum group size %d: at least %d", d.K, MinK)
	}
	if len(d.ProfileFields) > MaxProfileFields {
		es.add(CodeInvalidProfileField, "profile_fields", "%d profile fields: at most %d", len(d.ProfileFields), MaxProfileFields)
	}
	for i, p := range d.ProfileFields {
		f := fmt.Sprintf("profile_fields[%d]", i)
		switch {
		case !validProfileName(p.Name):
			es.add(CodeInvalidProfileField, join(f, "name"), "profile field name %q: 1 to %d characters among a-z, 0-9 and '_', starting with a letter, and not \"all\"", truncate(p.Name, 40), maxProfileName)
		case slices.ContainsFunc(d.ProfileFields[:i], func(q ProfileField) bool { return q.Name == p.Name }):
			es.add(CodeInvalidProfileField, join(f, "name"), "profile field %q is offered twice", p.Name)
		}
		checkText(&es, join(f, "label.fr"), p.Label.FR, maxShortTextLen)
		checkText(&es, join(f, "label.en"), p.Label.EN, maxShortTextLen)
		if len(p.Values) == 0 || len(p.Values) > MaxProfileValues {
			es.add(CodeInvalidProfileField, join(f, "values"), "%d allowed values: from 1 to %d", len(p.Values), MaxProfileValues)
		}
		for j, v := range p.Values {
			fv := fmt.Sprintf("%s.values[%d]", f, j)
			switch {
			case !validProfileValue(v):
				es.add(CodeInvalidProfileField, fv, "allowed value %q: 1 to %d characters among letters, digits and \"+-<>._\"", truncate(v, 40), maxProfileValLen)
			case slices.Contains(p.Values[:j], v):
				es.add(CodeInvalidProfileField, fv, "allowed value %q is listed twice", v)
			}
		}
	}
	return es.err()
}

// Requests reports whether the study asks for the measure.
func (d *Descriptor) Requests(m MeasureID) bool { return slices.Contains(d.Measures, m) }

// ProfileField returns the profile field of that name.
func (d *Descriptor) ProfileField(name string) (ProfileField, bool) {
	for _, p := range d.ProfileFields {
		if p.Name == name {
			return p, true
		}
	}
	return ProfileField{}, false
}

// ContributionsURL is where participants POST their contributions.
func (d *Descriptor) ContributionsURL() string {
	return strings.TrimRight(d.CollectorURL, "/") + "/studies/" + url.PathEscape(d.ID) + "/contributions"
}

// ParticipantURL is where a participant sends DELETE to withdraw everything sent under the
// pseudonym.
func (d *Descriptor) ParticipantURL(pseudonym string) string {
	return strings.TrimRight(d.CollectorURL, "/") + "/studies/" + url.PathEscape(d.ID) + "/participants/" + url.PathEscape(pseudonym)
}

// CheckCollectorURL checks a collector's base URL: absolute, https (or http on a loopback
// address: localhost, 127.0.0.0/8, ::1), without credentials, query or fragment. The error is an
// *[Error].
func CheckCollectorURL(s string) error {
	const field = "collector_url"
	if s == "" {
		return &Error{Code: CodeMissingField, Field: field, Message: "the collector's URL is required"}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return &Error{Code: CodeInvalidURL, Field: field, Message: fmt.Sprintf("collector URL %q is not an absolute URL", truncate(s, 100))}
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return &Error{Code: CodeInvalidURL, Field: field, Message: "the collector URL has no credentials, query or fragment"}
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return &Error{Code: CodeInsecureURL, Field: field, Message: fmt.Sprintf("collector URL %q: https is required (plain http only on a loopback address)", truncate(s, 100))}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkText(es *Errors, field, s string, max int) {
	switch {
	case strings.TrimSpace(s) == "":
		es.add(CodeMissingField, field, "%s is required", field)
	case !utf8.ValidString(s):
		es.add(CodeInvalidType, field, "%s is not valid UTF-8", field)
	case utf8.RuneCountInString(s) > max:
		es.add(CodeTooLong, field, "%s is longer than %d characters", field, max)
	}
}

func validID(s string) bool {
	if len(s) < 3 || len(s) > maxIDLen || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func validProfileName(s string) bool {
	if s == "" || len(s) > maxProfileName || s == "all" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

func validProfileValue(s string) bool {
	if s == "" || len(s) > maxProfileValLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && !(c >= 'A' && c <= 'Z') && !strings.ContainsRune("+-<>._", rune(c)) {
			return false
		}
	}
	return true
}

// isAlnum reports lowercase letters and digits.
func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func catalogueList() string {
	ids := MeasureIDs()
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return "known: " + strings.Join(s, ", ")
}

// jsonError turns a decoding error into an *Error with a field path when the decoder gives one.
func jsonError(err error, prefix string) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var own *Error
	switch {
	case errors.As(err, &own):
		return &Error{Code: own.Code, Field: join(prefix, own.Field), Message: own.Message}
	case errors.As(err, &syn):
		return &Error{Code: CodeMalformedJSON, Field: prefix, Message: fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)}
	case errors.As(err, &typ):
		f := join(prefix, typ.Field)
		return &Error{Code: CodeInvalidType, Field: f, Message: fmt.Sprintf("a JSON %s where %s is expected", typ.Value, jsonKind(typ.Type.Kind().String()))}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Code: CodeMalformedJSON, Field: prefix, Message: "empty or truncated JSON"}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &Error{Code: CodeUnknownField, Field: join(prefix, name), Message: fmt.Sprintf("unknown field %q", truncate(name, 40))}
	}
	return &Error{Code: CodeMalformedJSON, Field: prefix, Message: "malformed JSON: " + truncate(strings.TrimPrefix(msg, "json: "), 200)}
}

func jsonKind(k string) string {
	switch k {
	case "float64", "int", "int64":
		return "a number"
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return k
}

// ValidID reports whether s is a valid study id: 3 to 64 characters among a-z 0-9 - and .,
// starting and ending with a letter or digit.
func ValidID(s string) bool { return validID(s) }
