package sqlitecouch_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-kivik/kivik/v4"

	"github.com/coachco2/coachco2/pkg/sqlitecouch"
)

// TestLiveFeedSeesOtherClients: a continuous feed shows the writes of another client of the file
// (another process, for what the feed knows: no signal reaches it but the file).
func TestLiveFeedSeesOtherClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "vault.db")
	_, db := newDB(t, path)
	writer, err := kivik.New(sqlitecouch.DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	feed := db.Changes(ctx, kivik.Params(map[string]any{"feed": "continuous", "since": "now", "heartbeat": 1000}))
	defer feed.Close()
	if _, err := writer.DB("alice/io-cozy-test").Put(ctx, "from-the-other", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if !feed.Next() || feed.ID() != "from-the-other" {
		t.Fatalf("continuous feed: %q, %v; want the other client's write", feed.ID(), feed.Err())
	}
}

// TestLiveFeedEnds: without changes, a longpoll feed ends at its timeout, and Close ends a
// continuous feed that is waiting.
func TestLiveFeedEnds(t *testing.T) {
	ctx := context.Background()
	_, db := newDB(t, "")
	feed := db.Changes(ctx, kivik.Params(map[string]any{"feed": "longpoll", "since": "now", "timeout": 0}))
	if feed.Next() || feed.Err() != nil {
		t.Fatalf("longpoll with timeout 0 and no change: %q, %v; want the end, no error", feed.ID(), feed.Err())
	}
	feed = db.Changes(ctx, kivik.Params(map[string]any{"feed": "continuous", "heartbeat": 1000, "since": "now"}))
	ended := make(chan error, 1)
	go func() {
		feed.Next()
		ended <- feed.Err()
	}()
	if err := feed.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("continuous feed closed while waiting: %v", err)
		}
	case <-time.After(time.Minute): // only a feed that never ends gets here
		t.Fatal("Close did not end a waiting continuous feed")
	}
}
