package sharing_test

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/study"
)

type shareResult struct {
	sum sharing.Summary
	err error
}

// TestSchedulerSharesAndKeepsTheGuard is app serve's sharing against a real collector: the
// collector of the consent is allowed before the first share, which runs at once and sends the
// complete past periods; the next share sends nothing more; stop waits for a share in progress;
// after a revocation, ConsentsChanged closes the guard to the collector.
func TestSchedulerSharesAndKeepsTheGuard(t *testing.T) {
	ctx := t.Context()
	col := newCollector(t)
	raw := col.descriptor(studyID, 1, 2, study.CO2Monthly)
	col.register(t, raw)
	p := newParticipant(t, 300)
	if _, err := p.svc.AddStudy(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.Grant(ctx, studyID, []study.MeasureID{study.CO2Monthly}, nil); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(col.ts.URL)
	if slices.Contains(p.guard.Allowed(), u.Host) {
		t.Fatal("the collector is allowed before the scheduler starts")
	}
	shared, release := make(chan shareResult), make(chan struct{})
	sched := sharing.NewScheduler(p.svc, p.guard, sharing.SchedulerOptions{
		Every: time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		AfterShare: func(sum sharing.Summary, err error) {
			shared <- shareResult{sum, err}
			<-release
		},
	})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop, err := sched.Start(runCtx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.guard.Allowed(), u.Host) {
		t.Fatalf("allowed %v once started: want the consent's collector %s", p.guard.Allowed(), u.Host)
	}
	first := <-shared
	if first.err != nil || first.sum.Sent != 4 || col.count(t, studyID) != 4 { // January to April 2022
		t.Fatalf("first share: %+v, %v; %d at the collector, want 4 sent at once", first.sum, first.err, col.count(t, studyID))
	}
	release <- struct{}{}
	second := <-shared // in progress until released
	if second.err != nil || second.sum.Sent != 0 || len(second.sum.Studies) != 1 || second.sum.Studies[0].Pending != 0 {
		t.Fatalf("second share: %+v, %v; want nothing more due", second.sum, second.err)
	}
	cancel() // no share after this one
	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("stop returned while a share was in progress")
	default:
	}
	close(release)
	<-stopped

	if err := p.svc.Revoke(ctx, studyID); err != nil {
		t.Fatal(err)
	}
	if err := sched.ConsentsChanged(ctx); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(p.guard.Allowed(), u.Host) || col.count(t, studyID) != 0 {
		t.Fatalf("after the revocation: allowed %v, %d at the collector; want neither", p.guard.Allowed(), col.count(t, studyID))
	}
}

// TestSchedulerSharesDaily: once at start, then daily (plus up to a tenth of a day), in the
// bubble's fake time.
func TestSchedulerSharesDaily(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newParticipant(t, 50)
		var runs []time.Duration
		start := time.Now()
		sched := sharing.NewScheduler(p.svc, p.guard, sharing.SchedulerOptions{
			Logger: slog.New(slog.DiscardHandler),
			AfterShare: func(_ sharing.Summary, err error) {
				if err != nil {
					t.Error(err)
				}
				runs = append(runs, time.Since(start))
			},
		})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		stop, err := sched.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(80 * time.Hour) // the fourth share is due by 79.2 h, the fifth not before 96 h
		stop()
		if len(runs) != 4 || runs[0] != 0 {
			t.Fatalf("shares at %v in 80 hours: want one at once, then one a day", runs)
		}
		for i := 1; i < len(runs); i++ {
			if d := runs[i] - runs[i-1]; d < 24*time.Hour || d > 24*time.Hour+24*time.Hour/10 {
				t.Errorf("shares %v apart, want a day plus up to a tenth", d)
			}
		}
	})
}
