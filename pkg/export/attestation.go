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

	"github.com/coachco2/coachco2/pkg/i18n"
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
	// each French text. Region subtags ("fr-FR", "en-GB") are accepted, as pkg/i18n matches them.
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
	lang := i18n.French
	if a.Lang != "" {
		var ok bool
		if lang, ok = i18n.Match(a.Lang); !ok {
			problems = append(problems, fmt.Sprintf("language %q is neither fr nor en", a.Lang))
		}
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
	a Attestation
	// fr writes the French texts; en, when the attestation is in English, their translation.
	fr, en *i18n.Printer
	// table writes the table's days, trips and distances: in English when there is en.
	table  *i18n.Printer
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
	d := &attestationDoc{a: a, fr: i18n.For(i18n.French), pdf: pdf, left: pageMargin, bottom: pageMargin,
		tr: func(s string) string { return translate(toWindows1252(s)) }}
	d.table = d.fr
	if lang == i18n.English {
		d.en, d.table = i18n.For(i18n.English), i18n.For(i18n.English)
	}
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
	year := strconv.Itoa(a.Year) // a string: %d would group its digits

	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 8, d.tr("ATTESTATION SUR L’HONNEUR"), "", 1, "C", false, 0, "")
	fr, en := d.texts(text("attestation.subtitle", year))
	pdf.SetFont("Helvetica", "", 11)
	pdf.CellFormat(0, 6, d.tr(fr), "", 1, "C", false, 0, "")
	if en != "" {
		pdf.SetFont("Helvetica", "I", 9)
		pdf.CellFormat(0, 5, d.tr(en), "", 1, "C", false, 0, "")
	}
	pdf.Ln(6)

	d.labelled("attestation.to", employer)
	d.labelled("attestation.employee", first+" "+last)
	pdf.Ln(4)

	d.paragraph(func(p *i18n.Printer) string {
		return p.T("attestation.statement", first, last, employer, p.T("attestation.days", n), year)
	})
	pdf.Ln(3)

	d.writeTable(days)
	pdf.Ln(3)
	fr, en = d.texts(func(p *i18n.Printer) string {
		return p.T("attestation.total", p.T("attestation.days", n), formatKm(p, totalKm))
	})
	pdf.SetFont("Helvetica", "B", 11)
	d.keepTogether(lineH * 3)
	pdf.CellFormat(0, lineH+1, d.tr(fr), "", 1, "L", false, 0, "")
	if en != "" {
		pdf.SetFont("Helvetica", "I", 9)
		pdf.CellFormat(0, lineH, d.tr(en), "", 1, "L", false, 0, "")
	}
	pdf.Ln(4)

	// The closing and the signature stay together on one page.
	closing := lineH*4 + 30
	if d.en != nil {
		closing += lineH * 3
	}
	d.keepTogether(closing)
	d.paragraph(text("attestation.closing"))
	pdf.Ln(2)
	place := strings.TrimSpace(a.Place)
	if place == "" {
		place = "______________________"
	}
	d.paragraph(func(p *i18n.Printer) string { return p.T("attestation.signed", place, longDate(a.Date, p)) })
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "", 11)
	pdf.CellFormat(0, lineH, d.tr(d.slashed("attestation.signature")+" :"), "", 1, "L", false, 0, "")
	pdf.Ln(18)
	y := pdf.GetY()
	pdf.SetLineWidth(0.3)
	pdf.Line(d.left, y, d.left+80, y)
	pdf.Ln(1)
	pdf.SetFont("Helvetica", "", 9)
	pdf.CellFormat(80, lineH, d.tr(first+" "+last), "", 1, "L", false, 0, "")
}

// text returns the function that writes key with args, for [attestationDoc.texts].
func text(key string, args ...any) func(*i18n.Printer) string {
	return func(p *i18n.Printer) string { return p.T(key, args...) }
}

// texts returns a text in French, and in English when the attestation has the translation
// ("" otherwise).
func (d *attestationDoc) texts(text func(*i18n.Printer) string) (fr, en string) {
	fr = text(d.fr)
	if d.en != nil {
		en = text(d.en)
	}
	return fr, en
}

// slashed returns the text of key in French, followed by " / " and the English one in English.
func (d *attestationDoc) slashed(key string) string {
	if fr, en := d.texts(text(key)); en != "" {
		return fr + " / " + en
	}
	return d.fr.T(key)
}

// labelled writes "label : value", with the English label after the French one in English.
func (d *attestationDoc) labelled(key, value string) {
	label := d.slashed(key) + " :"
	d.pdf.SetFont("Helvetica", "B", 11)
	w := d.pdf.GetStringWidth(d.tr(label)) + 2
	d.pdf.CellFormat(w, lineH+1, d.tr(label), "", 0, "L", false, 0, "")
	d.pdf.SetFont("Helvetica", "", 11)
	d.pdf.MultiCell(0, lineH+1, d.tr(value), "", "L", false)
}

// paragraph writes the French text, and the English one under it in English.
func (d *attestationDoc) paragraph(text func(*i18n.Printer) string) {
	fr, en := d.texts(text)
	d.pdf.SetFont("Helvetica", "", 11)
	d.pdf.MultiCell(0, lineH+0.5, d.tr(fr), "", "J", false)
	if en != "" {
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
	heads := [4]string{"N°", "Date", d.slashed("attestation.trips"), "Distance"}
	for i, h := range heads {
		align := "L"
		if i == 0 || i == 3 {
			align = "R"
		}
		pdf.CellFormat(cols[i], 7, d.tr(h), "1", 0, align, true, 0, "")
	}
	pdf.Ln(-1)
}

// writeTable writes one row per day: its number, date, trips (one or more lines each) and
// distance. A row never splits across pages; the header is repeated on each page.
func (d *attestationDoc) writeTable(days []BikeDay) {
	pdf, p := d.pdf, d.table
	d.keepTogether(7 + 2*rowLineH)
	d.tableHeader()
	if len(days) == 0 {
		pdf.SetFont("Helvetica", "I", 9)
		pdf.CellFormat(colNumber+colDate+colTrips+colDistance, 7, d.tr(d.slashed("attestation.noDay")), "1", 1, "C", false, 0, "")
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
			lines = append(lines, d.wrap(tripLine(t, p), textW)...)
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
		cells := [4]string{strconv.Itoa(i + 1), shortDate(date, p), "", formatKm(p, km) + " km"}
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
func tripLine(t BikeTrip, p *i18n.Printer) string {
	var parts []string
	start, end := clock(t.Start), clock(t.End)
	switch {
	case start != "" && end != "":
		parts = append(parts, start+" – "+end)
	case start != "" || end != "":
		parts = append(parts, start+end)
	}
	parts = append(parts, formatKm(p, t.DistanceKm)+" km")
	var modes []string
	for _, m := range t.Modes {
		if l := modeLabel(m, p); !slices.Contains(modes, l) {
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

// modeLabel names a trip.Mode in the document's language; one the catalog lacks, as written
// in lower case.
func modeLabel(mode string, p *i18n.Printer) string {
	if l, ok := p.Lookup("attestation.mode." + mode); ok {
		return l
	}
	return strings.ToLower(strings.ReplaceAll(mode, "_", " "))
}

// formatKm writes a distance with one decimal, the language's way: 1 234,5 or 1,234.5.
func formatKm(p *i18n.Printer, km float64) string { return p.Number(math.Round(km*10)/10, 1) }

// shortDate writes a day of the table: "lun. 06/01/2025" or "Mon 06/01/2025".
func shortDate(t time.Time, p *i18n.Printer) string {
	return p.T("weekday."+strconv.Itoa(int(t.Weekday()))) + " " + t.Format("02/01/2006")
}

// longDate writes the date of signature, "1er janvier 2026" or "1 January 2026", or a blank to
// fill in by hand.
func longDate(t time.Time, p *i18n.Printer) string {
	if t.IsZero() {
		return "____ / ____ / ________"
	}
	return p.T("date.long", t.Day(), p.T("month."+strconv.Itoa(int(t.Month()))), strconv.Itoa(t.Year()))
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
