package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/coach/coachtest"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/vault"
)

// TestTextFollowsTheLanguage: `app report` and `app trips` speak the system's language
// (LANG=fr_FR.UTF-8 gives French, with the decimal comma), and the person's setting wins over it.
func TestTextFollowsTheLanguage(t *testing.T) {
	dsn, instance := syncedVault(t, couch.Backends()[0], false)
	setLang(t, "fr")
	out := runApp(t, "report", "--vault", dsn, "--instance", instance)
	if !strings.Contains(out, "trajets") || !strings.Contains(out, "Période") || !strings.Contains(out, " km") {
		t.Fatalf("report with LANG=fr_FR.UTF-8:\n%s", out)
	}
	if out := runApp(t, "trips", "--vault", dsn, "--instance", instance); !strings.HasPrefix(out, "DÉPART") {
		t.Fatalf("trips with LANG=fr_FR.UTF-8:\n%.300s", out)
	}
	ctx := context.Background()
	v, err := vault.Open(ctx, dsn, instance)
	if err != nil {
		t.Fatal(err)
	}
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateSettings(ctx, func(s *settings.Settings) error { s.Language = "en"; return nil }); err != nil {
		t.Fatal(err)
	}
	v.Close()
	if out := runApp(t, "report", "--vault", dsn, "--instance", instance); !strings.Contains(out, "Period") {
		t.Fatalf("report with the setting en:\n%.300s", out)
	}
	// The other commands too, check included (it reads the settings without the coach).
	for _, c := range []struct{ cmd, says string }{{"check", "database"}, {"consent", "No consent"}, {"recompute", "recomputed with"}} {
		args := []string{c.cmd, "--vault", dsn, "--instance", instance}
		if c.cmd == "consent" {
			args = append([]string{"consent", "list"}, args[1:]...)
		}
		if out := runApp(t, args...); !strings.Contains(out, c.says) {
			t.Errorf("%s with the setting en and LANG=fr_FR.UTF-8:\n%.300s", c.cmd, out)
		}
	}
}

// setLang sets the system's locale to lang's (and nothing else that would choose first).
func setLang(t *testing.T, lang string) {
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", map[string]string{"fr": "fr_FR.UTF-8", "en": "en_US.UTF-8"}[lang])
}

// TestCommandsFollowTheLanguage: every command's text speaks the system's language, the usage
// errors the commands add too, and the JSON is the same in both languages.
func TestCommandsFollowTheLanguage(t *testing.T) {
	desc, _ := json.Marshal(map[string]any{
		"id": "lang-study", "version": 1, "title": "Mobility", "institution": "Test university", "contact": "dpo@example.org",
		"purpose": map[string]string{"fr": "Mesurer", "en": "Measure"}, "collector_url": "https://collector.example.org",
		"measures": []string{"co2_monthly_kg"}, "period": map[string]string{"from": "2024-06", "to": "2024-08"},
		"retention_months": 120, "k": 2,
	})
	file := filepath.Join(t.TempDir(), "study.json")
	if err := os.WriteFile(file, desc, 0o600); err != nil {
		t.Fatal(err)
	}
	want := map[string][]struct {
		args []string
		says string
	}{
		"en": {
			{[]string{"check"}, "database documents"},
			{[]string{"recompute"}, "30 trips, 30 recomputed with"},
			{[]string{"studies", "list"}, "No study yet: add one with app studies add FILE|URL."},
			{[]string{"consent", "list"}, "No consent: nothing is ever sent."},
			{[]string{"share"}, "No active consent: nothing sent."},
			{[]string{"studies", "add", file}, "Added lang-study version 1: Mobility (Test university)\nIt asks for: co2_monthly_kg"},
			{[]string{"studies", "list"}, "2024-06 to 2024-08"},
			{[]string{"consent", "grant", "lang-study", "--measures", "co2_monthly_kg"}, "Consent to lang-study version 1 given for co2_monthly_kg"},
			{[]string{"consent", "list"}, " active "},
		},
		"fr": {
			{[]string{"check"}, "base documents"},
			{[]string{"recompute"}, "30 trajets, 30 recalculés avec"},
			{[]string{"studies", "list"}, "Pas encore d'étude : ajoutez-en une avec app studies add FICHIER|URL."},
			{[]string{"consent", "list"}, "Aucun consentement : rien n'est jamais envoyé."},
			{[]string{"share"}, "Aucun consentement actif : rien n'est envoyé."},
			{[]string{"studies", "add", file}, "Étude lang-study version 1 ajoutée : Mobility (Test university)\nElle demande : co2_monthly_kg"},
			{[]string{"studies", "list"}, "2024-06 à 2024-08"},
			{[]string{"consent", "grant", "lang-study", "--measures", "co2_monthly_kg"}, "Consentement à lang-study version 1 donné pour co2_monthly_kg"},
			{[]string{"consent", "list"}, " actif "},
		},
	}
	var shared []string
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, lang := range []string{"en", "fr"} {
		setLang(t, lang)
		v, dsn, instance := couch.Backends()[0].Open(t)
		coachtest.Fill(t, v, 30)
		common := []string{"--vault", dsn, "--instance", instance}
		run := func(args ...string) string { return runApp(t, append(args, common...)...) }
		for _, c := range want[lang] {
			if out := run(c.args...); !strings.Contains(words(out), words(c.says)) {
				t.Errorf("%s: app %s says\n%s\nwant %q in it", lang, strings.Join(c.args, " "), out, c.says)
			}
		}
		shared = append(shared, strings.ReplaceAll(run("share", "--json"), instance, "INSTANCE"))
		_, err := runAppCode(t, append([]string{"edit", "some-trip", "--section-mode", "x"}, common...)...)
		if says := map[string]string{"en": `--section-mode "x": want INDEX=MODE`, "fr": `--section-mode "x" : attendu INDICE=MODE`}[lang]; err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: a bad --section-mode: %v, want %q", lang, err, says)
		}
		_, err = runAppCode(t, append([]string{"consent", "grant", "lang-study"}, common...)...)
		if says := map[string]string{"en": "give the measures you grant with --measures a,b", "fr": "donnez les mesures que vous accordez avec --measures a,b"}[lang]; err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: no --measures: %v, want %q", lang, err, says)
		}
	}
	if shared[0] != shared[1] {
		t.Errorf("share --json differs between English and French:\n%s\n%s", shared[0], shared[1])
	}
}

// TestServeStartLineInFrench: `app serve` says where it is in the person's language.
func TestServeStartLineInFrench(t *testing.T) {
	_, dsn, instance := couch.Backends()[0].Open(t)
	setLang(t, "fr")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, &cmdenv.Vault{DSN: dsn, Instance: instance}, serveOptions{}, w) }()
	line, err := bufio.NewReader(r).ReadString('\n')
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := "Coach CO2 est sur http://" + ln.Addr().String() + "/ (Ctrl-C pour l'arrêter)\n"; line != want || err != nil {
		t.Fatalf("serve's first line: %q, %v; want %q", line, err, want)
	}
}
