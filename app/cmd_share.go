package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/netguard"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/vault"
)

// sharingWorkspace is the vault, its coach and the sharing service, whose requests go through a
// network guard that lets through only the collectors of active consents.
type sharingWorkspace struct {
	*workspace
	sharing *sharing.Service
	guard   *netguard.Guard
}

// openSharing opens the vault, the coach and the sharing service.
func (f *vaultFlags) openSharing(ctx context.Context) (*sharingWorkspace, error) {
	ws, err := f.open(ctx)
	if err != nil {
		return nil, err
	}
	guard := netguard.New()
	svc, err := sharing.New(ctx, ws.vault, ws.Coach, sharing.Options{Client: &http.Client{Transport: guard.Transport()}})
	if err != nil {
		ws.Close()
		return nil, err
	}
	return &sharingWorkspace{workspace: ws, sharing: svc, guard: guard}, nil
}

// allowCollectors lets the guard through to the collectors of the active consents (and of
// withdrawals not yet confirmed), and to nothing else.
func (s *sharingWorkspace) allowCollectors(ctx context.Context, now time.Time) error {
	hosts, err := s.sharing.CollectorHosts(ctx, now)
	if err != nil {
		return err
	}
	return s.guard.SetAllowed("collectors", hosts)
}

func newShareCmd() *cobra.Command {
	var f vaultFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "share",
		Short: "Send the measures you granted to the studies you consented to",
		Long: `Send, for each active consent, the granted measures of the study's complete past periods
(months before this one, years before this one) that were not sent yet, computed in the vault, and
retry the withdrawals the collectors have not confirmed. Only the collectors of active consents
can be reached. Every request is logged in the vault ("app consent list" shows the consents;
the web app's Studies screen shows the log).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.fill(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			ws, err := f.openSharing(ctx)
			if err != nil {
				return err
			}
			defer ws.Close()
			now := time.Now()
			if err := ws.allowCollectors(ctx, now); err != nil {
				return err
			}
			sum, shareErr := ws.sharing.Share(ctx, now)
			out := cmd.OutOrStdout()
			if asJSON {
				if err := json.NewEncoder(out).Encode(sum); err != nil {
					return err
				}
				return shareErr
			}
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
			return shareErr
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	return cmd
}

// sharingLoop is app serve's sharing: once at start, then daily, with the guard's "collectors"
// kept to the collectors of the active consents.
type sharingLoop struct {
	svc    *sharing.Service
	guard  *netguard.Guard
	logger *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// shareEvery is how often app serve shares.
const shareEvery = 24 * time.Hour

// startSharing allows the collectors of the active consents and starts the daily sharing. Stop
// it with stop.
func startSharing(ctx context.Context, v *vault.Vault, c *coach.Coach, guard *netguard.Guard, logger *slog.Logger) (*sharingLoop, error) {
	svc, err := sharing.New(ctx, v, c, sharing.Options{Client: &http.Client{Transport: guard.Transport()}})
	if err != nil {
		return nil, err
	}
	l := &sharingLoop{svc: svc, guard: guard, logger: logger, done: make(chan struct{})}
	if err := l.ConsentsChanged(ctx); err != nil {
		return nil, err
	}
	ctx, l.cancel = context.WithCancel(ctx)
	go l.run(ctx)
	return l, nil
}

// ConsentsChanged sets the guard's allowed collectors from the consents: call it after a
// consent is granted or revoked.
func (l *sharingLoop) ConsentsChanged(ctx context.Context) error {
	hosts, err := l.svc.CollectorHosts(ctx, time.Now())
	if err != nil {
		return err
	}
	return l.guard.SetAllowed("collectors", hosts)
}

func (l *sharingLoop) run(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(shareEvery)
	defer t.Stop()
	for {
		l.shareOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (l *sharingLoop) shareOnce(ctx context.Context) {
	if err := l.ConsentsChanged(ctx); err != nil {
		l.logger.Warn("sharing: allow the collectors", "err", err)
		return
	}
	sum, err := l.svc.Share(ctx, time.Now())
	if err != nil && ctx.Err() == nil {
		l.logger.Warn("sharing", "err", err)
	}
	if sum.Sent > 0 || sum.Withdrawals > 0 {
		l.logger.Info("sharing", "sent", sum.Sent, "withdrawals", sum.Withdrawals)
	}
	if err := l.ConsentsChanged(ctx); err != nil && ctx.Err() == nil { // withdrawals confirmed
		l.logger.Warn("sharing: allow the collectors", "err", err)
	}
}

// stop ends the loop and waits for a share in progress.
func (l *sharingLoop) stop() {
	l.cancel()
	<-l.done
}
