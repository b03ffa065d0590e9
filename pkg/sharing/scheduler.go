package sharing

import (
	"context"
	"log/slog"
	"time"

	"github.com/coachco2/coachco2/pkg/netguard"
	"github.com/coachco2/coachco2/pkg/schedule"
)

// CollectorsGroup is the network guard's group of allowances that [Service.AllowCollectors]
// keeps to the collectors the app may reach.
const CollectorsGroup = "collectors"

// DefaultShareEvery is how often a [Scheduler] shares when its interval is 0: daily.
const DefaultShareEvery = 24 * time.Hour

// AllowCollectors lets the guard through to the collectors of the consents active at now (and of
// the withdrawals not confirmed yet), and to no other collector: call it before Share and Revoke,
// whose requests must pass the guard.
func (s *Service) AllowCollectors(ctx context.Context, guard *netguard.Guard, now time.Time) error {
	hosts, err := s.CollectorHosts(ctx, now)
	if err != nil {
		return err
	}
	return guard.SetAllowed(CollectorsGroup, hosts)
}

// SchedulerOptions configure a [Scheduler].
type SchedulerOptions struct {
	// Every is the interval between two shares (DefaultShareEvery when 0), plus a random jitter of
	// up to a tenth of it, so that participants do not all reach a collector at once.
	Every time.Duration
	// Logger says what each share sent and what failed (slog.Default when nil).
	Logger *slog.Logger
	// AfterShare, when set, is called after each share with its summary and error.
	AfterShare func(Summary, error)
}

// Scheduler is the web app's sharing: it shares at once, then daily, with the guard's collectors
// kept to those of the active consents (before each share, after it as withdrawals get
// confirmed, and whenever the consents change).
type Scheduler struct {
	svc   *Service
	guard *netguard.Guard
	opts  SchedulerOptions
}

// NewScheduler returns the scheduler of svc, whose client goes through guard.
func NewScheduler(svc *Service, guard *netguard.Guard, opts SchedulerOptions) *Scheduler {
	if opts.Every <= 0 {
		opts.Every = DefaultShareEvery
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Scheduler{svc: svc, guard: guard, opts: opts}
}

// ConsentsChanged sets the guard's allowed collectors from the consents: call it after a consent
// is granted or revoked.
func (s *Scheduler) ConsentsChanged(ctx context.Context) error {
	return s.svc.AllowCollectors(ctx, s.guard, s.svc.opts.Now())
}

// Start allows the collectors of the active consents, then shares at once and at every interval
// in the background until ctx ends or stop is called; stop waits for a share in progress.
func (s *Scheduler) Start(ctx context.Context) (stop func(), err error) {
	if err := s.ConsentsChanged(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		schedule.Periodic(ctx, s.opts.Every, func(ctx context.Context, _ time.Time) { s.shareOnce(ctx) })
	}()
	return func() {
		cancel()
		<-done
	}, nil
}

// shareOnce allows the collectors, shares, and allows them again (withdrawals confirmed).
func (s *Scheduler) shareOnce(ctx context.Context) {
	log := s.opts.Logger
	if err := s.ConsentsChanged(ctx); err != nil {
		log.Warn("sharing: allow the collectors", "err", err)
		s.after(Summary{}, err)
		return
	}
	sum, err := s.svc.Share(ctx, s.svc.opts.Now())
	if err != nil && ctx.Err() == nil {
		log.Warn("sharing", "err", err)
	}
	if sum.Sent > 0 || sum.Withdrawals > 0 {
		log.Info("sharing", "sent", sum.Sent, "withdrawals", sum.Withdrawals)
	}
	if err := s.ConsentsChanged(ctx); err != nil && ctx.Err() == nil {
		log.Warn("sharing: allow the collectors", "err", err)
	}
	s.after(sum, err)
}

func (s *Scheduler) after(sum Summary, err error) {
	if s.opts.AfterShare != nil {
		s.opts.AfterShare(sum, err)
	}
}
