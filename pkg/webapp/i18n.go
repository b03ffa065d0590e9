package webapp

import (
	"net/http"

	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/trip"
)

// lang picks the page's language: the settings', else the instance's (COZY_LOCALE), else the
// browser's, else English.
func (s *Server) lang(r *http.Request) string {
	return i18n.Negotiate(s.coach.Settings().Language, s.opts.Locale, r.Header.Get("Accept-Language"))
}

// translate returns the catalog's text of key in lang.
func translate(lang, key string, args ...any) string { return i18n.For(lang).T(key, args...) }

// modeName and purposeName are shown instead of the constants; an unknown one shows as it is.
func modeName(lang string, m trip.Mode) string { return name(lang, "mode.", string(m)) }

func purposeName(lang string, p trip.Purpose) string { return name(lang, "purpose.", string(p)) }

func name(lang, prefix, value string) string {
	if n, ok := i18n.For(lang).Lookup(prefix + value); ok {
		return n
	}
	return value
}

// The page's texts and numbers, for the templates: {{$.T "key" args...}}, {{$.Km meters}}...

// T returns the text of key in the page's language, its arguments formatted that way.
func (c common) T(key string, args ...any) string { return translate(c.Lang, key, args...) }

// Km writes a distance given in metres as kilometres with one decimal.
func (c common) Km(m float64) string { return i18n.For(c.Lang).Number(m/1000, 1) }

// Kg writes a mass of CO2 with two decimals.
func (c common) Kg(kg float64) string { return i18n.For(c.Lang).Number(kg, 2) }

// Num1 writes a number with one decimal.
func (c common) Num1(f float64) string { return i18n.For(c.Lang).Number(f, 1) }

// Int writes a number rounded to a whole one.
func (c common) Int(f float64) string { return i18n.For(c.Lang).Number(f, 0) }

// Pct writes a share (0.25) as a percentage ("25 %").
func (c common) Pct(f float64) string { return i18n.For(c.Lang).Number(100*f, 0) + " %" }
