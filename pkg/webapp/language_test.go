package webapp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// TestLanguageNegotiation: the settings' language, else the instance's locale, else the
// browser's best supported language by q-value, else English.
func TestLanguageNegotiation(t *testing.T) {
	_, c := newApp(t)
	langOf := func(locale, acceptLanguage string) string {
		t.Helper()
		s, err := webapp.New(c, webapp.Options{Locale: locale})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, "/settings", nil)
		if acceptLanguage != "" {
			r.Header.Set("Accept-Language", acceptLanguage)
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("GET /settings: %d", w.Code)
		}
		return w.Header().Get("Content-Language")
	}
	for _, tc := range []struct{ locale, accept, want string }{
		{"", "", "en"},
		{"", "fr-CA", "fr"},
		{"", "de", "en"},
		{"", "de-DE, fr;q=0.5", "fr"},
		{"", "en;q=0.5, fr;q=0.9", "fr"}, // by q-value, not by order
		{"", "fr;q=0.3, en-GB", "en"},
		{"fr_FR", "en", "fr"}, // the instance's locale before the browser
		{"de", "fr", "fr"},    // an unsupported locale is skipped
	} {
		if got := langOf(tc.locale, tc.accept); got != tc.want {
			t.Errorf("locale %q, Accept-Language %q: %q, want %q", tc.locale, tc.accept, got, tc.want)
		}
	}
	if _, err := c.UpdateSettings(t.Context(), func(s *settings.Settings) error { s.Language = "en"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := langOf("fr", "fr"); got != "en" {
		t.Errorf("with English in the settings: %q", got)
	}
}
