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
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/study"
)

// textPrinter prints for a person: sentences and aligned tables, numbers rounded.
type textPrinter struct{ w io.Writer }

func (p textPrinter) Report(r *indicators.Report) error {
	out := p.w
	fmt.Fprintf(out, "Period %s to %s · factor set %s (%s, version %s)\n\n", r.Period.From, r.Period.To, r.FactorSet.Name, r.FactorSet.ID, r.FactorSet.Version)
	t := r.Totals
	fmt.Fprintf(out, "%d trips, %d sections, %.1f km, %s, %.2f kg CO2e, %.0f kcal; %.2f kg CO2e avoided by walking, cycling and public transport (what they would have emitted by car over the same distances, less what they emitted)\n",
		t.Trips, t.Sections, t.DistanceKm, hours(t.DurationS), t.CO2Kg, t.Calories, r.CO2AvoidedKg)
	if r.NotATrips > 0 {
		fmt.Fprintf(out, "(%d trips labelled \"not a trip\" left out)\n", r.NotATrips)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\nMODE\tTRIPS\tKM\tKG CO2e\tSHARE OF KM\t")
	for _, m := range r.ModeOrder {
		f := r.ByMode[m]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.0f%%\t\n", m, f.Trips, f.DistanceKm, f.CO2Kg, 100*r.ModalShare.ByDistance[m])
	}
	fmt.Fprintln(tw, "\nPURPOSE\tTRIPS\tKM\tKG CO2e\t\t")
	for _, pu := range r.PurposeOrder {
		f := r.ByPurpose[pu]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t\t\n", pu, f.Trips, f.DistanceKm, f.CO2Kg)
	}
	fmt.Fprintln(tw, "\nMONTH\tTRIPS\tKM\tKG CO2e\t\t")
	for _, m := range slices.Sorted(maps.Keys(r.ByMonth)) {
		f := r.ByMonth[m]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t\t\n", m, f.Trips, f.DistanceKm, f.CO2Kg)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, y := range slices.Sorted(maps.Keys(r.BikeCommuteDays)) {
		fmt.Fprintf(out, "\nBike-commute days in %s: %d\n", y, r.BikeCommuteDays[y])
	}
	return nil
}

func hours(s float64) string {
	return fmt.Sprintf("%dh%02d", int(s)/3600, int(s)%3600/60)
}

func (p textPrinter) Trips(list []coach.TripSummary) error {
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tEND\tMODES\tPURPOSE\tKM\tMIN\tKG CO2e\tID")
	for _, l := range list {
		modes := make([]string, len(l.Modes))
		for i, m := range l.Modes {
			modes[i] = string(m)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%.0f\t%.3f\t%s\n", l.Start, l.End, strings.Join(modes, "+"), l.Purpose,
			l.DistanceM/1000, l.DurationS/60, l.CO2Kg, l.ID)
	}
	return tw.Flush()
}

func (p textPrinter) Shared(sum sharing.Summary) error {
	out := p.w
	if len(sum.Studies) == 0 && sum.Withdrawals == 0 {
		fmt.Fprintln(out, "No active consent: nothing sent.")
	}
	for _, s := range sum.Studies {
		fmt.Fprintf(out, "%s (version %d): %d due, %d stored by the collector (%d new, %d replaced, %d unchanged) in %d request(s)\n",
			s.StudyID, s.StudyVersion, s.Pending, s.Sent, s.Created, s.Replaced, s.Unchanged, s.Attempts)
		for _, d := range s.Dropped {
			fmt.Fprintf(out, "  left out: %s\n", d)
		}
		if s.Error != "" {
			fmt.Fprintf(out, "  error: %s\n", s.Error)
		}
	}
	if sum.Withdrawals > 0 {
		fmt.Fprintf(out, "%d withdrawal(s) confirmed by the collectors\n", sum.Withdrawals)
	}
	return nil
}

// DBCount is a database of the vault and how many documents it holds.
type DBCount struct {
	Name      string
	Documents int64
}

// Check prints the vault's location and each database's document count ("app check").
func Check(w io.Writer, location, instance string, dbs []DBCount) error {
	fmt.Fprintf(w, "%s, instance %s\n", location, instance)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "database\tdocuments")
	for _, db := range dbs {
		fmt.Fprintf(tw, "%s\t%d\n", db.Name, db.Documents)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Recomputed prints what a recomputation did ("app recompute").
func Recomputed(w io.Writer, res figures.Result, set *co2.FactorSet) {
	fmt.Fprintf(w, "%d trips, %d recomputed with %s %s, %d errors\n", res.Checked, res.Recomputed, set.ID, set.Version, len(res.Errors))
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  trip %s: %s\n", e.ID, e.Error)
	}
}

// StudyAdded prints a study just added, and how to consent to it ("app studies add").
func StudyAdded(w io.Writer, d *study.Descriptor) {
	fmt.Fprintf(w, "Added %s version %d: %s (%s)\nIt asks for: %s\nConsent with: app consent grant %s --measures %s\n",
		d.ID, d.Version, d.Title, d.Institution, MeasureList(d.Measures), d.ID, MeasureList(d.Measures))
}

// Studies prints the studies in the vault, every version ("app studies list").
func Studies(w io.Writer, studies []sharing.Study) error {
	if len(studies) == 0 {
		fmt.Fprintln(w, "No study yet: add one with app studies add FILE|URL.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STUDY\tVERSION\tTITLE\tINSTITUTION\tPERIOD\tK\tRETENTION\tMEASURES\tCOLLECTOR")
	for _, s := range studies {
		d := s.Descriptor
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s to %s\t%d\t%d months\t%s\t%s\n", d.ID, d.Version, d.Title, d.Institution,
			d.Period.From, d.Period.To, d.K, d.RetentionMonths, MeasureList(d.Measures), d.CollectorURL)
	}
	return tw.Flush()
}

// Preview prints the payload a consent would send now ("app consent grant --preview").
func Preview(w io.Writer, payload []byte) {
	if len(payload) == 0 {
		fmt.Fprintln(w, "Nothing would be sent now: no complete period of the study yet.")
		return
	}
	fmt.Fprintf(w, "%s\n", payload)
}

// Granted prints a consent just given ("app consent grant").
func Granted(w io.Writer, c *sharing.Consent) {
	fmt.Fprintf(w, "Consent to %s version %d given for %s; pseudonym %s; it lapses on %s.\nRun app share to send the complete past periods.\n",
		c.StudyID, c.StudyVersion, MeasureList(c.Measures), c.Pseudonym, c.ExpiresAt.Format("2006-01-02"))
}

// Revoked prints a revocation the collector confirmed ("app consent revoke").
func Revoked(w io.Writer, studyID string) {
	fmt.Fprintf(w, "Consent to %s revoked; the collector deleted what was sent under it.\n", studyID)
}

// Consents prints every consent with its state at now; active are the consents active then
// ("app consent list").
func Consents(w io.Writer, consents, active []sharing.Consent, now time.Time) error {
	if len(consents) == 0 {
		fmt.Fprintln(w, "No consent: nothing is ever sent.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STUDY\tVERSION\tSTATE\tMEASURES\tPROFILE\tGRANTED\tEXPIRES\tREVOKED\tPSEUDONYM")
	for _, c := range consents {
		state := "inactive (new study version: consent again)"
		switch {
		case slices.ContainsFunc(active, func(a sharing.Consent) bool { return a.ID == c.ID }):
			state = "active"
		case c.WithdrawnAt != nil:
			state = "revoked, data deleted"
		case c.Withdraw:
			state = "revoked, deletion pending"
		case c.Superseded:
			state = "replaced by a newer consent"
		case !now.Before(c.ExpiresAt):
			state = "expired"
		}
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
