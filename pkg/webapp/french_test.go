package webapp_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestFrenchScreens: in French, a count of trips mid-sentence is lower case ("2 trajets"),
// numbers use the decimal comma, the error page has the whole menu, and the settings' map and
// device fields are not in the Language group.
func TestFrenchScreens(t *testing.T) {
	srv, _ := newApp(t)
	for _, path := range []string{"/", "/analysis?period=2016"} {
		_, page := get(t, srv.URL+path)
		if regexp.MustCompile(`\d Trajets`).MatchString(page) {
			t.Errorf("%s: a count of trips is capitalised mid-sentence", path)
		}
		if !regexp.MustCompile(`\d trajets? ·`).MatchString(page) {
			t.Errorf("%s: no count of trips", path)
		}
		if m := regexp.MustCompile(`\d\.\d+ (km|kg)`).FindString(page); m != "" {
			t.Errorf("%s: %q uses a decimal point in French", path, m)
		}
	}
	for _, path := range []string{"/trips/nope", "/nope"} {
		code, page := get(t, srv.URL+path)
		if code != 404 {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
		for _, href := range []string{`href="/"`, `href="/trips"`, `href="/analysis"`, `href="/settings"`, `href="/exports"`, `href="/studies"`} {
			if !strings.Contains(page, href) {
				t.Errorf("%s: the error page's menu lacks %s", path, href)
			}
		}
	}
	_, page := get(t, srv.URL+"/settings")
	for _, fs := range regexp.MustCompile(`(?s)<fieldset>.*?</fieldset>`).FindAllString(page, -1) {
		if strings.Contains(fs, `name="language"`) && (strings.Contains(fs, `name="tileServer"`) || strings.Contains(fs, `name="devices"`)) {
			t.Errorf("the map or devices fields are in the Language group")
		}
	}
}
