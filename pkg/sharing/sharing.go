package sharing

import (
	"cmp"
	"context"
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
	// Client sends the requests straight to the collectors (give one whose transport goes
	// through the app's network guard), as an [HTTPTransport]. nil, with no Transport either:
	// Share and Revoke fail rather than use http.DefaultClient.
	Client *http.Client
	// Transport, when set, carries the requests instead of Client: [CozyRemote] in a Cozy.
	Transport Transport
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
	if s.opts.Transport == nil && s.opts.Client != nil {
		s.opts.Transport = HTTPTransport{Client: s.opts.Client}
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
	all, err := findAll[Study](ctx, s.studies)
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

// allDocs reads the documents of db that keep accepts (the others are not the service's: the
// indexes' design documents), in the order of compare.
func allDocs[T any](ctx context.Context, db *vault.DB, keep func(T) bool, compare func(a, b T) int) ([]T, error) {
	all, err := findAll[T](ctx, db)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(all, func(d T) bool { return !keep(d) })
	slices.SortFunc(out, compare)
	return out, nil
}

// findAll reads every document of db. Through a Cozy stack, a doctype's database exists from its
// first document on (cozy-stack web/data: a _find on a missing database is 404): none yet is
// none at all.
func findAll[T any](ctx context.Context, db *vault.DB) ([]T, error) {
	all, err := vault.FindAll[T](ctx, db, vault.Query{})
	if errors.Is(err, vault.ErrNotFound) {
		return nil, nil
	}
	return all, err
}
