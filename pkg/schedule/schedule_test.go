package schedule_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coachco2/coachco2/pkg/schedule"
)

// TestAHungJobDelaysOnlyItsKey: with one key's job hanging, the other keys keep their interval.
func TestAHungJobDelaysOnlyItsKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var mu sync.Mutex
		runs := map[string]int{}
		job := func(ctx context.Context, key string, deadline time.Time) {
			mu.Lock()
			runs[key]++
			mu.Unlock()
			if key == "hung" {
				<-ctx.Done() // a server that never answers, and a job that ignores its deadline
			}
		}
		keys := func(context.Context) ([]string, error) { return []string{"hung", "a", "b"}, nil }
		done := make(chan struct{})
		go func() {
			schedule.Every(ctx, time.Hour, keys, job, func(err error) { t.Error(err) })
			close(done)
		}()
		time.Sleep(10*time.Hour + time.Minute) // fake time: the bubble's clock
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		// Ten hours at one run an hour, plus up to 6 minutes of jitter per run: 10 or 11 runs... at
		// least 9 whatever the jitter.
		for _, k := range []string{"a", "b"} {
			if runs[k] < 9 || runs[k] > 11 {
				t.Errorf("key %s ran %d times in 10 hours, want about 10", k, runs[k])
			}
		}
		if runs["hung"] != 1 {
			t.Errorf("the hung key ran %d times, want 1", runs["hung"])
		}
	})
}

// TestKeysComeAndGo: a key added later starts, a removed key's job is cancelled, and a failing
// key listing keeps the running keys going.
func TestKeysComeAndGo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var mu sync.Mutex
		list := []string{"a"}
		var listErr error
		runs := map[string]int{}
		cancelled := map[string]bool{}
		job := func(ctx context.Context, key string, _ time.Time) {
			mu.Lock()
			runs[key]++
			mu.Unlock()
			if key == "a" {
				<-ctx.Done()
				mu.Lock()
				cancelled[key] = true
				mu.Unlock()
			}
		}
		keys := func(context.Context) ([]string, error) {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(list), listErr
		}
		var errs []error
		done := make(chan struct{})
		go func() {
			schedule.Every(ctx, time.Hour, keys, job, func(err error) { errs = append(errs, err) })
			close(done)
		}()
		time.Sleep(30 * time.Minute)
		mu.Lock()
		list = []string{"b"} // a removed, b added
		mu.Unlock()
		time.Sleep(time.Hour)
		synctest.Wait()
		mu.Lock()
		if !cancelled["a"] || runs["b"] != 1 {
			t.Errorf("after the change: a cancelled %v, b ran %d times", cancelled["a"], runs["b"])
		}
		listErr = errors.New("vault down")
		mu.Unlock()
		time.Sleep(3 * time.Hour)
		cancel()
		<-done
		if len(errs) == 0 || runs["b"] < 3 {
			t.Errorf("with the listing failing: %d errors reported, b ran %d times; want errors and b still running", len(errs), runs["b"])
		}
	})
}

// TestPeriodic: the job runs at once, then at the interval; Periodic returns once the job it
// interrupted has returned.
func TestPeriodic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		var runs []time.Duration
		var deadlines []time.Duration
		finished := false
		job := func(ctx context.Context, deadline time.Time) {
			runs = append(runs, time.Since(start))
			deadlines = append(deadlines, time.Until(deadline))
			if len(runs) == 6 {
				<-ctx.Done() // a run in progress when Periodic is told to stop
				time.Sleep(time.Minute)
				finished = true
			}
		}
		done := make(chan struct{})
		go func() {
			schedule.Periodic(ctx, time.Hour, job)
			close(done)
		}()
		time.Sleep(10 * time.Hour)
		cancel()
		<-done
		if !finished {
			t.Fatal("Periodic returned before the job in progress")
		}
		if len(runs) != 6 || runs[0] != 0 {
			t.Fatalf("runs at %v: want the first at once, and 6 in all (the 6th still running after 10 h)", runs)
		}
		for i, d := range deadlines {
			if d < time.Hour || d > time.Hour+6*time.Minute {
				t.Errorf("run %d: next run due in %v, want the interval plus up to a tenth", i, d)
			}
			if i > 0 && (runs[i]-runs[i-1] < time.Hour || runs[i]-runs[i-1] > time.Hour+6*time.Minute) {
				t.Errorf("runs %d and %d %v apart, want the interval plus up to a tenth", i-1, i, runs[i]-runs[i-1])
			}
		}
	})
}
