package study

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Granularity is how long a measure's period is.
type Granularity string

// The granularities.
const (
	// Monthly periods are calendar months, written "YYYY-MM".
	Monthly Granularity = "month"
	// Yearly periods are calendar years, written "YYYY".
	Yearly Granularity = "year"
)

// Period is a calendar month or a calendar year: the finest time a contribution may carry. Its
// JSON and text form is "YYYY-MM" for a month and "YYYY" for a year; the zero Period is invalid.
type Period struct {
	// Year is between 2000 and 2999.
	Year int
	// Month is 1 to 12 for a month, 0 for a whole year.
	Month int
}

// Month returns the period of a month.
func Month(year int, month time.Month) Period { return Period{Year: year, Month: int(month)} }

// Year returns the period of a year.
func Year(year int) Period { return Period{Year: year} }

// ParsePeriod reads "YYYY-MM" or "YYYY", exactly: no day, no time, no other separator.
func ParsePeriod(s string) (Period, error) {
	digits := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	var p Period
	var ok bool
	switch len(s) {
	case 4:
		p.Year, ok = digits(s)
	case 7:
		if s[4] != '-' {
			break
		}
		var okY, okM bool
		p.Year, okY = digits(s[:4])
		p.Month, okM = digits(s[5:])
		ok = okY && okM && p.Month >= 1
	}
	if !ok || !p.Valid() {
		return Period{}, &Error{Code: CodeMalformedPeriod, Message: fmt.Sprintf("period %q: want a month \"YYYY-MM\" or a year \"YYYY\" (2000 to 2999), never a day", truncate(s, 40))}
	}
	return p, nil
}

// Valid reports whether p is a month or a year between 2000 and 2999.
func (p Period) Valid() bool {
	return p.Year >= 2000 && p.Year <= 2999 && p.Month >= 0 && p.Month <= 12
}

// Granularity returns Monthly or Yearly.
func (p Period) Granularity() Granularity {
	if p.Month == 0 {
		return Yearly
	}
	return Monthly
}

// String returns "YYYY-MM" or "YYYY".
func (p Period) String() string {
	if p.Month == 0 {
		return fmt.Sprintf("%04d", p.Year)
	}
	return fmt.Sprintf("%04d-%02d", p.Year, p.Month)
}

// Start returns the first instant of the period, in UTC.
func (p Period) Start() time.Time {
	m := p.Month
	if m == 0 {
		m = 1
	}
	return time.Date(p.Year, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
}

// End returns the first instant after the period, in UTC.
func (p Period) End() time.Time {
	if p.Month == 0 {
		return p.Start().AddDate(1, 0, 0)
	}
	return p.Start().AddDate(0, 1, 0)
}

// Compare orders periods by start, a year before its January: it returns -1, 0 or 1.
func (p Period) Compare(q Period) int {
	switch {
	case p.Year != q.Year:
		return cmpInt(p.Year, q.Year)
	default:
		return cmpInt(p.Month, q.Month)
	}
}

// Next returns the period of the same granularity that follows p.
func (p Period) Next() Period {
	if p.Month == 0 {
		return Period{Year: p.Year + 1}
	}
	if p.Month == 12 {
		return Period{Year: p.Year + 1, Month: 1}
	}
	return Period{Year: p.Year, Month: p.Month + 1}
}

// MarshalText writes String.
func (p Period) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("invalid period %d-%d", p.Year, p.Month)
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads what ParsePeriod reads.
func (p *Period) UnmarshalText(b []byte) error {
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Span is a study's period: from its first month to its last, both included.
type Span struct {
	From Period `json:"from"`
	To   Period `json:"to"`
}

// Covers reports whether a contribution's period falls in the span: a month between From and To,
// or a year that shares at least one month with it.
func (s Span) Covers(p Period) bool {
	if p.Month == 0 {
		return p.Year >= s.From.Year && p.Year <= s.To.Year
	}
	return p.Compare(s.From) >= 0 && p.Compare(s.To) <= 0
}

// Periods lists the span's periods of a granularity, in order: its months, or the years it
// touches.
func (s Span) Periods(g Granularity) []Period {
	var out []Period
	if g == Yearly {
		for y := s.From.Year; y <= s.To.Year; y++ {
			out = append(out, Year(y))
		}
		return out
	}
	for p := s.From; p.Compare(s.To) <= 0; p = p.Next() {
		out = append(out, p)
	}
	return out
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// truncate cuts s for an error message, so that a huge input never makes a huge error.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
