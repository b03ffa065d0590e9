package syncbuf

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestHolds: the channel closes on the write that completes the string, even across writes, and
// at once for a string already written.
func TestHolds(t *testing.T) {
	var b Buffer
	done := b.Holds(`"created":76`)
	fmt.Fprint(&b, `{"created":7`)
	if closed(done) {
		t.Fatal("closed before the buffer holds the string")
	}
	fmt.Fprint(&b, `6}`)
	if !closed(done) {
		t.Fatal("still open once the buffer holds the string")
	}
	if !closed(b.Holds(`{"created"`)) {
		t.Fatal("Holds of a string already written must be closed at once")
	}
	if got := b.String(); got != `{"created":76}` {
		t.Fatalf("String = %q", got)
	}
}

// TestConcurrentWriters: writes from many goroutines are all kept, whole, while others read and
// wait (go test -race checks the locking).
func TestConcurrentWriters(t *testing.T) {
	var b Buffer
	const writers, lines = 8, 200
	last := b.Holds(fmt.Sprintf("writer %d line %d\n", writers-1, lines-1))
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for l := range lines {
				fmt.Fprintf(&b, "writer %d line %d\n", w, l)
				_ = b.String()
			}
		})
	}
	<-last
	wg.Wait()
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines, want %d", len(got), writers*lines)
	}
	for _, line := range got {
		var w, l int
		if n, err := fmt.Sscanf(line, "writer %d line %d", &w, &l); n != 2 || err != nil {
			t.Fatalf("line %q is not whole: %v", line, err)
		}
	}
}
