package study

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Limits of a batch.
const (
	// MaxBatchBytes is the largest batch body, in bytes.
	MaxBatchBytes = 64 << 10
	// MaxBatchEntries is the largest number of contributions in a batch.
	MaxBatchEntries = 200
	// PseudonymLen is the length of a pseudonym: 32 lowercase hexadecimal digits (128 random
	// bits).
	PseudonymLen = 32
	// CompletionSlack is how long before a period's end in UTC a contribution for it is accepted:
	// a month ends earlier east of Greenwich (UTC+14 at most).
	CompletionSlack = 14 * time.Hour
)

// Contribution is one measure of one period from one participant of one study: the only thing
// that leaves a participant's vault. It holds no coordinates, no place, no date finer than a month
// and no free text: every string in it is an id, a pseudonym or a value from a closed list.
type Contribution struct {
	// StudyID and StudyVersion are the study and the descriptor version the participant
	// consented to.
	StudyID      string `json:"study_id"`
	StudyVersion int    `json:"study_version"`
	// Pseudonym is the participant's random pseudonym for this study: 32 lowercase hexadecimal
	// digits, drawn once per consent and never used for another study.
	Pseudonym string `json:"pseudonym"`
	// Measure is a measure of the catalogue that the study requests.
	Measure MeasureID `json:"measure"`
	// Period is the month ("YYYY-MM") or year ("YYYY") measured, per the measure's granularity.
	Period Period `json:"period"`
	// Value is the number of a measure without categories (nil otherwise).
	Value *float64 `json:"value,omitempty"`
	// Values are the numbers of a measure per category (nil otherwise): category → number. A
	// category left out counts as 0.
	Values map[string]float64 `json:"values,omitempty"`
	// Profile holds the profile fields the participant chose to give: field name → one of its
	// allowed values.
	Profile map[string]string `json:"profile,omitempty"`
}

// Batch is what a participant's app POSTs to a collector: contributions of one study, one
// version and one pseudonym.
type Batch struct {
	Contributions []Contribution `json:"contributions"`
}

// Key identifies what a contribution measures: a resend of the same key replaces the earlier
// one at the collector.
type Key struct {
	Measure MeasureID `json:"measure"`
	Period  Period    `json:"period"`
}

// Key returns the contribution's measure and period.
func (c *Contribution) Key() Key { return Key{Measure: c.Measure, Period: c.Period} }

// MarshalJSON writes the contribution with "value" or "values" as the measure has it (an empty
// "values" object stays in).
func (c Contribution) MarshalJSON() ([]byte, error) {
	type wire struct {
		StudyID      string            `json:"study_id"`
		StudyVersion int               `json:"study_version"`
		Pseudonym    string            `json:"pseudonym"`
		Measure      MeasureID         `json:"measure"`
		Period       Period            `json:"period"`
		Value        *float64          `json:"value,omitempty"`
		Values       json.RawMessage   `json:"values,omitempty"`
		Profile      map[string]string `json:"profile,omitempty"`
	}
	w := wire{StudyID: c.StudyID, StudyVersion: c.StudyVersion, Pseudonym: c.Pseudonym, Measure: c.Measure,
		Period: c.Period, Value: c.Value, Profile: c.Profile}
	if c.Values != nil {
		b, err := json.Marshal(c.Values)
		if err != nil {
			return nil, fmt.Errorf("contribution values: %w", err)
		}
		w.Values = b
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads a contribution as [ParseContribution] does.
func (c *Contribution) UnmarshalJSON(data []byte) error {
	var es Errors
	got, ok := parseContribution(data, "", &es)
	if !ok {
		return es
	}
	*c = got
	return nil
}

// ParseBatch reads a batch: its shape, its fields and their JSON types, rejecting any field the
// format does not have (with [CodeIdentifyingField] when it looks like coordinates, a place, a
// date or free text). It does not check values against the catalogue or a study: see
// [Contribution.Validate] and [Descriptor.CheckBatch]. The error is an [Errors].
func ParseBatch(data []byte) (Batch, error) {
	var es Errors
	if len(data) > MaxBatchBytes {
		es.add(CodeTooLong, "", "batch of %d bytes: at most %d", len(data), MaxBatchBytes)
		return Batch{}, es
	}
	top, ok := decodeObject(data, "", &es)
	if !ok {
		return Batch{}, es
	}
	// Keys in order, here and below, so that errors come in a stable order.
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if k != "contributions" {
			es = append(es, fieldError("", k, "a batch has one field, \"contributions\""))
		}
	}
	raw, found := top["contributions"]
	if !found {
		es.add(CodeMissingField, "contributions", "a batch is {\"contributions\": [...]}")
		return Batch{}, es
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		es.add(CodeInvalidType, "contributions", "contributions is an array of objects")
		return Batch{}, es
	}
	switch {
	case len(items) == 0:
		es.add(CodeEmptyBatch, "contributions", "a batch has at least one contribution")
	case len(items) > MaxBatchEntries:
		es.add(CodeTooManyContributions, "contributions", "%d contributions in a batch: at most %d", len(items), MaxBatchEntries)
	}
	if len(es) > 0 {
		return Batch{}, es
	}
	b := Batch{Contributions: make([]Contribution, 0, len(items))}
	for i, item := range items {
		if c, ok := parseContribution(item, fmt.Sprintf("contributions[%d]", i), &es); ok {
			b.Contributions = append(b.Contributions, c)
		}
	}
	if len(es) > 0 {
		return Batch{}, es
	}
	return b, nil
}

// ParseContribution reads one contribution as ParseBatch reads each of a batch's.
func ParseContribution(data []byte) (Contribution, error) {
	var es Errors
	c, ok := parseContribution(data, "", &es)
	if !ok {
		return Contribution{}, es
	}
	return c, nil
}

// contributionFields are the fields of a contribution, in the order of the format.
func contributionFields() []string {
	return []string{"study_id", "study_version", "pseudonym", "measure", "period", "value", "values", "profile"}
}

func parseContribution(data []byte, prefix string, es *Errors) (Contribution, bool) {
	n := len(*es)
	obj, ok := decodeObject(data, prefix, es)
	if !ok {
		return Contribution{}, false
	}
	known := contributionFields()
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(known, k) {
			*es = append(*es, fieldError(prefix, k, "a contribution has the fields "+strings.Join(known, ", ")))
		}
	}
	var c Contribution
	str := func(name string, dst *string) {
		if raw, ok := obj[name]; ok && json.Unmarshal(raw, dst) != nil {
			es.add(CodeInvalidType, join(prefix, name), "%s is a string", name)
		}
	}
	str("study_id", &c.StudyID)
	str("pseudonym", &c.Pseudonym)
	var measure string
	str("measure", &measure)
	c.Measure = MeasureID(measure)
	if raw, ok := obj["study_version"]; ok {
		var v float64
		if json.Unmarshal(raw, &v) != nil || v != math.Trunc(v) || v < 0 || v > math.MaxInt32 {
			es.add(CodeInvalidType, join(prefix, "study_version"), "study_version is a whole number")
		} else {
			c.StudyVersion = int(v)
		}
	}
	if raw, ok := obj["period"]; ok {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			es.add(CodeInvalidType, join(prefix, "period"), "period is a string, \"YYYY-MM\" or \"YYYY\"")
		} else if p, err := ParsePeriod(s); err != nil {
			es.add(CodeMalformedPeriod, join(prefix, "period"), "%s", err.Error())
		} else {
			c.Period = p
		}
	}
	if raw, ok := obj["value"]; ok {
		var v float64
		if isNull(raw) || json.Unmarshal(raw, &v) != nil {
			es.add(CodeInvalidType, join(prefix, "value"), "value is a number")
		} else {
			c.Value = &v
		}
	}
	if raw, ok := obj["values"]; ok {
		var m map[string]float64
		if isNull(raw) || json.Unmarshal(raw, &m) != nil {
			es.add(CodeInvalidType, join(prefix, "values"), "values is an object of numbers, category → number")
		} else {
			c.Values = m
		}
	}
	if raw, ok := obj["profile"]; ok && !isNull(raw) {
		var m map[string]string
		if json.Unmarshal(raw, &m) != nil {
			es.add(CodeInvalidType, join(prefix, "profile"), "profile is an object of strings, field → allowed value")
		} else if len(m) > 0 {
			c.Profile = m
		}
	}
	return c, len(*es) == n
}

// Validate checks what can be checked without the study: the pseudonym's form, the measure, the
// period's granularity, the value's shape, categories and ranges, and the profile's form. It
// returns an [Errors], or nil.
func (c *Contribution) Validate() error {
	var es Errors
	c.validate("", &es)
	return es.err()
}

func (c *Contribution) validate(prefix string, es *Errors) {
	switch {
	case c.StudyID == "":
		es.add(CodeMissingField, join(prefix, "study_id"), "study_id is required")
	case !validID(c.StudyID):
		es.add(CodeInvalidID, join(prefix, "study_id"), "study id %q is not a valid study id", truncate(c.StudyID, maxIDLen+8))
	}
	if c.StudyVersion < 1 {
		es.add(CodeMissingField, join(prefix, "study_version"), "study_version is required (1 or more)")
	}
	if !ValidPseudonym(c.Pseudonym) {
		code := CodeMalformedPseudonym
		if c.Pseudonym == "" {
			code = CodeMissingField
		}
		es.add(code, join(prefix, "pseudonym"), "a pseudonym is %d lowercase hexadecimal digits", PseudonymLen)
	}
	m, known := LookupMeasure(c.Measure)
	switch {
	case c.Measure == "":
		es.add(CodeMissingField, join(prefix, "measure"), "measure is required")
	case !known:
		es.add(CodeUnknownMeasure, join(prefix, "measure"), "measure %q is not in the catalogue (%s)", truncate(string(c.Measure), 64), catalogueList())
	}
	if !c.Period.Valid() || c.Period.Year == 0 {
		es.add(CodeMissingField, join(prefix, "period"), "period is required")
	} else if known && c.Period.Granularity() != m.Granularity {
		es.add(CodePeriodGranularity, join(prefix, "period"), "%s is a %s measure: its period is %s, not %q", m.ID, m.Granularity, granularityForm(m.Granularity), c.Period)
	}
	if known {
		c.validateValue(m, prefix, es)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Profile)) {
		f := join(prefix, "profile."+truncate(k, 40))
		switch {
		case !validProfileName(k):
			es.add(CodeUnknownProfileField, f, "profile field %q is not a profile field name", truncate(k, 40))
		case !validProfileValue(c.Profile[k]):
			es.add(CodeProfileValueNotAllowed, f, "profile value %q is not an allowed value", truncate(c.Profile[k], 40))
		}
	}
}

func (c *Contribution) validateValue(m Measure, prefix string, es *Errors) {
	if m.Categories == NoCategory {
		if c.Value == nil || c.Values != nil {
			es.add(CodeWrongValueShape, join(prefix, "value"), "%s is one number: give \"value\" and no \"values\"", m.ID)
			return
		}
		checkNumber(m, *c.Value, join(prefix, "value"), es)
		return
	}
	if c.Values == nil || c.Value != nil {
		es.add(CodeWrongValueShape, join(prefix, "values"), "%s is a number per %s: give \"values\" {category: number} and no \"value\"", m.ID, m.Categories)
		return
	}
	sum := 0.0
	for _, k := range slices.Sorted(maps.Keys(c.Values)) {
		f := join(prefix, "values."+truncate(k, 40))
		if !m.HasCategory(k) {
			es.add(CodeUnknownCategory, f, "%q is not a %s of %s (%s)", truncate(k, 40), m.Categories, m.ID, strings.Join(m.CategoryList(), ", "))
			continue
		}
		checkNumber(m, c.Values[k], f, es)
		sum += c.Values[k]
	}
	if m.SumsToOne && math.Abs(sum-1) > SharesTolerance {
		es.add(CodeInvalidShares, join(prefix, "values"), "the shares of %s add up to %g, not 1 (±%g)", m.ID, sum, SharesTolerance)
	}
}

func checkNumber(m Measure, v float64, field string, es *Errors) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0) || v < m.Min || v > m.Max:
		es.add(CodeOutOfRange, field, "%g is outside %s's range, %g to %g %s", v, m.ID, m.Min, m.Max, m.Unit)
	case m.Integer && v != math.Trunc(v):
		es.add(CodeNotInteger, field, "%g: %s counts %s, a whole number", v, m.ID, m.Unit)
	}
}

// CheckContribution checks a contribution against the study: [Contribution.Validate], then the
// study's id and version, the measure requested, the period within the study's and complete at
// now, and the profile among the fields and values the study offers. It returns an [Errors], or
// nil.
func (d *Descriptor) CheckContribution(c *Contribution, now time.Time) error {
	var es Errors
	d.checkContribution(c, now, "", &es)
	return es.err()
}

func (d *Descriptor) checkContribution(c *Contribution, now time.Time, prefix string, es *Errors) {
	c.validate(prefix, es)
	if c.StudyID != "" && c.StudyID != d.ID {
		es.add(CodeStudyMismatch, join(prefix, "study_id"), "contribution to study %q sent to study %q", truncate(c.StudyID, maxIDLen+8), d.ID)
	}
	if c.StudyVersion >= 1 && c.StudyVersion != d.Version {
		es.add(CodeVersionMismatch, join(prefix, "study_version"), "contribution made under version %d of study %q, whose current version is %d: a new version needs a new consent", c.StudyVersion, d.ID, d.Version)
	}
	if m, ok := LookupMeasure(c.Measure); ok {
		if !d.Requests(c.Measure) {
			es.add(CodeMeasureNotRequested, join(prefix, "measure"), "study %q does not request %s", d.ID, c.Measure)
		}
		if c.Period.Valid() && c.Period.Year != 0 && c.Period.Granularity() == m.Granularity {
			switch {
			case !d.Period.Covers(c.Period):
				es.add(CodePeriodOutsideStudy, join(prefix, "period"), "%s is outside the study's period, %s to %s", c.Period, d.Period.From, d.Period.To)
			case now.Before(c.Period.End().Add(-CompletionSlack)):
				es.add(CodePeriodNotComplete, join(prefix, "period"), "%s has not ended yet: only complete periods are sent", c.Period)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Profile)) {
		if !validProfileName(k) || !validProfileValue(c.Profile[k]) {
			continue // reported by validate
		}
		f := join(prefix, "profile."+k)
		pf, ok := d.ProfileField(k)
		switch {
		case !ok:
			es.add(CodeUnknownProfileField, f, "study %q offers no profile field %q", d.ID, k)
		case !slices.Contains(pf.Values, c.Profile[k]):
			es.add(CodeProfileValueNotAllowed, f, "%q is not an allowed value of %s (%s)", c.Profile[k], k, strings.Join(pf.Values, ", "))
		}
	}
}

// CheckBatch checks a batch against the study: 1 to [MaxBatchEntries] contributions, one
// pseudonym, each (measure, period) once, and each contribution as [Descriptor.CheckContribution]
// does. It returns an [Errors] listing every problem, or nil.
func (d *Descriptor) CheckBatch(b Batch, now time.Time) error {
	var es Errors
	switch {
	case len(b.Contributions) == 0:
		es.add(CodeEmptyBatch, "contributions", "a batch has at least one contribution")
		return es
	case len(b.Contributions) > MaxBatchEntries:
		es.add(CodeTooManyContributions, "contributions", "%d contributions in a batch: at most %d", len(b.Contributions), MaxBatchEntries)
		return es
	}
	first := b.Contributions[0].Pseudonym
	seen := make(map[Key]int, len(b.Contributions))
	for i := range b.Contributions {
		c := &b.Contributions[i]
		prefix := fmt.Sprintf("contributions[%d]", i)
		d.checkContribution(c, now, prefix, &es)
		if c.Pseudonym != first {
			es.add(CodeMixedPseudonyms, join(prefix, "pseudonym"), "a batch carries one pseudonym: this one differs from contributions[0]'s")
		}
		if j, dup := seen[c.Key()]; dup {
			es.add(CodeDuplicateContribution, prefix, "%s for %s is already contributions[%d]", c.Measure, c.Period, j)
		} else {
			seen[c.Key()] = i
		}
	}
	return es.err()
}

// Cells returns the contribution's numbers as the collector keeps them: {"": value} for a
// measure without categories, and every category of the measure for the others, those left out
// being 0. It returns nil for a measure that is not in the catalogue.
func (c *Contribution) Cells() map[string]float64 {
	m, ok := LookupMeasure(c.Measure)
	if !ok {
		return nil
	}
	if m.Categories == NoCategory {
		if c.Value == nil {
			return nil
		}
		return map[string]float64{"": *c.Value}
	}
	out := make(map[string]float64, len(m.CategoryList()))
	for _, k := range m.CategoryList() {
		out[k] = c.Values[k]
	}
	return out
}

// ValidPseudonym reports whether s is 32 lowercase hexadecimal digits.
func ValidPseudonym(s string) bool {
	if len(s) != PseudonymLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func granularityForm(g Granularity) string {
	if g == Yearly {
		return "a year \"YYYY\""
	}
	return "a month \"YYYY-MM\""
}

// decodeObject reads one JSON object and nothing after it.
func decodeObject(data []byte, prefix string, es *Errors) (map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		e := jsonError(err, prefix)
		if e.Code == CodeInvalidType {
			e.Message = "an object is expected here"
		}
		*es = append(*es, e)
		return nil, false
	}
	if obj == nil {
		es.add(CodeInvalidType, prefix, "an object is expected here, not null")
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		es.add(CodeMalformedJSON, prefix, "data after the JSON object")
		return nil, false
	}
	return obj, true
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// fieldError reports a field the format does not have, saying why when it looks identifying.
func fieldError(prefix, name, format string) *Error {
	f := join(prefix, truncate(name, 40))
	if why := identifying(name); why != "" {
		return &Error{Code: CodeIdentifyingField, Field: f, Message: fmt.Sprintf("field %q is refused: contributions never carry %s", truncate(name, 40), why)}
	}
	return &Error{Code: CodeUnknownField, Field: f, Message: fmt.Sprintf("unknown field %q: %s", truncate(name, 40), format)}
}

// identifying says what a field name looks like when it looks like something that could identify
// a person, "" otherwise. Every unknown field is refused anyway: this only makes the error clearer.
func identifying(name string) string {
	n := strings.ToLower(name)
	has := func(subs ...string) bool {
		return slices.ContainsFunc(subs, func(s string) bool { return strings.Contains(n, s) })
	}
	switch {
	case has("lat", "lon", "lng", "coord", "geo", "gps", "position", "location", "place", "address", "street", "city", "zip", "postcode", "point"):
		return "coordinates or places"
	case has("date", "time", "day", "hour", "minute", "stamp") || n == "ts" || strings.HasSuffix(n, "_ts"):
		return "dates finer than a month"
	case has("name", "mail", "phone", "comment", "note", "text", "description", "message", "user", "device", "ip"):
		return "names, contact details or free text"
	}
	return ""
}
