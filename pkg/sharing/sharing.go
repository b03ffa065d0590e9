package sharing

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Reporter computes the indicators of a query: *coach.Coach does.
type Reporter interface {
	Report(ctx context.Context, q indicators.Query, set *co2.FactorSet) (*indicators.Report, error)
}

// Options configure a [Service].
type Options struct {
	// Client sends the requests to the collectors (give one whose transport goes through the
	// app's network guard). nil: Share and Revoke fail rather than use http.DefaultClient.
	Client *http.Client
	// Attempts is how many times a request is tried on a 5xx, a 429 or a network error (4
	// when 0).
	Attempts int
	// Backoff is the pause after the first failed attempt, doubled after each (2 s when 0).
	Backoff time.Duration
	// MaxBackoff caps a pause, Retry-After included (1 min when 0).
	MaxBackoff time.Duration
	// Now gives the time of consents, revocations and a [Scheduler]'s shares (time.Now when nil).
	Now func() time.Time
}

// Service is one person's sharing with studies, over their vault. It is safe for concurrent
// use: its operations take turns.
type Service struct {
	rep      Reporter
	studies  *vault.DB
	consents *vault.DB
	log      *vault.DB
	opts     Options
	mu       sync.Mutex
}

// ErrUnknownStudy matches the errors about a study that is not in the vault.
var ErrUnknownStudy = errors.New("no such study in the vault")

// ErrNoConsent matches the errors about a study without an active consent.
var ErrNoConsent = errors.New("no active consent to this study")

// New opens the service over the vault's studies, consents and transmissions.
func New(ctx context.Context, v *vault.Vault, rep Reporter, opts Options) (*Service, error) {
	s := &Service{rep: rep, opts: opts}
	if s.opts.Attempts <= 0 {
		s.opts.Attempts = 4
	}
	if s.opts.Backoff <= 0 {
		s.opts.Backoff = 2 * time.Second
	}
	if s.opts.MaxBackoff <= 0 {
		s.opts.MaxBackoff = time.Minute
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	var err error
	if s.studies, err = v.DB(ctx, vault.DoctypeStudies); err != nil {
		return nil, fmt.Errorf("sharing: %w", err)
	}
	if s.consents, err = v.DB(ctx, vault.DoctypeConsents); err != nil {
		return nil, fmt.Errorf("sharing: %w", err)
	}
	if s.log, err = v.DB(ctx, vault.DoctypeTransmissions); err != nil {
		return nil, fmt.Errorf("sharing: %w", err)
	}
	return s, nil
}

// Study is a descriptor kept in the vault.
type Study struct {
	Descriptor *study.Descriptor `json:"descriptor"`
	// AddedAt is when the person added it.
	AddedAt time.Time `json:"added_at"`
}

// studyDocID is the document id of a descriptor version.
func studyDocID(id string, version int) string { return id + "@v" + strconv.Itoa(version) }

// AddStudy validates a descriptor (study.ParseDescriptor) and keeps it, one document per study
// id and version. Adding the same version again changes nothing; the same version with another
// content is refused (a published descriptor is immutable: changes are a new version).
func (s *Service) AddStudy(ctx context.Context, raw []byte) (*study.Descriptor, error) {
	d, err := study.ParseDescriptor(raw)
	if err != nil {
		return nil, fmt.Errorf("sharing: study descriptor: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now().UTC()
	_, err = vault.Update(ctx, s.studies, studyDocID(d.ID, d.Version), func(doc *Study, found bool) error {
		if found {
			if !reflect.DeepEqual(doc.Descriptor, d) {
				return fmt.Errorf("sharing: study %s version %d is already in the vault with another content: a changed descriptor needs a new version", d.ID, d.Version)
			}
			return nil
		}
		*doc = Study{Descriptor: d, AddedAt: now}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sharing: add study %s: %w", d.ID, err)
	}
	return d, nil
}

// Studies returns every descriptor in the vault, every version, by study id then version.
func (s *Service) Studies(ctx context.Context) ([]Study, error) {
	all, err := vault.FindAll[Study](ctx, s.studies, vault.Query{})
	if err != nil {
		return nil, fmt.Errorf("sharing: list studies: %w", err)
	}
	out := all[:0]
	for _, st := range all {
		if st.Descriptor != nil {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b Study) int {
		return cmp.Or(cmp.Compare(a.Descriptor.ID, b.Descriptor.ID), cmp.Compare(a.Descriptor.Version, b.Descriptor.Version))
	})
	return out, nil
}

// Latest returns the newest version of a study in the vault.
func (s *Service) Latest(ctx context.Context, studyID string) (*study.Descriptor, error) {
	all, err := s.Studies(ctx)
	if err != nil {
		return nil, err
	}
	return latest(all, studyID)
}

func latest(all []Study, studyID string) (*study.Descriptor, error) {
	var d *study.Descriptor
	for _, st := range all {
		if st.Descriptor.ID == studyID && (d == nil || st.Descriptor.Version > d.Version) {
			d = st.Descriptor
		}
	}
	if d == nil {
		return nil, fmt.Errorf("sharing: study %q: %w", studyID, ErrUnknownStudy)
	}
	return d, nil
}

// descriptor returns one version of a study.
func descriptorOf(all []Study, studyID string, version int) *study.Descriptor {
	for _, st := range all {
		if st.Descriptor.ID == studyID && st.Descriptor.Version == version {
			return st.Descriptor
		}
	}
	return nil
}

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
	all, err := vault.FindAll[Consent](ctx, s.consents, vault.Query{})
	if err != nil {
		return nil, fmt.Errorf("sharing: list consents: %w", err)
	}
	out := all[:0]
	for _, c := range all {
		if c.StudyID != "" {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Consent) int {
		return cmp.Or(cmp.Compare(a.StudyID, b.StudyID), a.GrantedAt.Compare(b.GrantedAt), cmp.Compare(a.ID, b.ID))
	})
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

// CollectorHosts returns the hosts ("host:port") of the collectors the app may reach at now: those
// of the active consents, and those of revoked consents whose withdrawal the collector has not
// confirmed yet. For netguard's SetAllowed("collectors", hosts).
func (s *Service) CollectorHosts(ctx context.Context, now time.Time) ([]string, error) {
	all, studies, err := s.consentsWithStudies(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range all {
		newest, err := latest(studies, c.StudyID)
		if err != nil {
			continue
		}
		d := descriptorOf(studies, c.StudyID, c.StudyVersion)
		if d == nil {
			d = newest
		}
		if !c.activeWith(newest.Version, now) && !c.pendingWithdrawal() {
			continue
		}
		h, err := hostPort(d.CollectorURL)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out, nil
}

// hostPort returns the "host:port" of a URL, the port defaulting by scheme.
func hostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("sharing: collector URL %q: %w", raw, err)
	}
	if u.Port() != "" {
		return u.Host, nil
	}
	port := "443"
	if u.Scheme == "http" {
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}
