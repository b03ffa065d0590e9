// Package retry calls an operation again after a failure, with exponential backoff: capped,
// jittered, honouring the context and a server's Retry-After hint. It is the one retry loop of
// the project (the e-mission client, the transmissions to collectors, the vault's conflicting
// writes, the collector's checkpoints); the caller decides what is worth another call.
//
//	err := retry.Do(ctx, retry.Policy{Attempts: 5, Initial: time.Second, Max: time.Minute}, func(attempt int) error {
//		return send(ctx)
//	})
package retry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Jitter says how a pause is drawn below its ceiling, so that clients failing together do not
// all come back at once.
type Jitter int

// Jitters.
const (
	// EqualJitter draws a pause between half its ceiling and the whole: pauses still grow.
	EqualJitter Jitter = iota
	// FullJitter draws a pause in (0, ceiling]: the widest spread, for writers contending for
	// the same document.
	FullJitter
	// NoJitter pauses for the whole ceiling.
	NoJitter
)

// Policy says whether, when and how long to wait before calling an operation again. The zero
// Policy retries every error at once, without bound: set at least Attempts or Budget.
type Policy struct {
	// Attempts bounds the calls: 1 means no retry; 0 or less, no bound but Budget and the context.
	Attempts int
	// Initial is the ceiling of the first pause; it doubles at each retry, up to Max.
	Initial time.Duration
	// Max caps a pause, Retry-After hints included; 0 means no cap.
	Max time.Duration
	// Jitter draws each pause below its ceiling (EqualJitter by default).
	Jitter Jitter
	// ScaleToAttempt makes the time the failed call took the first ceiling when it is longer than
	// Initial, so that pauses grow with the machine's load.
	ScaleToAttempt bool
	// Budget, when > 0, bounds the whole: [Do] gives up rather than start a pause that would end
	// more than Budget after the first call, or after the context's deadline.
	Budget time.Duration

	// Retryable says whether an error is worth another call; nil means every error is.
	Retryable func(error) bool
	// RetryAfter returns the pause an error asks for (a Retry-After header), 0 for none; a hint
	// longer than the drawn pause replaces it, up to Max. nil means no hints.
	RetryAfter func(error) time.Duration
	// OnRetry, when set, is told of each pause before it starts: to log or count it.
	OnRetry func(attempt int, pause time.Duration, err error)
	// Clock measures time and pauses; nil means the real clock. Tests replace it.
	Clock Clock
}

// Clock is the time [Do] runs on.
type Clock interface {
	Now() time.Time
	// Sleep pauses for d, or until ctx ends: then it returns ctx's error.
	Sleep(ctx context.Context, d time.Duration) error
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Interrupted is the error of [Do] when the context ended before the next call: the operation's
// last error was retryable, but there was no time to try again. It matches both errors.
type Interrupted struct {
	// Err is the operation's last error.
	Err error
	// Cause is the context's error.
	Cause error
}

func (e *Interrupted) Error() string {
	return fmt.Sprintf("%v (interrupted before retrying: %v)", e.Cause, e.Err)
}

// Unwrap returns the context's error and the operation's.
func (e *Interrupted) Unwrap() []error { return []error{e.Cause, e.Err} }

// Do calls op (with the call's number, from 1) until it returns nil, then returns nil. Otherwise
// it returns op's last error as it is, when op's error is not retryable, when Attempts calls were
// made, or when the next pause would overrun the Budget; and an [*Interrupted] when ctx ends
// before the next call.
func Do(ctx context.Context, p Policy, op func(attempt int) error) error {
	clock := p.Clock
	if clock == nil {
		clock = realClock{}
	}
	start := clock.Now()
	var giveUp time.Time
	if p.Budget > 0 {
		giveUp = start.Add(p.Budget)
		if d, ok := ctx.Deadline(); ok && d.Before(giveUp) {
			giveUp = d
		}
	}
	for attempt := 1; ; attempt++ {
		began := clock.Now()
		err := op(attempt)
		if err == nil {
			return nil
		}
		if p.Retryable != nil && !p.Retryable(err) || p.Attempts > 0 && attempt >= p.Attempts {
			return err
		}
		if cause := ctx.Err(); cause != nil {
			return &Interrupted{Err: err, Cause: cause}
		}
		ended := clock.Now()
		q := p
		if p.ScaleToAttempt {
			q.Initial = max(p.Initial, ended.Sub(began))
		}
		var hint time.Duration
		if p.RetryAfter != nil {
			hint = p.RetryAfter(err)
		}
		pause := q.Delay(attempt, hint)
		if !giveUp.IsZero() && ended.Add(pause).After(giveUp) {
			return err
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, pause, err)
		}
		if cause := clock.Sleep(ctx, pause); cause != nil {
			return &Interrupted{Err: err, Cause: cause}
		}
	}
}

// Delay returns the pause after the failed call number attempt (from 1): Initial doubled
// attempt-1 times, capped at Max, drawn per Jitter; then hint instead, up to Max, when hint is
// longer.
func (p Policy) Delay(attempt int, hint time.Duration) time.Duration {
	d := max(p.Initial, 0)
	for i := 1; i < attempt && d > 0 && (p.Max <= 0 || d < p.Max) && d < time.Duration(1)<<61; i++ {
		d *= 2
	}
	if p.Max > 0 {
		d = min(d, p.Max)
	}
	switch p.Jitter {
	case EqualJitter:
		if d > 1 {
			d = d/2 + rand.N(d/2+1)
		}
	case FullJitter:
		if d > 0 {
			d = rand.N(d) + 1
		}
	}
	if hint > d {
		d = hint
		if p.Max > 0 {
			d = min(d, p.Max)
		}
	}
	return d
}
