package tbtest

import (
	"testing"
)

// TestRecorder: each way of failing or skipping is recorded and ends the helper there, and a
// helper that returns records nothing.
func TestRecorder(t *testing.T) {
	r := &Recorder{TB: t}
	for _, c := range []struct {
		name        string
		helper      func(testing.TB)
		fatal, skip string
	}{
		{"Fatal", func(tb testing.TB) { tb.Fatal("no ", "samples") }, "no samples", ""},
		{"Fatalf", func(tb testing.TB) { tb.Fatalf("no %s", "samples") }, "no samples", ""},
		{"FailNow", func(tb testing.TB) { tb.FailNow() }, "FailNow", ""},
		{"Skip", func(tb testing.TB) { tb.Skip("no ", "chromium") }, "", "no chromium"},
		{"Skipf", func(tb testing.TB) { tb.Skipf("no %s", "chromium") }, "", "no chromium"},
		{"SkipNow", func(tb testing.TB) { tb.SkipNow() }, "", "SkipNow"},
		{"returns", func(tb testing.TB) { tb.Helper() }, "", ""},
	} {
		after := false
		fatal, skip := r.Run(func() {
			c.helper(r)
			after = true
		})
		if fatal != c.fatal || skip != c.skip {
			t.Errorf("%s: fatal %q, skip %q; want %q, %q", c.name, fatal, skip, c.fatal, c.skip)
		}
		if ended := c.fatal != "" || c.skip != ""; after == ended {
			t.Errorf("%s: the helper went on to its end: %v, want %v", c.name, after, !ended)
		}
	}
	if t.Failed() || t.Skipped() {
		t.Fatal("the recorder reached the real test")
	}
}
