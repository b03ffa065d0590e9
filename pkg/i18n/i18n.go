// Package i18n is the one way Coach CO2 speaks French and English: which language a person gets
// (from a setting, a locale or a browser's Accept-Language), and every text shown to them in that
// language, numbers included.
//
// It is built on golang.org/x/text (already a dependency, kept by the Go team):
// language.ParseAcceptLanguage and a language.Matcher choose the language the way CLDR says
// (fr-CA and fr_FR are French, q-values count, an unsupported language falls back to English),
// and one x/text/message catalog holds the texts (messages.go: each key with its English and its
// French side by side, so that a missing translation shows in review and in the tests). A
// message.Printer formats the arguments of a text the language's way: "6,6 km" and
// "1 234 trajets" in French, "6.6 km" and "1,234 trips" in English, and chooses plural forms
// (French counts 0 as singular). Because %d groups thousands, pass years and identifiers as
// strings (%s).
package i18n

import (
	"maps"
	"slices"
	"strconv"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The languages of the catalog, as the rest of the project names them.
const (
	English = "en"
	French  = "fr"
)

// Languages are the supported languages, the default (English) first.
func Languages() []string { return []string{English, French} }

// supported are the matcher's tags, in the order of Languages.
var supported = []language.Tag{language.English, language.French}

// matcher, cat, known and printers are built once, here, and only read afterwards.
var (
	matcher    = language.NewMatcher(supported)
	cat, known = build()
	printers   = map[string]*Printer{
		English: {lang: English, p: message.NewPrinter(language.English, message.Catalog(cat))},
		French:  {lang: French, p: message.NewPrinter(language.French, message.Catalog(cat))},
	}
)

// build returns the catalog of texts and plurals, and the set of its keys. A malformed entry is
// a programming error that the tests catch: it panics.
func build() (*catalog.Builder, map[string]bool) {
	b := catalog.NewBuilder()
	keys := map[string]bool{}
	set := func(key string, en, fr catalog.Message) {
		if keys[key] {
			panic("i18n: key " + key + " is in the catalog twice")
		}
		keys[key] = true
		if err := b.Set(language.English, key, en); err != nil {
			panic("i18n: " + key + ": " + err.Error())
		}
		if err := b.Set(language.French, key, fr); err != nil {
			panic("i18n: " + key + ": " + err.Error())
		}
	}
	for _, t := range texts {
		set(t.key, catalog.String(t.en), catalog.String(t.fr))
	}
	for _, m := range selects {
		set(m.key, m.en, m.fr)
	}
	return b, keys
}

// Match returns the supported language that best fits pref, a language tag ("fr", "fr-CA",
// "fr_FR") or an Accept-Language value ("de, fr;q=0.8"), and whether one fits at all; when none
// does (an empty, malformed or unsupported pref), it returns English and false.
func Match(pref string) (lang string, ok bool) {
	tags, _, err := language.ParseAcceptLanguage(pref)
	if err != nil || len(tags) == 0 {
		return English, false
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return English, false
	}
	return Languages()[i], true
}

// Negotiate returns the language of the first of prefs that [Match] fits, else English. The web
// app passes the person's setting, the instance's locale and the browser's Accept-Language, in
// that order.
func Negotiate(prefs ...string) string {
	for _, pref := range prefs {
		if lang, ok := Match(pref); ok {
			return lang
		}
	}
	return English
}

// Printer writes the catalog's texts and numbers in one language. It is safe for concurrent
// use.
type Printer struct {
	lang string
	p    *message.Printer
}

// For returns the printer of lang: "en", "fr", or anything [Match] understands (English when it
// fits nothing).
func For(lang string) *Printer {
	if p, ok := printers[lang]; ok {
		return p
	}
	lang, _ = Match(lang)
	return printers[lang]
}

// Lang returns the printer's language, "en" or "fr".
func (p *Printer) Lang() string { return p.lang }

// T returns the text of key with args formatted the language's way. A key missing from the
// catalog comes back as it is (the tests check that every key used is in the catalog).
func (p *Printer) T(key string, args ...any) string { return p.p.Sprintf(key, args...) }

// Lookup returns the text of key, without arguments, and whether the catalog has it: for names
// (of modes, of purposes) whose caller shows something else when there is none.
func (p *Printer) Lookup(key string) (string, bool) {
	if !known[key] {
		return "", false
	}
	return p.T(key), true
}

// Sprintf is fmt.Sprintf with numbers written the language's way ("%.1f kg" gives "6,6 kg" in
// French). format must not be a key of the catalog.
func (p *Printer) Sprintf(format string, args ...any) string { return p.p.Sprintf(format, args...) }

// Number writes x with decimals digits after the decimal separator, and thousands grouped, the
// language's way: 1234.5 with 1 decimal is "1 234,5" in French (with a no-break space) and
// "1,234.5" in English.
func (p *Printer) Number(x float64, decimals int) string {
	return p.p.Sprintf("%."+strconv.Itoa(decimals)+"f", x)
}

// Has reports whether key is in the catalog.
func Has(key string) bool { return known[key] }

// Keys returns the catalog's keys, sorted.
func Keys() []string { return slices.Sorted(maps.Keys(known)) }
