package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/retry/retrytest"
)

// fakeClock is the clock of a conflictRetry under test: sleeping moves it
// forward at once, and each attempt takes step.
type fakeClock struct {
	retrytest.Clock
	step time.Duration
}

func (c *fakeClock) retry(budget time.Duration) conflictRetry {
	return conflictRetry{budget: budget, clock: &c.Clock}
}

// conflicting is an attempt that always conflicts and takes the clock's step.
func (c *fakeClock) conflicting(tries *int) func() error {
	return func() error {
		*tries++
		c.T = c.T.Add(c.step)
		return fmt.Errorf("put: %w", ErrConflict)
	}
}

// TestRetryKeepsTryingWithinBudget: under constant conflicts, the retry
// pauses with growing, capped, jittered pauses for its whole budget (far
// more than the 10 attempts that gave up too early on a loaded machine),
// then gives up with ErrConflict, saying after how many attempts.
func TestRetryKeepsTryingWithinBudget(t *testing.T) {
	c := &fakeClock{Clock: retrytest.Clock{T: time.Unix(0, 0)}, step: time.Millisecond}
	start := c.T
	tries := 0
	err := c.retry(UpdateBudget).run(t.Context(), "update x", c.conflicting(&tries))
	if !errors.Is(err, ErrConflict) || !strings.HasPrefix(err.Error(), "update x: still conflicting after ") ||
		!strings.Contains(err.Error(), fmt.Sprintf("after %d attempts", tries)) {
		t.Fatalf("err = %v after %d tries; want ErrConflict saying how many attempts", err, tries)
	}
	// Ten pauses of at most 10ms, 20ms... 2s add up to less than 7s: a 30s
	// budget always allows more than ten attempts.
	if tries <= 10 {
		t.Errorf("gave up after %d attempts within a %v budget", tries, UpdateBudget)
	}
	if used := c.T.Sub(start); used > UpdateBudget+c.step { // the last attempt, after the last pause, takes a step
		t.Errorf("retried for %v, past the %v budget", used, UpdateBudget)
	}
	for i, p := range c.Pauses {
		ceiling := min(2*time.Second, 5*time.Millisecond<<min(i+1, 16)) // no overflow past 40 pauses
		if p <= 0 || p > ceiling {
			t.Errorf("pause %d = %v, want in (0, %v]", i+1, p, ceiling)
		}
	}
}

// TestRetryScalesWithSlowAttempts: on a slow machine, pauses are measured
// against the time an attempt takes, not a fixed few milliseconds.
func TestRetryScalesWithSlowAttempts(t *testing.T) {
	c := &fakeClock{Clock: retrytest.Clock{T: time.Unix(0, 0)}, step: 300 * time.Millisecond}
	tries := 0
	_ = c.retry(UpdateBudget).run(t.Context(), "update x", c.conflicting(&tries))
	for i, p := range c.Pauses {
		if ceiling := min(2*time.Second, 300*time.Millisecond<<min(i+1, 16)); p > ceiling {
			t.Errorf("pause %d = %v, want at most %v", i+1, p, ceiling)
		}
	}
	if tries < 10 {
		t.Errorf("%d attempts of 300ms within %v, want at least 10", tries, UpdateBudget)
	}
}

// TestRetryHonoursContext: a deadline shorter than the budget ends the
// retries before it; a cancelled context ends them at once.
func TestRetryHonoursContext(t *testing.T) {
	c := &fakeClock{Clock: retrytest.Clock{T: time.Now()}, step: time.Millisecond}
	start := c.T
	ctx, cancel := context.WithDeadline(t.Context(), start.Add(time.Second))
	defer cancel()
	tries := 0
	err := c.retry(UpdateBudget).run(ctx, "update x", c.conflicting(&tries))
	if !errors.Is(err, ErrConflict) || c.T.Sub(start) > time.Second+c.step { // the last attempt, after the last pause, takes a step
		t.Fatalf("with a 1s deadline: %v after %v", err, c.T.Sub(start))
	}

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	tries = 0
	err = c.retry(UpdateBudget).run(ctx, "update x", c.conflicting(&tries))
	if !errors.Is(err, context.Canceled) || tries != 1 {
		t.Fatalf("cancelled: %v after %d tries; want context.Canceled after 1", err, tries)
	}
}

// TestRetryStopsOnSuccessOrOtherError: no pause without a conflict, and an
// error other than a conflict comes back as is.
func TestRetryStopsOnSuccessOrOtherError(t *testing.T) {
	c := &fakeClock{Clock: retrytest.Clock{T: time.Unix(0, 0)}}
	tries := 0
	err := c.retry(UpdateBudget).run(t.Context(), "op", func() error {
		tries++
		if tries < 4 {
			return ErrConflict
		}
		return nil
	})
	if err != nil || tries != 4 || len(c.Pauses) != 3 {
		t.Fatalf("success after 3 conflicts: %v, %d tries, %d pauses", err, tries, len(c.Pauses))
	}
	boom := errors.New("boom")
	c.Pauses = nil
	if err := c.retry(UpdateBudget).run(t.Context(), "op", func() error { return boom }); err != boom || len(c.Pauses) != 0 {
		t.Fatalf("other error: %v, %d pauses", err, len(c.Pauses))
	}
}
