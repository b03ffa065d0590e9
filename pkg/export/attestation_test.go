package export

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/coachco2/coachco2/pkg/i18n"
)

func sampleAttestation(days int) Attestation {
	a := Attestation{Year: 2025, FirstName: "Élise", LastName: "Dupré-Loïc", Employer: "Société d’Études ≥ 2 Rivières",
		Place: "La Rochelle", Date: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), Lang: "fr"}
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for len(a.Days) < days {
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			a.Days = append(a.Days, BikeDay{Date: day.Format(time.DateOnly), Trips: []BikeTrip{
				{Start: day.Add(8*time.Hour + 5*time.Minute).Format(time.RFC3339), End: day.Add(8*time.Hour + 32*time.Minute).Format(time.RFC3339),
					DistanceKm: 7.44, Modes: []string{"BICYCLING"}},
				{Start: "Bureau, quai Duperré", End: "Maison", DistanceKm: 7.5, Modes: []string{"BICYCLING_ELECTRIC", "WALKING"}},
			}})
		}
		day = day.AddDate(0, 0, 1)
	}
	return a
}

// pdfStreamText reads the text shown by an uncompressed PDF's content streams: the strings of
// its Tj operators, decoded from Windows-1252, one per line.
func pdfStreamText(t *testing.T, pdf []byte) string {
	t.Helper()
	var out strings.Builder
	dec := charmap.Windows1252.NewDecoder()
	for _, m := range regexp.MustCompile(`\(((?:[^()\\]|\\.)*)\)\s*Tj`).FindAllSubmatch(pdf, -1) {
		var raw []byte
		for i := 0; i < len(m[1]); i++ {
			c := m[1][i]
			if c == '\\' && i+1 < len(m[1]) {
				i++
				switch c = m[1][i]; c {
				case 'r':
					c = '\r'
				case 'n':
					c = '\n'
				}
			}
			raw = append(raw, c)
		}
		s, err := dec.Bytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(s)
		out.WriteByte('\n')
	}
	return out.String()
}

// pdfToText runs Debian's pdftotext (poppler-utils) on the PDF; ok is false when it is not
// installed.
func pdfToText(t *testing.T, pdf []byte) (string, bool) {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		return "", false
	}
	f := filepath.Join(t.TempDir(), "a.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out), true
}

// flat collapses every run of white space (no-break spaces too) into one space.
func flat(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '\u00a0' || r == '\f'
	}), " ")
}

func checkPDFFrame(t *testing.T, pdf []byte) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("the PDF starts with %q", pdf[:min(len(pdf), 10)])
	}
	if !bytes.HasSuffix(bytes.TrimRight(pdf, "\r\n"), []byte("%%EOF")) {
		t.Errorf("the PDF ends with %q", pdf[max(0, len(pdf)-10):])
	}
}

// texts renders the attestation and returns its text: always from the uncompressed content
// streams, and also as pdftotext reads the real (compressed) PDF when poppler-utils is installed.
func texts(t *testing.T, a Attestation) map[string]string {
	t.Helper()
	var plain, real bytes.Buffer
	if err := writeAttestationPDF(&plain, a, pdfOptions{uncompressed: true}); err != nil {
		t.Fatal(err)
	}
	if err := WriteAttestationPDF(&real, a); err != nil {
		t.Fatal(err)
	}
	checkPDFFrame(t, plain.Bytes())
	checkPDFFrame(t, real.Bytes())
	out := map[string]string{"content stream": flat(pdfStreamText(t, plain.Bytes()))}
	if s, ok := pdfToText(t, real.Bytes()); ok {
		out["pdftotext"] = flat(s)
	} else {
		t.Log("pdftotext (Debian's poppler-utils) is not installed: only the content streams are read")
	}
	return out
}

func TestAttestationPDFText(t *testing.T) {
	a := sampleAttestation(3)
	for how, text := range texts(t, a) {
		for _, want := range []string{
			"ATTESTATION SUR L’HONNEUR",
			"Forfait mobilités durables",
			"Élise Dupré-Loïc",
			"Société d’Études >= 2 Rivières", // ≥ is not in the core fonts' encoding
			"atteste sur l’honneur",
			"3 jours au cours de l’année 2025",
			"mer. 01/01/2025", "jeu. 02/01/2025", "ven. 03/01/2025",
			"08:05 – 08:32 · 7,4 km · vélo",
			"Bureau, quai Duperré – Maison · 7,5 km · vélo électrique, marche",
			"Total : 3 jours, 44,8 km",
			"Fait à La Rochelle, le 1er janvier 2026",
			"Signature :",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: no %q in\n%s", how, want, text)
			}
		}
		if strings.Contains(text, "I, the undersigned") {
			t.Errorf("%s: English text in a French attestation", how)
		}
	}
}

func TestAttestationPDFEnglish(t *testing.T) {
	a := sampleAttestation(1)
	a.Lang = "en-GB"
	a.Place, a.Date = "", time.Time{}
	for how, text := range texts(t, a) {
		for _, want := range []string{
			"atteste sur l’honneur", // the French statement stays
			"I, the undersigned Élise Dupré-Loïc, employee of Société d’Études >= 2 Rivières",
			"on 1 day in 2025",
			"Trajets / Trips",
			"Wed 01/01/2025",
			"Total: 1 day, 14.9 km",
			"Fait à ______________________, le ____ / ____ / ________", // blanks to fill in by hand
			"Done at",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: no %q in\n%s", how, want, text)
			}
		}
	}
}

// TestAttestationPDF250Days: a long year spans several pages, rows never split, the table header
// is repeated on each page and the totals count every day.
func TestAttestationPDF250Days(t *testing.T) {
	a := sampleAttestation(250)
	var plain bytes.Buffer
	if err := writeAttestationPDF(&plain, a, pdfOptions{uncompressed: true}); err != nil {
		t.Fatal(err)
	}
	pages := len(regexp.MustCompile(`/Type /Page\b[^s]`).FindAll(plain.Bytes(), -1))
	if pages < 4 {
		t.Fatalf("%d pages for 250 days of two trips, want several", pages)
	}
	text := flat(pdfStreamText(t, plain.Bytes()))
	if n := strings.Count(text, "N° Date Trajets Distance"); n != pages && n != pages-1 {
		t.Errorf("the table header is shown %d times on %d pages", n, pages)
	}
	last := a.Days[len(a.Days)-1].Date
	lastDay, _ := time.Parse(time.DateOnly, last)
	for _, want := range []string{"250 " + shortDate(lastDay, i18n.For(i18n.French)), "Total : 250 jours, 3\u00a0735,0 km", fmt.Sprintf("page %d/%d", pages, pages)} {
		if !strings.Contains(text, flat(want)) {
			t.Errorf("no %q in the text", want)
		}
	}
	var real bytes.Buffer
	if err := WriteAttestationPDF(&real, a); err != nil {
		t.Fatal(err)
	}
	checkPDFFrame(t, real.Bytes())
	if real.Len() >= plain.Len() {
		t.Errorf("compressed PDF of %d bytes, uncompressed %d", real.Len(), plain.Len())
	}
	if s, ok := pdfToText(t, real.Bytes()); ok {
		if got := strings.Count(s, "\f"); got != pages {
			t.Errorf("pdftotext reads %d pages, want %d", got, pages)
		}
		if !strings.Contains(flat(s), "Total : 250 jours") {
			t.Error("pdftotext: no total")
		}
	}
}

// TestAttestationNoDayAndLanguages: the texts of a year without a bike day (French counts 0 as
// singular, English does not), and the languages accepted as pkg/i18n matches them.
func TestAttestationNoDayAndLanguages(t *testing.T) {
	for lang, wants := range map[string][]string{
		"":      {"Aucun jour.", "Total : 0 jour, 0,0 km", "au cours de l’année 2025"},
		"fr-CA": {"Aucun jour.", "Total : 0 jour, 0,0 km"},
		"en_GB": {"Aucun jour. / No day.", "Total : 0 jour, 0,0 km", "Total: 0 days, 0.0 km", "on 0 days in 2025", "Signature / Signature :"},
	} {
		a := sampleAttestation(0)
		a.Lang = lang
		for how, text := range texts(t, a) {
			for _, want := range wants {
				if !strings.Contains(text, want) {
					t.Errorf("lang %q, %s: no %q in\n%s", lang, how, want, text)
				}
			}
			if english := strings.Contains(text, "No day."); english != (lang == "en_GB") {
				t.Errorf("lang %q, %s: English text %v", lang, how, english)
			}
		}
	}
}

func TestAttestationValidation(t *testing.T) {
	ok := sampleAttestation(2)
	tooMany := sampleAttestation(0)
	for i := range 367 {
		tooMany.Days = append(tooMany.Days, BikeDay{Date: time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)})
	}
	for _, tc := range []struct {
		name string
		edit func(*Attestation)
		want string
	}{
		{"no year", func(a *Attestation) { a.Year = 0 }, "year 0"},
		{"first name", func(a *Attestation) { a.FirstName = "  " }, "the first name is empty"},
		{"last name", func(a *Attestation) { a.LastName = "" }, "the last name is empty"},
		{"employer", func(a *Attestation) { a.Employer = "" }, "the employer is empty"},
		{"long name", func(a *Attestation) { a.LastName = strings.Repeat("x", 201) }, "longer than 200"},
		{"days", func(a *Attestation) { *a = tooMany }, "367 days: a year has at most 366"},
		{"date", func(a *Attestation) { a.Days[0].Date = "01/02/2025" }, `day "01/02/2025" is not a date YYYY-MM-DD`},
		{"year of a day", func(a *Attestation) { a.Days[0].Date = "2024-12-31" }, "day 2024-12-31 is not in 2025"},
		{"twice", func(a *Attestation) { a.Days[1].Date = a.Days[0].Date }, "is listed twice"},
		{"distance", func(a *Attestation) { a.Days[0].Trips[0].DistanceKm = -1 }, "-1 km is not a distance"},
		{"lang", func(a *Attestation) { a.Lang = "de" }, `language "de"`},
	} {
		a := ok
		a.Days = make([]BikeDay, len(ok.Days))
		for i, d := range ok.Days {
			a.Days[i] = BikeDay{Date: d.Date, Trips: append([]BikeTrip(nil), d.Trips...)}
		}
		tc.edit(&a)
		var buf bytes.Buffer
		err := WriteAttestationPDF(&buf, a)
		if !errors.Is(err, ErrInvalidAttestation) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one about %q", tc.name, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written for an invalid attestation", tc.name, buf.Len())
		}
	}
	if err := WriteAttestationPDF(&bytes.Buffer{}, ok); err != nil {
		t.Fatal(err)
	}
	// 366 days of a leap year are fine.
	leap := sampleAttestation(0)
	leap.Year = 2024
	leap.Days = tooMany.Days[:366]
	if err := WriteAttestationPDF(&bytes.Buffer{}, leap); err != nil {
		t.Fatal(err)
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestAttestationWriteError(t *testing.T) {
	err := WriteAttestationPDF(brokenWriter{}, sampleAttestation(1))
	if err == nil || !strings.Contains(err.Error(), "disk full") || errors.Is(err, ErrInvalidAttestation) {
		t.Fatalf("error %v, want the write error", err)
	}
}

func TestToWindows1252(t *testing.T) {
	for in, want := range map[string]string{
		"é è à ’ « » œ €": "é è à ’ « » œ €", // all in Windows-1252
		"≥ 100 jours":     ">= 100 jours",
		"Łódź ➝ Győr":     "Lódz -> Gyor",
		"e\u0301té":       "été", // decomposed accents are recomposed
		"12\u202f345":     "12\u00a0345",
		"東京":              "??",
		"Jean\nPaul\x07":  "Jean Paul",
	} {
		if got := toWindows1252(in); got != want {
			t.Errorf("toWindows1252(%q) = %q, want %q", in, got, want)
		}
		if _, err := charmap.Windows1252.NewEncoder().String(toWindows1252(in)); err != nil {
			t.Errorf("%q: not Windows-1252: %v", in, err)
		}
	}
}
