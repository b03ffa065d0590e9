package appui

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/study"
)

// textPrinter prints for a person, in their language: sentences and aligned tables, numbers
// rounded and written the language's way. Modes and purposes keep their ids, which the flags
// take.
type textPrinter struct {
	w io.Writer
	p *i18n.Printer
}

func (p textPrinter) Report(r *indicators.Report) error {
	out, l := p.w, p.p
	fmt.Fprintln(out, l.T("cli.report.period", r.Period.From, r.Period.To, r.FactorSet.Name, r.FactorSet.ID, r.FactorSet.Version))
	fmt.Fprintln(out)
	t := r.Totals
	fmt.Fprintln(out, l.T("cli.report.totals", t.Trips, t.Sections, l.Number(t.DistanceKm, 1), hours(t.DurationS), l.Number(t.CO2Kg, 2), l.Number(t.Calories, 0)))
	fmt.Fprintln(out, l.T("cli.report.avoided", l.Number(r.CO2AvoidedKg, 2)))
	if r.NotATrips > 0 {
		fmt.Fprintln(out, l.T("cli.report.notATrips", r.NotATrips))
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\n"+l.T("cli.col.mode")+"\t"+l.T("cli.col.trips")+"\tKM\tKG CO2e\t"+l.T("cli.col.shareKm")+"\t")
	for _, m := range r.ModeOrder {
		f := r.ByMode[m]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s %%\t\n", m, f.Trips, l.Number(f.DistanceKm, 1), l.Number(f.CO2Kg, 2), l.Number(100*r.ModalShare.ByDistance[m], 0))
	}
	fmt.Fprintln(tw, "\n"+l.T("cli.col.purpose")+"\t"+l.T("cli.col.trips")+"\tKM\tKG CO2e\t\t")
	for _, pu := range r.PurposeOrder {
		f := r.ByPurpose[pu]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\t\n", pu, f.Trips, l.Number(f.DistanceKm, 1), l.Number(f.CO2Kg, 2))
	}
	fmt.Fprintln(tw, "\n"+l.T("cli.col.month")+"\t"+l.T("cli.col.trips")+"\tKM\tKG CO2e\t\t")
	for _, m := range slices.Sorted(maps.Keys(r.ByMonth)) {
		f := r.ByMonth[m]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\t\n", m, f.Trips, l.Number(f.DistanceKm, 1), l.Number(f.CO2Kg, 2))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, y := range slices.Sorted(maps.Keys(r.BikeCommuteDays)) {
		fmt.Fprintln(out)
		fmt.Fprintln(out, l.T("cli.report.bikeDays", y, r.BikeCommuteDays[y]))
	}
	return nil
}

func hours(s float64) string {
	return fmt.Sprintf("%dh%02d", int(s)/3600, int(s)%3600/60)
}

func (p textPrinter) Trips(list []coach.TripSummary) error {
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	l := p.p
	fmt.Fprintln(tw, l.T("cli.col.start")+"\t"+l.T("cli.col.end")+"\t"+l.T("cli.col.modes")+"\t"+l.T("cli.col.purpose")+"\tKM\tMIN\tKG CO2e\tID\t"+l.T("cli.col.title"))
	for _, s := range list {
		modes := make([]string, len(s.Modes))
		for i, m := range s.Modes {
			modes[i] = string(m)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Start, s.End, strings.Join(modes, "+"), s.Purpose,
			l.Number(s.DistanceM/1000, 1), l.Number(s.DurationS/60, 0), l.Number(s.CO2Kg, 3), s.ID, s.Title)
	}
	return tw.Flush()
}

func (p textPrinter) Shared(sum sharing.Summary) error {
	out, l := p.w, p.p
	if len(sum.Studies) == 0 && sum.Withdrawals == 0 {
		fmt.Fprintln(out, l.T("cli.share.none"))
	}
	for _, s := range sum.Studies {
		fmt.Fprintln(out, l.T("cli.share.study", s.StudyID, s.StudyVersion, s.Pending, s.Sent, s.Created, s.Replaced, s.Unchanged, s.Attempts))
		for _, d := range s.Dropped {
			fmt.Fprintln(out, l.T("cli.share.leftOut", d))
		}
		if s.Error != "" {
			fmt.Fprintln(out, l.T("cli.share.error", s.Error))
		}
	}
	if sum.Withdrawals > 0 {
		fmt.Fprintln(out, l.T("cli.share.withdrawals", sum.Withdrawals))
	}
	return nil
}

// DBCount is a database of the vault and how many documents it holds.
type DBCount struct {
	Name      string
	Documents int64
}

// Check prints the vault's location and each database's document count ("app check"), in
// lang.
func Check(w io.Writer, lang, location, instance string, dbs []DBCount) error {
	l := i18n.For(lang)
	fmt.Fprintln(w, l.T("cli.check.vault", location, instance))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, l.T("cli.check.header"))
	for _, db := range dbs {
		fmt.Fprintf(tw, "%s\t%d\n", db.Name, db.Documents)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Recomputed prints what a recomputation did ("app recompute"), in lang.
func Recomputed(w io.Writer, lang string, res figures.Result, set *co2.FactorSet) {
	l := i18n.For(lang)
	fmt.Fprintln(w, l.T("cli.recomputed", res.Checked, res.Recomputed, set.ID, set.Version, len(res.Errors)))
	for _, e := range res.Errors {
		fmt.Fprintln(w, l.T("cli.tripError", e.ID, e.Error))
	}
}

// StudyAdded prints a study just added, and how to consent to it ("app studies add"), in lang.
func StudyAdded(w io.Writer, lang string, d *study.Descriptor) {
	fmt.Fprintln(w, i18n.For(lang).T("cli.studyAdded", d.ID, d.Version, d.Title, d.Institution, MeasureList(d.Measures), d.ID, MeasureList(d.Measures)))
}

// Studies prints the studies in the vault, every version ("app studies list"), in lang.
func Studies(w io.Writer, lang string, studies []sharing.Study) error {
	l := i18n.For(lang)
	if len(studies) == 0 {
		fmt.Fprintln(w, l.T("cli.studies.none"))
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, l.T("cli.studies.header"))
	for _, s := range studies {
		d := s.Descriptor
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.Version, d.Title, d.Institution,
			l.T("cli.studies.period", d.Period.From, d.Period.To), d.K, l.T("cli.studies.retention", d.RetentionMonths), MeasureList(d.Measures), d.CollectorURL)
	}
	return tw.Flush()
}

// Preview prints the payload a consent would send now ("app consent grant --preview"); the
// sentence saying there is none is in lang.
func Preview(w io.Writer, lang string, payload []byte) {
	if len(payload) == 0 {
		fmt.Fprintln(w, i18n.For(lang).T("cli.preview.none"))
		return
	}
	fmt.Fprintf(w, "%s\n", payload)
}

// Granted prints a consent just given ("app consent grant"), in lang.
func Granted(w io.Writer, lang string, c *sharing.Consent) {
	fmt.Fprintln(w, i18n.For(lang).T("cli.granted", c.StudyID, c.StudyVersion, MeasureList(c.Measures), c.Pseudonym, c.ExpiresAt.Format("2006-01-02")))
}

// Revoked prints a revocation the collector confirmed ("app consent revoke"), in lang.
func Revoked(w io.Writer, lang, studyID string) {
	fmt.Fprintln(w, i18n.For(lang).T("cli.revoked", studyID))
}

// Consents prints every consent with its state at now; active are the consents active then
// ("app consent list"), in lang.
func Consents(w io.Writer, lang string, consents, active []sharing.Consent, now time.Time) error {
	l := i18n.For(lang)
	if len(consents) == 0 {
		fmt.Fprintln(w, l.T("cli.consents.none"))
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, l.T("cli.consents.header"))
	for _, c := range consents {
		state := "cli.consent.inactive"
		switch {
		case slices.ContainsFunc(active, func(a sharing.Consent) bool { return a.ID == c.ID }):
			state = "cli.consent.active"
		case c.WithdrawnAt != nil:
			state = "cli.consent.deleted"
		case c.Withdraw:
			state = "cli.consent.pending"
		case c.Superseded:
			state = "cli.consent.replaced"
		case !now.Before(c.ExpiresAt):
			state = "cli.consent.expired"
		}
		state = l.T(state)
		revoked := "-"
		if c.RevokedAt != nil {
			revoked = c.RevokedAt.Format("2006-01-02")
		}
		var prof []string
		for _, k := range slices.Sorted(maps.Keys(c.Profile)) {
			prof = append(prof, k+"="+c.Profile[k])
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.StudyID, c.StudyVersion, state, MeasureList(c.Measures),
			strings.Join(prof, ","), c.GrantedAt.Format("2006-01-02"), c.ExpiresAt.Format("2006-01-02"), revoked, c.Pseudonym)
	}
	return tw.Flush()
}
