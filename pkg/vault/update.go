package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coachco2/coachco2/pkg/retry"
)

// UpdateBudget bounds the time [Update] and [DB.PutLocal] spend retrying a
// write that keeps conflicting. Only a document that many writers hammer at
// once comes near it; without conflicts there is no pause at all.
const UpdateBudget = 30 * time.Second

// Update reads the document id into a T, lets merge change it, and writes it
// back with the revision it read (optimistic concurrency). When someone else
// wrote the document in between (409 conflict), it reads it again and
// re-applies merge, after a random pause (full jitter) whose ceiling doubles
// with each conflict, starting from the time an attempt took, up to 2 s a
// pause. It gives up with an error matching [ErrConflict] when the next pause
// would end past [UpdateBudget] or past ctx's deadline; a cancelled ctx ends
// it at once.
//
// merge receives the zero T and found == false when the document does not
// exist (Update then creates it); it must be safe to call several times and
// must not keep the pointer. An error from merge stops Update and is
// returned as is, with nothing written. The "_id" and "_rev" of the written
// document are set by Update, so T needs neither field. Update returns the
// new revision. With a [Policy], Update needs GET and PUT on the doctype
// (and POST through a Cozy stack when it creates the document).
//
// Update merges, it does not replace: what T does not know of the stored
// document (members other apps set, such as an account's "relationships" or
// "mutedErrors", at any depth of nested objects) is written back as it was
// read. Only what merge changed in T's encoding is changed: a member T
// encodes differently is set, one T stops encoding (an omitempty field
// emptied) is removed, and an array T changes is replaced whole.
func Update[T any](ctx context.Context, db *DB, id string, merge func(doc *T, found bool) error) (rev string, err error) {
	return update(ctx, db, id, merge, defaultRetry())
}

func update[T any](ctx context.Context, db *DB, id string, merge func(doc *T, found bool) error, r conflictRetry) (rev string, err error) {
	if id == "" {
		return "", fmt.Errorf("vault: update in %s: empty document id", db.name)
	}
	if err := db.allow(http.MethodGet); err != nil {
		return "", err
	}
	if err := db.allow(http.MethodPut); err != nil {
		return "", err
	}
	var mergeErr error
	err = r.run(ctx, fmt.Sprintf("vault: %s: update %q in %s", db.v.loc, id, db.name), func() error {
		var (
			doc    T
			stored json.RawMessage
		)
		current, err := db.get(ctx, id, &stored)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if found {
			if err := json.Unmarshal(stored, &doc); err != nil {
				return fmt.Errorf("vault: update %q in %s: decode: %w", id, db.name, err)
			}
		}
		before, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("vault: update %q in %s: %w", id, db.name, err)
		}
		if err := merge(&doc, found); err != nil {
			mergeErr = err
			return errMerge // never retried, even if it matches ErrConflict
		}
		after, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("vault: update %q in %s: %w", id, db.name, err)
		}
		merged, err := mergeChanges(stored, before, after)
		if err != nil {
			return fmt.Errorf("vault: update %q in %s: %w", id, db.name, err)
		}
		body, err := withIDRev(merged, id, current)
		if err != nil {
			return fmt.Errorf("vault: update %q in %s: %w", id, db.name, err)
		}
		rev, err = db.put(ctx, id, json.RawMessage(body))
		return err
	})
	if mergeErr != nil {
		return "", mergeErr
	}
	if err != nil {
		return "", err
	}
	return rev, nil
}

// errMerge stops [conflictRetry.run] when merge failed.
var errMerge = errors.New("merge failed")

// conflictRetry is how [Update] and [DB.PutLocal] retry a write that
// conflicts: full jitter over an exponential ceiling, so that concurrent
// writers spread out, within a time budget.
type conflictRetry struct {
	// budget is the total time before giving up.
	budget time.Duration
	// clock is the real one unless a test replaces it.
	clock retry.Clock
}

// The pauses of a conflicting write: the first ceiling is the time the
// attempt took, at least firstPause, so that pauses grow with the machine's
// load; a pause is at most maxPause.
const (
	firstPause = 10 * time.Millisecond
	maxPause   = 2 * time.Second
)

func defaultRetry() conflictRetry { return conflictRetry{budget: UpdateBudget} }

// run calls try until it returns anything but a conflict, and returns that.
// When it gives up, its error starts with op, says after how many attempts
// and matches [ErrConflict]; when ctx ends during a pause, it matches ctx's
// error.
func (r conflictRetry) run(ctx context.Context, op string, try func() error) error {
	now := time.Now
	if r.clock != nil {
		now = r.clock.Now
	}
	start := now()
	attempts := 0
	err := retry.Do(ctx, retry.Policy{
		Initial:        firstPause,
		Max:            maxPause,
		Jitter:         retry.FullJitter,
		ScaleToAttempt: true,
		Budget:         r.budget,
		Retryable:      func(err error) bool { return errors.Is(err, ErrConflict) },
		Clock:          r.clock,
	}, func(attempt int) error {
		attempts = attempt
		return try()
	})
	var in *retry.Interrupted
	switch {
	case err != nil && attempts > 1 && ctx.Err() != nil && !errors.Is(err, ErrConflict):
		// The time ran out during an attempt that a conflict made necessary: it is the
		// conflict that did not resolve in time, whatever the cut attempt was doing.
		return fmt.Errorf("%s: still conflicting after %d attempts in %v (the next one ran out of time: %v): %w", op, attempts-1,
			now().Sub(start).Round(time.Millisecond), err, ErrConflict)
	case errors.As(err, &in):
		return fmt.Errorf("%s: conflicting, then %w", op, in.Cause)
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("%s: still conflicting after %d attempts in %v: %w", op, attempts,
			now().Sub(start).Round(time.Millisecond), ErrConflict)
	}
	return err
}

// mergeChanges applies to the stored document what changed from before to after (T's encoding
// of the stored document, and of the merged one), and keeps the rest of the stored document as
// it is: members T does not know, and members merge left alone (in their stored spelling).
// Objects changed on both sides are merged member by member; any other changed value is
// replaced. stored is nil for a new document. The stored members keep their order; new ones
// follow in T's order.
func mergeChanges(stored, before, after json.RawMessage) (json.RawMessage, error) {
	s, err := parseObject(orEmpty(stored))
	if err != nil {
		return nil, fmt.Errorf("the stored document: %w", err)
	}
	b, err := parseObject(orEmpty(before))
	if err != nil {
		return nil, err
	}
	a, err := parseObject(orEmpty(after))
	if err != nil {
		return nil, err
	}
	for _, k := range a.keys {
		av := a.vals[k]
		bv, inBefore := b.vals[k]
		if inBefore && bytes.Equal(bv, av) {
			continue // unchanged: the stored value stays
		}
		if sv, inStored := s.vals[k]; inBefore && inStored && isObject(sv) && isObject(bv) && isObject(av) {
			if av, err = mergeChanges(sv, bv, av); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		s.set(k, av)
	}
	for _, k := range b.keys {
		if _, kept := a.vals[k]; !kept {
			s.remove(k)
		}
	}
	return s.marshal(), nil
}

// orEmpty reads a missing document, or a nil map's "null", as an empty object.
func orEmpty(v json.RawMessage) json.RawMessage {
	if t := bytes.TrimSpace(v); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return json.RawMessage("{}")
	}
	return v
}

// object is a JSON object that keeps the order of its members.
type object struct {
	keys []string
	vals map[string]json.RawMessage
}

// parseObject reads a JSON object; a repeated member keeps its first place and its last value,
// as encoding/json reads it.
func parseObject(raw []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	o := &object{vals: map[string]json.RawMessage{}}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		o.set(t.(string), v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *object) set(k string, v json.RawMessage) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) remove(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	o.keys = slices.DeleteFunc(o.keys, func(have string) bool { return have == k })
}

func (o *object) marshal() json.RawMessage {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		name, _ := json.Marshal(k)
		buf.Write(name)
		buf.WriteByte(':')
		buf.Write(o.vals[k])
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// isObject reports whether a JSON value is an object.
func isObject(v json.RawMessage) bool {
	v = bytes.TrimLeft(v, " \t\r\n")
	return len(v) > 0 && v[0] == '{'
}
