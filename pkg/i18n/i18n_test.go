package i18n

import (
	"regexp"
	"slices"
	"testing"
)

// verbs matches the formatting verbs of a message.
var verbs = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

func TestEveryKeyInFrenchAndEnglish(t *testing.T) {
	if len(texts)+len(selects) != len(Keys()) {
		t.Fatalf("%d entries, %d keys", len(texts)+len(selects), len(Keys()))
	}
	for _, e := range texts {
		if e.en == "" || e.fr == "" {
			t.Errorf("%s: English %q, French %q: want both", e.key, e.en, e.fr)
		}
		// Both languages take the same arguments, in the same order.
		if en, fr := verbs.FindAllString(e.en, -1), verbs.FindAllString(e.fr, -1); !slices.Equal(en, fr) {
			t.Errorf("%s: English takes %q, French %q", e.key, en, fr)
		}
	}
	for _, e := range selects {
		if e.en == nil || e.fr == nil {
			t.Errorf("%s: want both languages", e.key)
		}
	}
	// The catalog answers every key in both languages, with the text of that language.
	for _, e := range texts {
		for lang, want := range map[string]string{English: e.en, French: e.fr} {
			if verbs.MatchString(want) {
				continue // formatted, checked below
			}
			if got, ok := For(lang).Lookup(e.key); !ok || got != want {
				t.Errorf("%s in %s: %q, %v; want %q", e.key, lang, got, ok, want)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pref string
		want string
		ok   bool
	}{
		{"fr", French, true},
		{"fr-CA", French, true},
		{"fr_FR", French, true},
		{"FR-be", French, true},
		{"en-GB", English, true},
		{"de", English, false},               // unsupported: English, the default
		{"de-DE, fr;q=0.5", French, true},    // the first supported one
		{"en;q=0.5, fr;q=0.9", French, true}, // by q-value, not by order
		{"fr;q=0.2, en-US;q=0.8", English, true},
		{"fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", French, true},
		{"es, it", English, false},
		{"*", English, false},
		{"", English, false},
		{"fr;q=nope", English, false}, // malformed
	} {
		if got, ok := Match(c.pref); got != c.want || ok != c.ok {
			t.Errorf("Match(%q) = %q, %v; want %q, %v", c.pref, got, ok, c.want, c.ok)
		}
	}
	for _, c := range []struct {
		prefs []string
		want  string
	}{
		{nil, English},
		{[]string{"", "", "fr-CA,en;q=0.5"}, French}, // no setting, no locale: the browser's
		{[]string{"en", "fr", "fr"}, English},        // the setting first
		{[]string{"", "fr_FR", "en"}, French},        // then the locale
		{[]string{"de", "", "de-AT, es"}, English},   // nothing supported
		{[]string{"xx-invalid-", "", "fr"}, French},  // a malformed setting is skipped
	} {
		if got := Negotiate(c.prefs...); got != c.want {
			t.Errorf("Negotiate(%q) = %q, want %q", c.prefs, got, c.want)
		}
	}
	for pref, want := range map[string]string{"fr": French, "fr-CA": French, "en": English, "de": English, "": English} {
		if got := For(pref).Lang(); got != want {
			t.Errorf("For(%q).Lang() = %q, want %q", pref, got, want)
		}
	}
}

func TestFrenchNumbers(t *testing.T) {
	fr, en := For(French), For(English)
	for _, c := range []struct{ got, want string }{
		{fr.Number(6.6, 1), "6,6"},
		{en.Number(6.6, 1), "6.6"},
		{fr.Number(1234.5, 1), "1\u00a0234,5"},
		{en.Number(1234.5, 1), "1,234.5"},
		{fr.Number(12.345, 2), "12,35"},
		{fr.Number(0, 0), "0"},
		{fr.Sprintf("%.1f km", 6.6), "6,6 km"},
		{fr.T("trips.count", 1234), "1\u00a0234 trajets"},
		{en.T("trips.count", 1234), "1,234 trips"},
		{fr.T("dash.goal", 100), "Objectif : 100 jours"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

func TestPluralsAndDates(t *testing.T) {
	fr, en := For(French), For(English)
	for _, c := range []struct{ got, want string }{
		{fr.T("attestation.days", 0), "0 jour"},
		{fr.T("attestation.days", 1), "1 jour"},
		{fr.T("attestation.days", 2), "2 jours"},
		{en.T("attestation.days", 0), "0 days"},
		{en.T("attestation.days", 1), "1 day"},
		{en.T("attestation.days", 250), "250 days"},
		{fr.T("date.long", 1, fr.T("month.1"), "2026"), "1er janvier 2026"},
		{fr.T("date.long", 21, fr.T("month.8"), "2026"), "21 août 2026"},
		{en.T("date.long", 1, en.T("month.1"), "2026"), "1 January 2026"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

func TestLookup(t *testing.T) {
	if got, ok := For(French).Lookup("mode.BICYCLING"); !ok || got != "Vélo" {
		t.Errorf("mode.BICYCLING in French: %q, %v", got, ok)
	}
	if got, ok := For(French).Lookup("mode.BOAT"); ok || got != "" {
		t.Errorf("mode.BOAT: %q, %v; want none", got, ok)
	}
	if !Has("nav.trips") || Has("nav.nope") {
		t.Error("Has")
	}
}
