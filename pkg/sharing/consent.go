package sharing

// Consent: what a person agreed to share with a study, granted measure by measure, and revoked
// with a request to the collector to delete what was sent.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Consent is a person's consent to one version of a study.
type Consent struct {
	// ID is the consent's document id.
	ID           string `json:"_id,omitempty"`
	StudyID      string `json:"study_id"`
	StudyVersion int    `json:"study_version"`
	// Pseudonym is the consent's own: 32 random hexadecimal digits, never used for anything else.
	Pseudonym string            `json:"pseudonym"`
	Measures  []study.MeasureID `json:"measures"`
	Profile   map[string]string `json:"profile,omitempty"`
	GrantedAt time.Time         `json:"granted_at"`
	// ExpiresAt is the end of the study's last month plus its retention: nothing is sent after.
	ExpiresAt time.Time `json:"expires_at"`
	// RevokedAt is when the person revoked the consent, or granted a new one to the study.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// Superseded says the consent was replaced by a newer consent to the same study: what it
	// sent stays at the collector (unless the person revokes the study).
	Superseded bool `json:"superseded,omitempty"`
	// Withdraw says the person revoked the study: the collector must delete what the
	// pseudonym sent.
	Withdraw bool `json:"withdraw,omitempty"`
	// WithdrawnAt is when the collector confirmed it deleted the pseudonym's data.
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
}

// Revoked reports whether the consent was revoked or superseded.
func (c *Consent) Revoked() bool { return c.RevokedAt != nil }

// pendingWithdrawal reports whether the collector has yet to confirm the deletion the person
// asked for.
func (c *Consent) pendingWithdrawal() bool { return c.Withdraw && c.WithdrawnAt == nil }

// activeWith reports whether the consent may send at now, given the study's newest version.
func (c *Consent) activeWith(newest int, now time.Time) bool {
	return c.RevokedAt == nil && now.Before(c.ExpiresAt) && c.StudyVersion == newest
}

// newPseudonym draws 128 random bits as 32 lowercase hexadecimal digits.
func newPseudonym() string {
	var b [study.PseudonymLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// expiry is when a consent to d lapses: the end of the study's last month plus its retention.
func expiry(d *study.Descriptor) time.Time {
	return d.Period.To.End().AddDate(0, d.RetentionMonths, 0)
}

// checkGrant checks measures and profile answers against the descriptor.
func checkGrant(d *study.Descriptor, measures []study.MeasureID, profile map[string]string) error {
	if len(measures) == 0 {
		return fmt.Errorf("sharing: grant at least one measure of study %s (%v)", d.ID, d.Measures)
	}
	seen := map[study.MeasureID]bool{}
	for _, m := range measures {
		if !d.Requests(m) {
			return fmt.Errorf("sharing: study %s does not ask for %q (it asks for %v)", d.ID, m, d.Measures)
		}
		if seen[m] {
			return fmt.Errorf("sharing: measure %q given twice", m)
		}
		seen[m] = true
	}
	for k, v := range profile {
		f, ok := d.ProfileField(k)
		if !ok {
			return fmt.Errorf("sharing: study %s offers no profile field %q", d.ID, k)
		}
		if !slices.Contains(f.Values, v) {
			return fmt.Errorf("sharing: profile field %q of study %s: %q is not one of %v", k, d.ID, v, f.Values)
		}
	}
	return nil
}

// Grant records a consent to the newest version of a study in the vault: the measures granted
// (a subset of the study's) and the profile answers (fields and values the study offers), with
// a new random pseudonym. A previous consent to the study is superseded (revoked without a
// withdrawal: what it sent stays, and is not sent again under the new pseudonym).
func (s *Service) Grant(ctx context.Context, studyID string, measures []study.MeasureID, profile map[string]string) (*Consent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.Latest(ctx, studyID)
	if err != nil {
		return nil, err
	}
	if err := checkGrant(d, measures, profile); err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC()
	if !now.Before(expiry(d)) {
		return nil, fmt.Errorf("sharing: study %s ended and its retention is over", d.ID)
	}
	previous, err := s.consentDocs(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range previous {
		if p.StudyID != studyID || p.RevokedAt != nil {
			continue
		}
		if err := s.setRevoked(ctx, p.ID, now, true); err != nil {
			return nil, err
		}
	}
	c := Consent{
		ID:           "consent-" + newPseudonym(), // another random draw: the id says nothing of the pseudonym
		StudyID:      d.ID,
		StudyVersion: d.Version,
		Pseudonym:    newPseudonym(),
		Measures:     slices.Clone(measures),
		Profile:      profile,
		GrantedAt:    now,
		ExpiresAt:    expiry(d),
	}
	if len(c.Profile) == 0 {
		c.Profile = nil
	}
	if _, err := vault.Update(ctx, s.consents, c.ID, func(doc *Consent, _ bool) error {
		*doc = c
		doc.ID = ""
		return nil
	}); err != nil {
		return nil, fmt.Errorf("sharing: save consent to %s: %w", d.ID, err)
	}
	return &c, nil
}

// setRevoked marks a consent revoked at now: superseded by a new consent, or withdrawn.
func (s *Service) setRevoked(ctx context.Context, id string, now time.Time, superseded bool) error {
	_, err := vault.Update(ctx, s.consents, id, func(doc *Consent, found bool) error {
		if !found {
			return fmt.Errorf("sharing: consent %s vanished", id)
		}
		doc.ID = ""
		if doc.RevokedAt == nil {
			doc.RevokedAt = &now
			doc.Superseded = superseded
		}
		if !superseded {
			doc.Withdraw = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sharing: revoke consent %s: %w", id, err)
	}
	return nil
}

// setWithdrawn records the collector's confirmation of a withdrawal.
func (s *Service) setWithdrawn(ctx context.Context, id string, now time.Time) error {
	_, err := vault.Update(ctx, s.consents, id, func(doc *Consent, found bool) error {
		if !found {
			return fmt.Errorf("sharing: consent %s vanished", id)
		}
		doc.ID = ""
		if doc.RevokedAt == nil {
			doc.RevokedAt = &now
		}
		if doc.WithdrawnAt == nil {
			doc.WithdrawnAt = &now
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sharing: record withdrawal of consent %s: %w", id, err)
	}
	return nil
}

func (s *Service) consentDocs(ctx context.Context) ([]Consent, error) {
	out, err := allDocs(ctx, s.consents, func(c Consent) bool { return c.StudyID != "" }, func(a, b Consent) int {
		return cmp.Or(cmp.Compare(a.StudyID, b.StudyID), a.GrantedAt.Compare(b.GrantedAt), cmp.Compare(a.ID, b.ID))
	})
	if err != nil {
		return nil, fmt.Errorf("sharing: list consents: %w", err)
	}
	return out, nil
}

// consentsWithStudies reads the consents and the studies they refer to.
func (s *Service) consentsWithStudies(ctx context.Context) ([]Consent, []Study, error) {
	all, err := s.consentDocs(ctx)
	if err != nil {
		return nil, nil, err
	}
	studies, err := s.Studies(ctx)
	if err != nil {
		return nil, nil, err
	}
	return all, studies, nil
}

// Consents returns every consent, revoked ones included, by study then date.
func (s *Service) Consents(ctx context.Context) ([]Consent, error) { return s.consentDocs(ctx) }

// Active returns the consents that may send at now: not revoked, not expired, and to the newest
// version of their study in the vault.
func (s *Service) Active(ctx context.Context, now time.Time) ([]Consent, error) {
	all, studies, err := s.consentsWithStudies(ctx)
	if err != nil {
		return nil, err
	}
	var out []Consent
	for _, c := range all {
		d, err := latest(studies, c.StudyID)
		if err != nil {
			continue
		}
		if c.activeWith(d.Version, now) {
			out = append(out, c)
		}
	}
	return out, nil
}

// NeedsNewConsent lists the studies with a consent that a newer descriptor version made
// inactive, and no consent to that version yet.
func (s *Service) NeedsNewConsent(ctx context.Context) ([]*study.Descriptor, error) {
	all, studies, err := s.consentsWithStudies(ctx)
	if err != nil {
		return nil, err
	}
	var out []*study.Descriptor
	for _, c := range all {
		d, err := latest(studies, c.StudyID)
		if err != nil || c.RevokedAt != nil || c.StudyVersion >= d.Version || slices.Contains(out, d) {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// withdraw sends the deletion request of a revoked consent; ok says the collector confirmed it
// (200, or 404 unknown_study: it holds nothing for the study).
func (s *Service) withdraw(ctx context.Context, studies []Study, c Consent) (ok bool, err error) {
	d := descriptorOf(studies, c.StudyID, c.StudyVersion)
	if d == nil {
		if d, err = latest(studies, c.StudyID); err != nil {
			return false, err
		}
	}
	rec := Transmission{Kind: KindWithdrawal, StudyID: c.StudyID, StudyVersion: c.StudyVersion, ConsentID: c.ID}
	status, answer, _, err := s.send(ctx, rec, Request{Kind: KindWithdrawal, Study: d, Pseudonym: c.Pseudonym})
	if err != nil {
		return false, err
	}
	if status == http.StatusOK || status == http.StatusNotFound && bytes.Contains(answer, []byte(study.CodeUnknownStudy)) {
		return true, s.setWithdrawn(ctx, c.ID, s.opts.Now().UTC())
	}
	return false, fmt.Errorf("sharing: study %s: the collector refused the withdrawal: %s", c.StudyID, describe(status, answer))
}

// Revoke revokes every consent to a study and asks the collector to delete what their
// pseudonyms sent (DELETE /studies/{id}/participants/{pseudonym}, or its POST .../withdrawal
// through a Cozy's remote doctype; logged). A revoked consent
// never sends again. The revocation holds even when the deletion request fails: the error says
// so, and Share retries the request until the collector confirms.
func (s *Service) Revoke(ctx context.Context, studyID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	consents, err := s.consentDocs(ctx)
	if err != nil {
		return err
	}
	now := s.opts.Now().UTC()
	found := false
	for _, c := range consents {
		if c.StudyID != studyID || c.WithdrawnAt != nil {
			continue
		}
		found = true
		if err := s.setRevoked(ctx, c.ID, now, false); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("sharing: revoke %q: %w", studyID, ErrNoConsent)
	}
	studies, err := s.Studies(ctx)
	if err != nil {
		return err
	}
	if consents, err = s.consentDocs(ctx); err != nil {
		return err
	}
	var errs []error
	for _, c := range consents {
		if c.StudyID == studyID && c.pendingWithdrawal() {
			if _, err := s.withdraw(ctx, studies, c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sharing: consent to %s revoked, nothing more will be sent; the deletion request failed and will be retried: %w", studyID, err)
	}
	return nil
}
