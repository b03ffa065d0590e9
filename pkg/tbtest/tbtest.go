// Package tbtest tests test helpers: how a helper given a testing.TB fails or skips.
//
//	r := &tbtest.Recorder{TB: t}
//	fatal, skip := r.Run(func() { sampledata.Dir(r) })
//	if !strings.Contains(skip, "OPENPATH_SAMPLES") { ... }
package tbtest

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// Recorder is a testing.TB whose Fatal, Fatalf, FailNow, Skip, Skipf and SkipNow are recorded
// instead of ending the test, and end the calling goroutine as the real ones do: call the helper
// under test through [Recorder.Run]. Everything else goes to the TB it wraps.
type Recorder struct {
	testing.TB
	mu          sync.Mutex
	fatal, skip string
}

// Run calls f in a goroutine of its own, where the recorder can end it, and returns once f has
// returned or been ended, with the message of the failure or the skip that ended it ("" for none).
func (r *Recorder) Run(f func()) (fatal, skip string) {
	r.mu.Lock()
	r.fatal, r.skip = "", ""
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal, r.skip
}

// Helper does nothing: the recorder reports no lines.
func (r *Recorder) Helper() {}

// Fatal records a failure made of args and ends the goroutine.
func (r *Recorder) Fatal(args ...any) { r.end(&r.fatal, fmt.Sprint(args...)) }

// Fatalf records a failure and ends the goroutine.
func (r *Recorder) Fatalf(format string, args ...any) { r.end(&r.fatal, fmt.Sprintf(format, args...)) }

// FailNow records a failure without a message and ends the goroutine.
func (r *Recorder) FailNow() { r.end(&r.fatal, "FailNow") }

// Skip records a skip made of args and ends the goroutine.
func (r *Recorder) Skip(args ...any) { r.end(&r.skip, fmt.Sprint(args...)) }

// Skipf records a skip and ends the goroutine.
func (r *Recorder) Skipf(format string, args ...any) { r.end(&r.skip, fmt.Sprintf(format, args...)) }

// SkipNow records a skip without a message and ends the goroutine.
func (r *Recorder) SkipNow() { r.end(&r.skip, "SkipNow") }

// end records msg in field and ends the goroutine, as testing's FailNow and SkipNow do.
func (r *Recorder) end(field *string, msg string) {
	r.mu.Lock()
	*field = msg
	r.mu.Unlock()
	runtime.Goexit()
}
