package webapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/study"
)

// studiesState is the Studies screen's service, set by [Server.EnableStudies].
type studiesState struct {
	svc *sharing.Service
	// changed is called after a consent is granted or revoked (app serve updates its network
	// guard).
	changed func(context.Context) error
	// fetch, when set, gets a study's descriptor by its id (EnableAddStudy).
	fetch func(ctx context.Context, id string) ([]byte, error)
}

// EnableStudies turns on the Studies screen (/studies) over the sharing service: the studies'
// descriptors, the consent form with a preview of exactly what would be sent, revocation, and
// the transmission log. changed (may be nil) is called after each grant or revocation. Call it
// before serving.
func (s *Server) EnableStudies(svc *sharing.Service, changed func(context.Context) error) {
	s.studies = &studiesState{svc: svc, changed: changed}
}

// EnableAddStudy adds to the Studies screen a form that adds a study by its id, its descriptor
// got with fetch: in a Cozy, from the collector through the stack's remote doctype, the app
// having no other way out. The person's explicit action, as `app studies add URL` is. Call it
// after EnableStudies, before serving.
func (s *Server) EnableAddStudy(fetch func(ctx context.Context, id string) ([]byte, error)) {
	s.studies.fetch = fetch
}

// studyMeasure is a measure of a study in the consent form.
type studyMeasure struct {
	ID      string
	Title   string
	Checked bool
}

// studyProfile is a profile field of a study in the consent form.
type studyProfile struct {
	Name, Label string
	Values      []string
	Selected    string
}

// studyView is one study on the screen.
type studyView struct {
	ID, Title, Institution, Contact, Purpose, Collector string
	Version, K, Retention                               int
	From, To                                            string
	Measures                                            []studyMeasure
	Profile                                             []studyProfile
	Consent                                             *sharing.Consent
	Active                                              bool
	NeedsNewConsent                                     bool
	Preview                                             string
	PreviewError                                        string
}

// studiesView is the Studies screen's data.
type studiesView struct {
	Enabled bool
	// CanAdd shows the form that adds a study by its id (EnableAddStudy).
	CanAdd        bool
	Studies       []studyView
	Transmissions []transmissionView
}

// transmissionView is one line of the transmission log.
type transmissionView struct {
	Time, Kind, Method, URL, Via, Status, Payload, Answer, Error string
	OK                                                           bool
}

func (s *Server) studiesPage(r *http.Request) (view, error) {
	if s.studies == nil {
		return studiesView{}, nil
	}
	ctx, svc := r.Context(), s.studies.svc
	now := s.opts.Now()
	lang := s.lang(r)
	all, err := svc.Studies(ctx)
	if err != nil {
		return nil, err
	}
	consents, err := svc.Consents(ctx)
	if err != nil {
		return nil, err
	}
	active, err := svc.Active(ctx, now)
	if err != nil {
		return nil, err
	}
	log, err := svc.Transmissions(ctx)
	if err != nil {
		return nil, err
	}
	if len(log) > 200 {
		log = log[:200]
	}
	q := r.URL.Query()
	v := studiesView{Enabled: true, CanAdd: s.studies.fetch != nil}
	for _, t := range log {
		v.Transmissions = append(v.Transmissions, transmissionView{Time: logTime(t.Time), Kind: t.Kind, Method: t.Method,
			URL: t.URL, Via: t.Via, Status: statusText(t.Status), Payload: t.Payload, Answer: t.Answer, Error: t.Error, OK: t.OK})
	}
	for i, st := range all {
		d := st.Descriptor
		if i+1 < len(all) && all[i+1].Descriptor.ID == d.ID {
			continue // only the newest version
		}
		sv := studyView{ID: d.ID, Title: d.Title, Institution: d.Institution, Contact: d.Contact, Purpose: inLang(d.Purpose, lang),
			Collector: d.CollectorURL, Version: d.Version, K: d.K, Retention: d.RetentionMonths,
			From: d.Period.From.String(), To: d.Period.To.String()}
		for _, c := range consents {
			if c.StudyID == d.ID {
				sv.Consent = &c
			}
		}
		for _, c := range active {
			if c.StudyID == d.ID {
				sv.Active = true
			}
		}
		sv.NeedsNewConsent = sv.Consent != nil && !sv.Active && !sv.Consent.Revoked() && sv.Consent.StudyVersion < d.Version
		// Checked measures: those of the preview asked for, else the active consent's, else all.
		checked := d.Measures
		profile := map[string]string{}
		if q.Get("study") == d.ID {
			checked = nil
			for _, m := range q["measures"] {
				checked = append(checked, study.MeasureID(m))
			}
			for _, f := range d.ProfileFields {
				if val := q.Get("profile_" + f.Name); val != "" {
					profile[f.Name] = val
				}
			}
		} else if sv.Active {
			checked, profile = sv.Consent.Measures, sv.Consent.Profile
		}
		for _, m := range d.Measures {
			meas, _ := study.LookupMeasure(m)
			sv.Measures = append(sv.Measures, studyMeasure{ID: string(m), Title: inLang(meas.Title, lang), Checked: slices.Contains(checked, m)})
		}
		for _, f := range d.ProfileFields {
			sv.Profile = append(sv.Profile, studyProfile{Name: f.Name, Label: inLang(f.Label, lang), Values: f.Values, Selected: profile[f.Name]})
		}
		if len(checked) > 0 && (sv.Consent == nil || sv.Active || !sv.Consent.Withdraw || q.Get("study") == d.ID) {
			b, err := svc.PreviewProfile(ctx, d.ID, checked, profile, now)
			if err != nil {
				sv.PreviewError = err.Error()
			} else {
				sv.Preview = string(b)
			}
		}
		v.Studies = append(v.Studies, sv)
	}
	return v, nil
}

// consentForm handles the consent form: preview (redirects to the screen with the preview of the
// measures checked) or grant.
func (s *Server) consentForm(w http.ResponseWriter, r *http.Request) {
	if s.studies == nil {
		s.fail(w, r, badRequest{errors.New("research sharing is not enabled")})
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, badRequest{err})
		return
	}
	id := r.PathValue("id")
	var measures []study.MeasureID
	for _, m := range r.Form["measures"] {
		measures = append(measures, study.MeasureID(m))
	}
	profile := map[string]string{}
	for k, vs := range r.Form {
		if len(k) > len("profile_") && k[:len("profile_")] == "profile_" && len(vs) > 0 && vs[0] != "" {
			profile[k[len("profile_"):]] = vs[0]
		}
	}
	if r.Form.Get("action") != "grant" {
		q := url.Values{"study": {id}}
		for _, m := range measures {
			q.Add("measures", string(m))
		}
		for k, v := range profile {
			q.Set("profile_"+k, v)
		}
		http.Redirect(w, r, "/studies?"+q.Encode()+"#study-"+id, http.StatusSeeOther)
		return
	}
	if _, err := s.studies.svc.Grant(r.Context(), id, measures, profile); err != nil {
		s.fail(w, r, badRequest{err})
		return
	}
	s.consentsChanged(r.Context())
	http.Redirect(w, r, "/studies?saved=granted#study-"+id, http.StatusSeeOther)
}

// addStudyForm adds the study of the form's id, its descriptor fetched (EnableAddStudy).
func (s *Server) addStudyForm(w http.ResponseWriter, r *http.Request) {
	if s.studies == nil || s.studies.fetch == nil {
		s.fail(w, r, badRequest{errors.New("adding a study by its id is not enabled here")})
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, badRequest{err})
		return
	}
	id := strings.TrimSpace(r.Form.Get("study"))
	if !study.ValidID(id) {
		s.fail(w, r, badRequest{fmt.Errorf("%q is not a study id: 3 to 64 lowercase letters, digits, dots and hyphens", id)})
		return
	}
	raw, err := s.studies.fetch(r.Context(), id)
	if err != nil {
		s.fail(w, r, badRequest{err})
		return
	}
	d, err := s.studies.svc.AddStudy(r.Context(), raw)
	if err != nil {
		s.fail(w, r, badRequest{err})
		return
	}
	if d.ID != id {
		s.opts.Logger.Warn("the collector answered another study than the one asked", "asked", id, "got", d.ID)
	}
	http.Redirect(w, r, "/studies?saved=added#study-"+d.ID, http.StatusSeeOther)
}

// revokeForm revokes the consent to a study and asks the collector to delete what was sent.
func (s *Server) revokeForm(w http.ResponseWriter, r *http.Request) {
	if s.studies == nil {
		s.fail(w, r, badRequest{errors.New("research sharing is not enabled")})
		return
	}
	id := r.PathValue("id")
	err := s.studies.svc.Revoke(r.Context(), id)
	s.consentsChanged(r.Context())
	if errors.Is(err, sharing.ErrNoConsent) {
		s.fail(w, r, badRequest{err})
		return
	}
	saved := "revoked"
	if err != nil {
		// Revoked all the same; the deletion request is retried by the next share.
		s.opts.Logger.Warn("withdrawal", "error", err)
		saved = "revokedPending"
	}
	http.Redirect(w, r, "/studies?saved="+saved+"#study-"+id, http.StatusSeeOther)
}

func (s *Server) consentsChanged(ctx context.Context) {
	if s.studies.changed == nil {
		return
	}
	if err := s.studies.changed(ctx); err != nil {
		s.opts.Logger.Error("update the allowed collectors", "error", err)
	}
}

// inLang picks, in a text that a study gives in both languages (its purpose, a measure's title,
// a profile field's label), the one in lang.
func inLang(t study.Text, lang string) string {
	if lang == i18n.French {
		return t.FR
	}
	return t.EN
}

// logTime formats a transmission's time.
func logTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

// statusText formats a transmission's status.
func statusText(code int) string {
	if code == 0 {
		return "—"
	}
	return strconv.Itoa(code)
}
