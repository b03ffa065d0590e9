//go:build !unix

package proccpu

import (
	"errors"
	"time"
)

// Self is the CPU time this process has used so far: unknown here, outside Unix.
func Self() (time.Duration, error) {
	return 0, errors.New("proccpu: no getrusage on this system")
}
