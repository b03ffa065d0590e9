package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// setLang sets the system's locale to lang's (and nothing else that would choose first).
func setLang(t *testing.T, lang string) {
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", map[string]string{"fr": "fr_FR.UTF-8", "en": "en_US.UTF-8"}[lang])
}

// TestTextFollowsTheLanguage: the connector's text (the sync summary, status, accounts, the
// usage errors it adds) speaks the system's language; its JSON is the same in both.
func TestTextFollowsTheLanguage(t *testing.T) {
	url, broken := sampleServer(t, false), sampleServer(t, true)
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	says := map[string][]string{
		"en": {"(pixel): 76 trips fetched: 76 created, 0 updated", "ACCOUNT DEVICE TRIPS LAST SYNC", "ID DEVICE SERVER", "removed account", "; its trips stay in the vault",
			"--server and --token go together", `--since "yesterday": want YYYY-MM-DD`, "some trips could not be kept, or are still to be fetched"},
		"fr": {"(pixel) : 76 trajets récupérés : 76 créés, 0 mis à jour", "COMPTE APPAREIL TRAJETS DERNIÈRE SYNCHRO", "ID APPAREIL SERVEUR", "supprimé ; ses trajets restent dans le coffre", "compte ",
			"--server et --token vont ensemble", `--since "yesterday" : attendu AAAA-MM-JJ`, "des trajets n'ont pas pu être conservés, ou restent à récupérer"},
	}
	for _, lang := range []string{"en", "fr"} {
		setLang(t, lang)
		common := []string{"--vault", filepath.Join(t.TempDir(), "vault.db"), "--instance", "alice"}
		var out strings.Builder
		o, code := run(t, append([]string{"sync", "--server", url, "--token", "sample-user", "--device", "pixel"}, common...)...)
		if code != exitOK {
			t.Fatalf("%s: sync: exit %d\n%s", lang, code, o)
		}
		out.WriteString(o)
		o, _ = run(t, append([]string{"status"}, common...)...)
		out.WriteString(o)
		o, _ = run(t, append([]string{"accounts", "list"}, common...)...)
		out.WriteString(o)
		id := strings.Fields(strings.Split(o, "\n")[1])[0]
		o, _ = run(t, append([]string{"accounts", "remove", id}, common...)...)
		out.WriteString(o)
		_, code, err := runErr(t, append([]string{"sync", "--server", url}, common...)...)
		if code != exitUsage || err == nil {
			t.Fatalf("%s: --server without --token: exit %d, %v", lang, code, err)
		}
		out.WriteString(err.Error() + "\n")
		_, _, err = runErr(t, append([]string{"sync", "--since", "yesterday"}, common...)...)
		out.WriteString(err.Error() + "\n")
		brokenVault := []string{"--vault", filepath.Join(t.TempDir(), "broken.db"), "--instance", "alice"}
		if _, code, err = runErr(t, append([]string{"sync", "--server", broken, "--token", "sample-user"}, brokenVault...)...); code != exitPartial || err == nil {
			t.Fatalf("%s: a trip that cannot be kept: exit %d, %v", lang, code, err)
		}
		out.WriteString(err.Error() + "\n")
		for _, s := range says[lang] {
			if !strings.Contains(words(out.String()), words(s)) {
				t.Errorf("%s: no %q in\n%s", lang, s, out.String())
			}
		}
	}
	// The JSON does not change with the language.
	common := []string{"--vault", filepath.Join(t.TempDir(), "vault.db"), "--instance", "bob"}
	if _, code := run(t, append([]string{"sync", "--server", url, "--token", "sample-user", "--json"}, common...)...); code != exitOK {
		t.Fatalf("sync --json: exit %d", code)
	}
	var outs []string
	for _, lang := range []string{"en", "fr"} {
		setLang(t, lang)
		status, _ := run(t, append([]string{"status", "--json"}, common...)...)
		list, _ := run(t, append([]string{"accounts", "list", "--json"}, common...)...)
		outs = append(outs, status+list)
	}
	if outs[0] != outs[1] {
		t.Errorf("the JSON differs between English and French:\n%s\n%s", outs[0], outs[1])
	}
}
