// Package locale chooses the language of the command lines' text (the app's and the
// connector's): the person's setting, else the system's locale, else English.
package locale

import (
	"os"
	"strings"

	"github.com/coachco2/coachco2/pkg/i18n"
)

// Choose returns the language the text output speaks, "en" or "fr": setting (the person's
// language in the vault's settings, "" when unknown) when it is supported, else the system's
// locale as gettext reads it (LANGUAGE's list, then LC_ALL, LC_MESSAGES, LANG:
// "fr_FR.UTF-8" is French), else English.
func Choose(setting string) string {
	prefs := []string{setting}
	for _, l := range strings.Split(os.Getenv("LANGUAGE"), ":") {
		prefs = append(prefs, posix(l))
	}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			prefs = append(prefs, posix(v))
			break
		}
	}
	return i18n.Negotiate(prefs...)
}

// posix turns a POSIX locale ("fr_FR.UTF-8", "fr_FR@euro") into a language tag ("fr-FR"); "C"
// and "POSIX" name no language.
func posix(l string) string {
	l, _, _ = strings.Cut(l, ".")
	l, _, _ = strings.Cut(l, "@")
	if l == "C" || l == "POSIX" {
		return ""
	}
	return strings.ReplaceAll(l, "_", "-")
}
