// Package appui is the app's command-line output: each result as text for a person, or as JSON
// for a program. A command picks its [Printer] once, from --json ([New]); text.go writes the text,
// json.go the JSON. What only has one form (a table of consents, the settings as JSON) is a
// function of the file of its form.
package appui

import (
	"io"
	"strings"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/study"
)

// Printer prints the results that the app's commands give as text or, with --json, as JSON.
type Printer interface {
	// Report prints the indicators of a period ("app report").
	Report(r *indicators.Report) error
	// Trips prints a trip list, oldest first ("app trips").
	Trips(list []coach.TripSummary) error
	// Shared prints what a share sent ("app share").
	Shared(sum sharing.Summary) error
}

// New returns the printer writing to w: JSON when asJSON, else text in English.
func New(w io.Writer, asJSON bool) Printer { return NewIn(w, asJSON, i18n.English) }

// NewIn returns the printer writing to w: JSON when asJSON, else text in lang ("fr" or "en";
// the JSON is the same in every language).
func NewIn(w io.Writer, asJSON bool, lang string) Printer {
	if asJSON {
		return jsonPrinter{w}
	}
	return textPrinter{w: w, p: i18n.For(lang)}
}

// MeasureList joins measure ids with commas, as --measures takes them.
func MeasureList(ms []study.MeasureID) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ",")
}
