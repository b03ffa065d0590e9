package webapp

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/trip"
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
