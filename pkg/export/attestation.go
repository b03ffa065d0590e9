package export

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// Attestation is the sworn statement ("attestation sur l'honneur") of the French "Forfait
// Mobilités Durables" (FMD): the days of a calendar year on which the person commuted by bike,
// addressed to their employer, who pays the allowance on it.
type Attestation struct {
	Year                int
	FirstName, LastName string
	Employer            string
	// Place and Date are where and when the person signs ("Fait à {Place}, le {Date}"); an empty
	// Place or a zero Date leaves a blank to fill in by hand.
	Place string
	Date  time.Time
	// Days are the bike-commute days of Year, in any order; at most one per date.
	Days []BikeDay
	// Lang is "fr" (or empty) for the French statement; "en" adds an English translation under
	// each French text. Region subtags ("fr-FR", "en-GB") are accepted.
	Lang string
}

// BikeDay is one bike-commute day and the trips that made it one.
type BikeDay struct {
	Date  string // YYYY-MM-DD
	Trips []BikeTrip
}

// BikeTrip is one trip of a bike-commute day. Start and End say when or where it started and
// ended: an RFC 3339 time is shown as its clock time (15:04, in its own offset), anything else
// (a place name) as written.
type BikeTrip struct {
	Start, End string
	DistanceKm float64
	Modes      []string // trip.Mode names, e.g. "BICYCLING"
}

// ErrInvalidAttestation is wrapped by WriteAttestationPDF's errors about its input, so that a
// caller can tell them (a bad request) from a write error.
var ErrInvalidAttestation = errors.New("invalid attestation")

// Limits of an attestation.
const (
	maxAttestationDays = 366
	maxNameRunes       = 200
)

// WriteAttestationPDF validates the attestation and writes it to w as an A4 PDF: title, the
// sworn-statement wording (in French, plus English when a.Lang is "en"), the person and their
// employer, the table of days with their trips and distances (over as many pages as it takes,
// its header repeated on each), the totals, "Fait à {Place}, le {Date}" and a signature line.
//
// The PDF uses the standard Helvetica fonts, whose encoding is Windows-1252: every French letter
// and the typographic apostrophe are kept; other characters are replaced by their closest
// equivalent ("≥" by ">=", "ł" by "l", "ő" by "o") or by "?".
func WriteAttestationPDF(w io.Writer, a Attestation) error {
	return writeAttestationPDF(w, a, pdfOptions{})
}

// pdfOptions are knobs for tests.
type pdfOptions struct {
	uncompressed bool // leave content streams uncompressed, so that a test can read the text
}

func writeAttestationPDF(w io.Writer, a Attestation, opts pdfOptions) error {
	lang, err := a.validate()
	if err != nil {
		return err
	}
	days := slices.Clone(a.Days)
	slices.SortFunc(days, func(x, y BikeDay) int { return strings.Compare(x.Date, y.Date) })

	d := newAttestationDoc(a, lang, opts)
	d.render(days)
	if err := d.pdf.Error(); err != nil {
		return fmt.Errorf("attestation PDF: %w", err)
	}
	if err := d.pdf.Output(w); err != nil {
		return fmt.Errorf("attestation PDF: %w", err)
	}
	return nil
}

// validate checks the input and returns the language of the document ("fr" or "en").
func (a Attestation) validate() (string, error) {
	var problems []string
	if a.Year < 2000 || a.Year > 2999 {
		problems = append(problems, fmt.Sprintf("year %d is not a year such as 2025", a.Year))
	}
	for _, f := range []struct{ name, value string }{
		{"first name", a.FirstName}, {"last name", a.LastName}, {"employer", a.Employer}, {"place", a.Place},
	} {
		v := strings.TrimSpace(f.value)
		switch {
		case v == "" && f.name != "place":
			problems = append(problems, "the "+f.name+" is empty")
		case utf8.RuneCountInString(v) > maxNameRunes:
			problems = append(problems, fmt.Sprintf("the %s is longer than %d characters", f.name, maxNameRunes))
		case !utf8.ValidString(v):
			problems = append(problems, "the "+f.name+" is not valid UTF-8")
		}
	}
	lang := strings.ToLower(a.Lang)
	switch {
	case lang == "" || lang == "fr" || strings.HasPrefix(lang, "fr-") || strings.HasPrefix(lang, "fr_"):
		lang = "fr"
	case lang == "en" || strings.HasPrefix(lang, "en-") || strings.HasPrefix(lang, "en_"):
		lang = "en"
	default:
		problems = append(problems, fmt.Sprintf("language %q is neither fr nor en", a.Lang))
	}
	if len(a.Days) > maxAttestationDays {
		problems = append(problems, fmt.Sprintf("%d days: a year has at most %d", len(a.Days), maxAttestationDays))
	} else {
		seen := make(map[string]bool, len(a.Days))
		for _, day := range a.Days {
			t, err := time.Parse(time.DateOnly, day.Date)
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("day %q is not a date YYYY-MM-DD", day.Date))
			case t.Year() != a.Year:
				problems = append(problems, fmt.Sprintf("day %s is not in %d", day.Date, a.Year))
			case seen[day.Date]:
				problems = append(problems, fmt.Sprintf("day %s is listed twice", day.Date))
			}
			seen[day.Date] = true
			for _, tr := range day.Trips {
				if math.IsNaN(tr.DistanceKm) || math.IsInf(tr.DistanceKm, 0) || tr.DistanceKm < 0 {
					problems = append(problems, fmt.Sprintf("day %s: trip distance %v km is not a distance", day.Date, tr.DistanceKm))
				}
			}
		}
	}
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("and %d more problems", len(problems)-5))
		}
		return "", fmt.Errorf("%w: %s", ErrInvalidAttestation, strings.Join(problems, "; "))
	}
	return lang, nil
}

// Layout, in millimetres on A4.
const (
	pageMargin = 20.0
	lineH      = 5.0
	rowLineH   = 4.6
	cellPad    = 1.5
)

// Widths of the table's columns: number, date, trips, distance.
const (
	colNumber   = 10.0
	colDate     = 34.0
	colTrips    = 102.0
	colDistance = 24.0
)

type attestationDoc struct {
	a      Attestation
	en     bool
	pdf    *fpdf.Fpdf
	tr     func(string) string // UTF-8 to the core fonts' Windows-1252
	left   float64
	pageH  float64
	bottom float64
}

func newAttestationDoc(a Attestation, lang string, opts pdfOptions) *attestationDoc {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(!opts.uncompressed)
	pdf.SetMargins(pageMargin, pageMargin, pageMargin)
	pdf.SetAutoPageBreak(true, pageMargin)
	pdf.AliasNbPages("{nb}")
	name := strings.TrimSpace(a.FirstName) + " " + strings.TrimSpace(a.LastName)
	pdf.SetTitle(fmt.Sprintf("Attestation sur l’honneur — forfait mobilités durables %d — %s", a.Year, name), true)
	pdf.SetAuthor(name, true)
	pdf.SetSubject("Forfait mobilités durables", true)
	pdf.SetCreator("Coach CO2", true)
	pdf.SetLang("fr-FR")
	translate := pdf.UnicodeTranslatorFromDescriptor("")
	d := &attestationDoc{a: a, en: lang == "en", pdf: pdf, left: pageMargin, bottom: pageMargin,
		tr: func(s string) string { return translate(toWindows1252(s)) }}
	_, d.pageH = pdf.GetPageSize()
	pdf.SetFooterFunc(func() {
		pdf.SetY(-14)
		pdf.SetFont("Helvetica", "", 8)
		pdf.SetTextColor(90, 90, 90)
		footer := fmt.Sprintf("Attestation sur l’honneur — FMD %d — %s — page %d/{nb}", a.Year, name, pdf.PageNo())
		pdf.CellFormat(0, 5, d.tr(footer), "", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	return d
}

func (d *attestationDoc) render(days []BikeDay) {
	a, pdf := d.a, d.pdf
	first, last := strings.TrimSpace(a.FirstName), strings.TrimSpace(a.LastName)
	employer := strings.TrimSpace(a.Employer)
	var totalKm float64
	for _, day := range days {
		for _, t := range day.Trips {
			totalKm += t.DistanceKm
		}
	}
	n := len(days)

	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 8, d.tr("ATTESTATION SUR L’HONNEUR"), "", 1, "C", false, 0, "")
	pdf.SetFont("Helvetica", "", 11)
	pdf.CellFormat(0, 6, d.tr(fmt.Sprintf("Forfait mobilités durables — trajets domicile-travail à vélo — année %d", a.Year)), "", 1, "C", false, 0, "")
	if d.en {
		pdf.SetFont("Helvetica", "I", 9)
		pdf.CellFormat(0, 5, d.tr(fmt.Sprintf("Sworn statement — sustainable mobility allowance — commuting by bike — year %d", a.Year)), "", 1, "C", false, 0, "")
	}
	pdf.Ln(6)

	d.labelled("À l’attention de", "For the attention of", employer)
	d.labelled("Salarié(e)", "Employee", first+" "+last)
	pdf.Ln(4)

	d.paragraph(fmt.Sprintf("Je soussigné(e) %s %s, salarié(e) de %s, atteste sur l’honneur avoir utilisé un vélo, "+
		"avec ou sans assistance électrique, ou une trottinette électrique pour effectuer les trajets entre ma "+
		"résidence habituelle et mon lieu de travail %s au cours de l’année %d, aux dates et pour les trajets "+
		"indiqués ci-dessous, au titre du forfait mobilités durables (article L. 3261-3-1 du Code du travail).",
		first, last, employer, plural(n, "jour", "jours", "fr"), a.Year),
		fmt.Sprintf("I, the undersigned %s %s, employee of %s, solemnly declare that I used a bicycle, with or "+
			"without electric assistance, or an electric scooter to travel between my usual residence and my place "+
			"of work on %s in %d, on the dates and for the trips listed below, for the sustainable mobility "+
			"allowance (forfait mobilités durables, article L. 3261-3-1 of the French Labour Code).",
			first, last, employer, plural(n, "day", "days", "en"), a.Year))
	pdf.Ln(3)

	d.table(days)
	pdf.Ln(3)
	pdf.SetFont("Helvetica", "B", 11)
	d.keepTogether(lineH * 3)
	pdf.CellFormat(0, lineH+1, d.tr(fmt.Sprintf("Total : %s, %s km", plural(n, "jour", "jours", "fr"), formatKm(totalKm, "fr"))), "", 1, "L", false, 0, "")
	if d.en {
		pdf.SetFont("Helvetica", "I", 9)
		pdf.CellFormat(0, lineH, d.tr(fmt.Sprintf("Total: %s, %s km", plural(n, "day", "days", "en"), formatKm(totalKm, "en"))), "", 1, "L", false, 0, "")
	}
	pdf.Ln(4)

	// The closing and the signature stay together on one page.
	closing := lineH*4 + 30
	if d.en {
		closing += lineH * 3
	}
	d.keepTogether(closing)
	d.paragraph("Fait pour servir et valoir ce que de droit.", "Made to serve and avail as of right.")
	pdf.Ln(2)
	place := strings.TrimSpace(a.Place)
	if place == "" {
		place = "______________________"
	}
	d.paragraph(fmt.Sprintf("Fait à %s, le %s", place, longDate(a.Date, "fr")),
		fmt.Sprintf("Done at %s, on %s", place, longDate(a.Date, "en")))
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "", 11)
	label := "Signature :"
	if d.en {
		label = "Signature / Signature:"
	}
	pdf.CellFormat(0, lineH, d.tr(label), "", 1, "L", false, 0, "")
	pdf.Ln(18)
	y := pdf.GetY()
	pdf.SetLineWidth(0.3)
	pdf.Line(d.left, y, d.left+80, y)
	pdf.Ln(1)
	pdf.SetFont("Helvetica", "", 9)
	pdf.CellFormat(80, lineH, d.tr(first+" "+last), "", 1, "L", false, 0, "")
}

// labelled writes "label : value", with the English label after the French one in English.
func (d *attestationDoc) labelled(fr, en, value string) {
	label := fr + " :"
	if d.en {
		label = fr + " / " + en + " :"
	}
	d.pdf.SetFont("Helvetica", "B", 11)
	w := d.pdf.GetStringWidth(d.tr(label)) + 2
	d.pdf.CellFormat(w, lineH+1, d.tr(label), "", 0, "L", false, 0, "")
	d.pdf.SetFont("Helvetica", "", 11)
	d.pdf.MultiCell(0, lineH+1, d.tr(value), "", "L", false)
}

// paragraph writes the French text, and the English one under it in English.
func (d *attestationDoc) paragraph(fr, en string) {
	d.pdf.SetFont("Helvetica", "", 11)
	d.pdf.MultiCell(0, lineH+0.5, d.tr(fr), "", "J", false)
	if d.en {
		d.pdf.Ln(1)
		d.pdf.SetFont("Helvetica", "I", 9.5)
		d.pdf.MultiCell(0, lineH, d.tr(en), "", "J", false)
	}
}

// keepTogether starts a new page unless h millimetres fit on this one.
func (d *attestationDoc) keepTogether(h float64) {
	if d.pdf.GetY()+h > d.pageH-d.bottom {
		d.pdf.AddPage()
	}
}

func (d *attestationDoc) tableHeader() {
	pdf := d.pdf
	cols := [4]float64{colNumber, colDate, colTrips, colDistance}
	pdf.SetFont("Helvetica", "B", 9)
	pdf.SetFillColor(230, 236, 230)
	heads := [4]string{"N°", "Date", "Trajets", "Distance"}
	if d.en {
		heads = [4]string{"N°", "Date", "Trajets / Trips", "Distance"}
	}
	for i, h := range heads {
		align := "L"
		if i == 0 || i == 3 {
			align = "R"
		}
		pdf.CellFormat(cols[i], 7, d.tr(h), "1", 0, align, true, 0, "")
	}
	pdf.Ln(-1)
}

// table writes one row per day: its number, date, trips (one or more lines each) and distance.
// A row never splits across pages; the header is repeated on each page.
func (d *attestationDoc) table(days []BikeDay) {
	pdf := d.pdf
	lang := "fr"
	if d.en {
		lang = "en"
	}
	d.keepTogether(7 + 2*rowLineH)
	d.tableHeader()
	if len(days) == 0 {
		pdf.SetFont("Helvetica", "I", 9)
		msg := "Aucun jour."
		if d.en {
			msg = "Aucun jour. / No day."
		}
		pdf.CellFormat(colNumber+colDate+colTrips+colDistance, 7, d.tr(msg), "1", 1, "C", false, 0, "")
		return
	}
	pdf.SetFont("Helvetica", "", 9)
	cols := [4]float64{colNumber, colDate, colTrips, colDistance}
	textW := colTrips - 2*cellPad
	for i, day := range days {
		var lines []string
		var km float64
		for _, t := range day.Trips {
			km += t.DistanceKm
			lines = append(lines, d.wrap(tripLine(t, lang), textW)...)
		}
		if len(lines) == 0 {
			lines = []string{"—"}
		}
		rowH := float64(len(lines))*rowLineH + 1.4
		if pdf.GetY()+rowH > d.pageH-d.bottom {
			pdf.AddPage()
			d.tableHeader()
			pdf.SetFont("Helvetica", "", 9)
		}
		x, y := d.left, pdf.GetY()
		date, _ := time.Parse(time.DateOnly, day.Date)
		cells := [4]string{strconv.Itoa(i + 1), shortDate(date, lang), "", formatKm(km, lang) + " km"}
		for c, text := range cells {
			pdf.Rect(x, y, cols[c], rowH, "D")
			if text != "" {
				align := "L"
				if c == 0 || c == 3 {
					align = "R"
				}
				pdf.SetXY(x, y+0.7)
				pdf.CellFormat(cols[c], rowLineH, d.tr(text), "", 0, align, false, 0, "")
			}
			if c == 2 {
				for k, line := range lines {
					pdf.SetXY(x, y+0.7+float64(k)*rowLineH)
					pdf.CellFormat(cols[c], rowLineH, d.tr(line), "", 0, "L", false, 0, "")
				}
			}
			x += cols[c]
		}
		pdf.SetXY(d.left, y+rowH)
	}
}

// wrap splits s into lines no wider than w millimetres in the current font.
func (d *attestationDoc) wrap(s string, w float64) []string {
	width := func(s string) float64 { return d.pdf.GetStringWidth(d.tr(s)) }
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		for width(word) > w { // a word longer than a line is cut
			if line != "" {
				lines = append(lines, line)
				line = ""
			}
			r := []rune(word)
			k := len(r) - 1
			for k > 1 && width(string(r[:k])) > w {
				k--
			}
			lines = append(lines, string(r[:k]))
			word = string(r[k:])
		}
		switch {
		case line == "":
			line = word
		case width(line+" "+word) <= w:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// tripLine describes a trip: "08:05 – 08:32 · 7,4 km · vélo".
func tripLine(t BikeTrip, lang string) string {
	var parts []string
	start, end := clock(t.Start), clock(t.End)
	switch {
	case start != "" && end != "":
		parts = append(parts, start+" – "+end)
	case start != "" || end != "":
		parts = append(parts, start+end)
	}
	parts = append(parts, formatKm(t.DistanceKm, lang)+" km")
	var modes []string
	for _, m := range t.Modes {
		if l := modeLabel(m, lang); !slices.Contains(modes, l) {
			modes = append(modes, l)
		}
	}
	if len(modes) > 0 {
		parts = append(parts, strings.Join(modes, ", "))
	}
	return strings.Join(parts, " · ")
}

// clock shows an RFC 3339 time as its clock time, and anything else as written.
func clock(s string) string {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Format("15:04")
	}
	return s
}

// modeLabel names a trip.Mode in the document's language.
func modeLabel(mode, lang string) string {
	var fr, en string
	switch mode {
	case "BICYCLING":
		fr, en = "vélo", "bike"
	case "BICYCLING_ELECTRIC":
		fr, en = "vélo électrique", "e-bike"
	case "SCOOTER_ELECTRIC":
		fr, en = "trottinette électrique", "e-scooter"
	case "WALKING":
		fr, en = "marche", "walking"
	case "ON_FOOT":
		fr, en = "à pied", "on foot"
	case "RUNNING":
		fr, en = "course à pied", "running"
	case "BUS":
		fr, en = "bus", "bus"
	case "BUS_ELECTRIC":
		fr, en = "bus électrique", "electric bus"
	case "TRAIN":
		fr, en = "train", "train"
	case "TRAMWAY":
		fr, en = "tramway", "tram"
	case "SUBWAY":
		fr, en = "métro", "subway"
	case "CAR", "IN_VEHICLE":
		fr, en = "voiture", "car"
	case "CAR_ELECTRIC":
		fr, en = "voiture électrique", "electric car"
	case "CARPOOL":
		fr, en = "covoiturage", "carpool"
	case "CARPOOL_ELECTRIC":
		fr, en = "covoiturage électrique", "electric carpool"
	case "MOPED":
		fr, en = "cyclomoteur", "moped"
	case "MOTO_INF_250":
		fr, en = "moto < 250 cm³", "motorbike < 250 cm³"
	case "MOTO_SUP_250":
		fr, en = "moto > 250 cm³", "motorbike > 250 cm³"
	case "AIR_OR_HSR":
		fr, en = "avion ou TGV", "plane or high-speed train"
	case "UNKNOWN":
		fr, en = "inconnu", "unknown"
	default:
		return strings.ToLower(strings.ReplaceAll(mode, "_", " "))
	}
	if lang == "en" {
		return en
	}
	return fr
}

func plural(n int, one, many, lang string) string {
	if n == 1 || (lang == "fr" && n == 0) {
		return strconv.Itoa(n) + " " + one
	}
	return strconv.Itoa(n) + " " + many
}

// formatKm writes a distance with one decimal, French style (1 234,5) or English style (1,234.5).
func formatKm(km float64, lang string) string {
	s := strconv.FormatFloat(math.Round(km*10)/10, 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	group, point := "\u00a0", ","
	if lang == "en" {
		group, point = ",", "."
	}
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	return b.String() + point + frac
}

// French month and weekday names, from January and from Sunday.
const (
	frenchMonths   = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
	frenchWeekdays = "dim. lun. mar. mer. jeu. ven. sam."
)

// shortDate writes a day of the table: "lun. 06/01/2025" or "Mon 06/01/2025".
func shortDate(t time.Time, lang string) string {
	if lang == "en" {
		return t.Format("Mon 02/01/2006")
	}
	return strings.Fields(frenchWeekdays)[t.Weekday()] + " " + t.Format("02/01/2006")
}

// longDate writes the date of signature, "1er janvier 2026" or "1 January 2026", or a blank to
// fill in by hand.
func longDate(t time.Time, lang string) string {
	if t.IsZero() {
		return "____ / ____ / ________"
	}
	if lang == "en" {
		return t.Format("2 January 2006")
	}
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %d", day, strings.Fields(frenchMonths)[t.Month()-1], t.Year())
}

// fallback replaces a character that Windows-1252 lacks and that does not decompose into a
// letter it has; ok is false for other characters.
func fallback(r rune) (string, bool) {
	switch r {
	case '≥':
		return ">=", true
	case '≤':
		return "<=", true
	case '≠':
		return "!=", true
	case '→', '➝', '⟶', '➔':
		return "->", true
	case '←':
		return "<-", true
	case '⇒':
		return "=>", true
	case '−', '‐', '‑', '‒':
		return "-", true
	case '―':
		return "—", true
	case '\u2009', '\u2007', '\u2002', '\u2003':
		return " ", true
	case '\u202f':
		return "\u00a0", true
	case '\u200b', '\u200c', '\u200d', '\ufeff':
		return "", true
	case 'Ł':
		return "L", true
	case 'ł':
		return "l", true
	case 'Đ':
		return "D", true
	case 'đ':
		return "d", true
	case 'ı':
		return "i", true
	case 'Ħ':
		return "H", true
	case 'ħ':
		return "h", true
	case '∼':
		return "~", true
	case '✓', '✔':
		return "v", true
	}
	return "", false
}

// toWindows1252 rewrites s so that every character is in Windows-1252, the encoding of the PDF
// core fonts: characters it has stay; others become a fallback, their base letter without
// accents, or "?".
func toWindows1252(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	for _, r := range s {
		if in1252(r) {
			b.WriteRune(r)
			continue
		}
		if f, ok := fallback(r); ok {
			b.WriteString(f)
			continue
		}
		if unicode.IsControl(r) { // line breaks and tabs become spaces, other controls go
			if unicode.IsSpace(r) {
				b.WriteByte(' ')
			}
			continue
		}
		base := ""
		for _, c := range norm.NFD.String(string(r)) {
			if in1252(c) && !unicode.Is(unicode.Mn, c) {
				base += string(c)
			}
		}
		if base == "" {
			base = "?"
		}
		b.WriteString(base)
	}
	return b.String()
}

func in1252(r rune) bool {
	if r < 0x80 {
		return r >= 0x20 && r != 0x7f
	}
	_, ok := charmap.Windows1252.EncodeRune(r)
	return ok
}
