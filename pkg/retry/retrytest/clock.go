// Package retrytest gives tests a clock for [retry.Policy] on which pauses take no time.
package retrytest

import (
	"context"
	"time"

	"github.com/coachco2/coachco2/pkg/retry"
)

// Clock is a [retry.Clock] whose Sleep returns at once, moving T forward by the pause and
// recording it in Pauses. It is not safe for concurrent use.
type Clock struct {
	T      time.Time
	Pauses []time.Duration
}

var _ retry.Clock = (*Clock)(nil)

// Now returns T.
func (c *Clock) Now() time.Time { return c.T }

// Sleep records d and moves T forward by it, unless ctx is done: then it returns ctx's error.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Pauses = append(c.Pauses, d)
	c.T = c.T.Add(d)
	return nil
}
