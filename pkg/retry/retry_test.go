package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/retry"
	"github.com/coachco2/coachco2/pkg/retry/retrytest"
)

// fakeClock is a test clock on which each call of the operation takes step.
type fakeClock struct {
	retrytest.Clock
	step time.Duration
}

var errFlaky = errors.New("flaky")

// failing returns an operation that fails n times, then succeeds, counting its calls.
func (c *fakeClock) failing(n int, calls *int) func(int) error {
	return func(attempt int) error {
		*calls++
		if attempt != *calls {
			panic("attempt numbers are not consecutive")
		}
		c.T = c.T.Add(c.step)
		if *calls <= n {
			return errFlaky
		}
		return nil
	}
}

func TestDoRetriesUntilSuccess(t *testing.T) {
	c := &fakeClock{Clock: retrytest.Clock{T: time.Unix(0, 0)}}
	calls := 0
	var told []int
	p := retry.Policy{Attempts: 5, Initial: time.Second, Max: time.Minute, Jitter: retry.NoJitter, Clock: c,
		OnRetry: func(attempt int, pause time.Duration, err error) {
			if err != errFlaky {
				t.Errorf("OnRetry got %v", err)
			}
			told = append(told, attempt)
		}}
	if err := retry.Do(t.Context(), p, c.failing(3, &calls)); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	if calls != 4 || len(c.Pauses) != 3 || c.Pauses[0] != want[0] || c.Pauses[1] != want[1] || c.Pauses[2] != want[2] {
		t.Fatalf("%d calls, pauses %v; want 4 calls, pauses %v", calls, c.Pauses, want)
	}
	if len(told) != 3 || told[0] != 1 || told[2] != 3 {
		t.Fatalf("OnRetry told of attempts %v", told)
	}
}

func TestDoGivesUp(t *testing.T) {
	c := &fakeClock{Clock: retrytest.Clock{T: time.Unix(0, 0)}}
	calls := 0
	p := retry.Policy{Attempts: 3, Initial: time.Millisecond, Clock: c}
	if err := retry.Do(t.Context(), p, c.failing(10, &calls)); err != errFlaky || calls != 3 || len(c.Pauses) != 2 {
		t.Fatalf("3 attempts: %v after %d calls and %d pauses; want the operation's error as is after 3 calls", err, calls, len(c.Pauses))
	}

	// Not retryable: no pause at all.
	calls, c.Pauses = 0, nil
	p.Retryable = func(err error) bool { return !errors.Is(err, errFlaky) }
	if err := retry.Do(t.Context(), p, c.failing(10, &calls)); err != errFlaky || calls != 1 || len(c.Pauses) != 0 {
		t.Fatalf("not retryable: %v after %d calls and %d pauses", err, calls, len(c.Pauses))
	}
}

// TestDoBudget: with a budget, no pause ends past it, nor past the context's deadline.
func TestDoBudget(t *testing.T) {
	c := &fakeClock{Clock: retrytest.Clock{T: time.Unix(0, 0)}, step: 10 * time.Millisecond}
	start := c.T
	calls := 0
	p := retry.Policy{Initial: 5 * time.Millisecond, Max: 2 * time.Second, Jitter: retry.FullJitter, Budget: 30 * time.Second, Clock: c}
	if err := retry.Do(t.Context(), p, c.failing(1<<30, &calls)); err != errFlaky {
		t.Fatalf("err = %v", err)
	}
	if used := c.T.Sub(start); used > 30*time.Second+c.step || calls <= 10 {
		t.Fatalf("%d calls in %v of a 30s budget", calls, used)
	}

	c = &fakeClock{Clock: retrytest.Clock{T: time.Now()}, step: 10 * time.Millisecond}
	start = c.T
	ctx, cancel := context.WithDeadline(t.Context(), start.Add(time.Second))
	defer cancel()
	p.Clock, calls = c, 0
	if err := retry.Do(ctx, p, c.failing(1<<30, &calls)); err != errFlaky || c.T.Sub(start) > time.Second+c.step { // the last call, after the last pause, takes a step
		t.Fatalf("a 1s deadline: %v after %v", err, c.T.Sub(start))
	}
}

// TestDoInterrupted: a context that ends before the next call ends the retries with an error
// matching both the context's and the operation's.
func TestDoInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := 0
	c := &fakeClock{Clock: retrytest.Clock{T: time.Unix(0, 0)}}
	err := retry.Do(ctx, retry.Policy{Attempts: 5, Clock: c}, c.failing(10, &calls))
	var in *retry.Interrupted
	if !errors.As(err, &in) || !errors.Is(err, context.Canceled) || !errors.Is(err, errFlaky) || calls != 1 {
		t.Fatalf("cancelled: %v after %d calls", err, calls)
	}

	// Cancelled during a long pause of the real clock: it ends at once.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	calls = 0
	p := retry.Policy{Attempts: 5, Initial: time.Hour, OnRetry: func(int, time.Duration, error) { cancel() }}
	err = retry.Do(ctx, p, c.failing(10, &calls))
	if !errors.As(err, &in) || !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("cancelled while pausing: %v after %d calls", err, calls)
	}
}

func TestDelay(t *testing.T) {
	p := retry.Policy{Initial: 100 * time.Millisecond, Max: time.Second}
	for range 200 {
		for attempt, ceiling := range []time.Duration{0, 100, 200, 400, 800, 1000, 1000} {
			if attempt == 0 {
				continue
			}
			ceiling *= time.Millisecond
			p.Jitter = retry.EqualJitter
			if d := p.Delay(attempt, 0); d < ceiling/2 || d > ceiling {
				t.Fatalf("equal jitter, attempt %d: %v, want in [%v, %v]", attempt, d, ceiling/2, ceiling)
			}
			p.Jitter = retry.FullJitter
			if d := p.Delay(attempt, 0); d <= 0 || d > ceiling {
				t.Fatalf("full jitter, attempt %d: %v, want in (0, %v]", attempt, d, ceiling)
			}
			p.Jitter = retry.NoJitter
			if d := p.Delay(attempt, 0); d != ceiling {
				t.Fatalf("no jitter, attempt %d: %v, want %v", attempt, d, ceiling)
			}
		}
	}
	// A longer Retry-After is honoured, up to Max; a shorter one changes nothing.
	p.Jitter = retry.NoJitter
	if d := p.Delay(1, 700*time.Millisecond); d != 700*time.Millisecond {
		t.Errorf("hint 700ms: %v", d)
	}
	if d := p.Delay(1, time.Hour); d != time.Second {
		t.Errorf("hint 1h: %v, want the 1s cap", d)
	}
	if d := p.Delay(3, time.Millisecond); d != 400*time.Millisecond {
		t.Errorf("short hint: %v", d)
	}
	// No overflow, however many attempts.
	if d := (retry.Policy{Initial: time.Second, Jitter: retry.NoJitter}).Delay(200, 0); d <= 0 {
		t.Errorf("attempt 200 without a cap: %v", d)
	}
}

// TestScaleToAttempt: slow calls make the pauses longer.
func TestScaleToAttempt(t *testing.T) {
	c := &fakeClock{Clock: retrytest.Clock{T: time.Unix(0, 0)}, step: 300 * time.Millisecond}
	calls := 0
	p := retry.Policy{Attempts: 4, Initial: 10 * time.Millisecond, Max: 10 * time.Second, Jitter: retry.NoJitter, ScaleToAttempt: true, Clock: c}
	_ = retry.Do(t.Context(), p, c.failing(10, &calls))
	want := []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond}
	if len(c.Pauses) != 3 || c.Pauses[0] != want[0] || c.Pauses[1] != want[1] || c.Pauses[2] != want[2] {
		t.Fatalf("pauses %v, want %v", c.Pauses, want)
	}
}
