package webapp

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// TestEveryKeyInCatalog: every text the templates and the handlers ask for, and the name of
// every mode and purpose, is in the catalog (so in French and in English, as pkg/i18n checks).
func TestEveryKeyInCatalog(t *testing.T) {
	uses := map[string]string{} // key: where
	find := func(where string, src []byte, re *regexp.Regexp) {
		for _, m := range re.FindAllSubmatch(src, -1) {
			uses[string(m[1])] = where
		}
	}
	inTemplate := regexp.MustCompile(`\.T "([^"]+)"`)
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(pages) == 0 {
		t.Fatal(pages, err)
	}
	for _, p := range pages {
		src, err := fs.ReadFile(templateFS, p)
		if err != nil {
			t.Fatal(err)
		}
		find(p, src, inTemplate)
	}
	inGo := regexp.MustCompile(`translate\(\w+, "([^"]+)"`)
	sources, _ := filepath.Glob("*.go")
	for _, p := range sources {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		find(p, src, inGo)
	}
	if len(uses) < 50 {
		t.Fatalf("only %d keys found: has the way templates call T changed?", len(uses))
	}
	for _, m := range trip.Modes() {
		uses["mode."+string(m)] = "trip.Modes"
	}
	for _, p := range trip.Purposes() {
		uses["purpose."+string(p)] = "trip.Purposes"
	}
	for key, where := range uses {
		if !i18n.Has(key) {
			t.Errorf("%s uses %q, which is not in the catalog (pkg/i18n/messages.go)", where, key)
		}
	}
}

// TestLanguageNegotiation: the settings' language, else the instance's locale, else the
// browser's best supported language by q-value, else English.
func TestLanguageNegotiation(t *testing.T) {
	ctx := context.Background()
	v, err := vault.Open(ctx, filepath.Join(t.TempDir(), "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	langOf := func(locale, acceptLanguage string) string {
		t.Helper()
		s, err := New(c, Options{Locale: locale})
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
	for _, c := range []struct{ locale, accept, want string }{
		{"", "", "en"},
		{"", "fr-CA", "fr"},
		{"", "de", "en"},
		{"", "de-DE, fr;q=0.5", "fr"},
		{"", "en;q=0.5, fr;q=0.9", "fr"}, // by q-value, not by order
		{"", "fr;q=0.3, en-GB", "en"},
		{"fr_FR", "en", "fr"}, // the instance's locale before the browser
		{"de", "fr", "fr"},    // an unsupported locale is skipped
	} {
		if got := langOf(c.locale, c.accept); got != c.want {
			t.Errorf("locale %q, Accept-Language %q: %q, want %q", c.locale, c.accept, got, c.want)
		}
	}
	if _, err := c.UpdateSettings(ctx, func(s *settings.Settings) error { s.Language = "en"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := langOf("fr", "fr"); got != "en" {
		t.Errorf("with English in the settings: %q", got)
	}
}
