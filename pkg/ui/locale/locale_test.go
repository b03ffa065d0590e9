package locale_test

import (
	"testing"

	"github.com/coachco2/coachco2/pkg/ui/locale"
)

func TestChoose(t *testing.T) {
	for _, c := range []struct{ setting, language, lcAll, lang, want string }{
		{"", "", "", "", "en"},
		{"", "", "", "fr_FR.UTF-8", "fr"},
		{"", "", "C", "fr_FR.UTF-8", "en"},
		{"", "", "fr_CA@euro", "en_US.UTF-8", "fr"},
		{"", "de:fr", "", "en_US.UTF-8", "fr"},
		{"en", "", "", "fr_FR.UTF-8", "en"},
		{"fr", "", "", "", "fr"},
		{"xx", "", "", "fr_FR.UTF-8", "fr"},
	} {
		t.Setenv("LANGUAGE", c.language)
		t.Setenv("LC_ALL", c.lcAll)
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", c.lang)
		if got := locale.Choose(c.setting); got != c.want {
			t.Errorf("setting %q, LANGUAGE %q, LC_ALL %q, LANG %q: %s, want %s", c.setting, c.language, c.lcAll, c.lang, got, c.want)
		}
	}
}
