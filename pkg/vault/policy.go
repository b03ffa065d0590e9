package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/tidwall/gjson"
)

// ErrForbidden matches errors for an operation that the vault's [Policy]
// refused. The message names the doctype and the verb.
const ErrForbidden Error = "forbidden"

// VerbAny is the verb [Vault.DB] asks a [Policy] about: is the doctype granted
// for at least one verb? The other verbs a policy is asked about are the HTTP
// methods of Cozy's data API: "GET", "POST", "PUT" and "DELETE".
const VerbAny = "*"

// Policy decides whether the vault may perform an operation: verb (an HTTP
// method of Cozy's data API, or [VerbAny]) on the database of doctype. It
// returns nil to allow it and an error to refuse it; the vault wraps a refusal
// so that it matches [ErrForbidden] and names the doctype and the verb, so
// the policy's own error only needs to say why.
//
// Each operation of a [DB] asks the policy before it touches the store, on
// every call (a policy may change its answers over time):
//
//	Get, GetMany, Find, FindAll, Count, Changes, Indexes, GetLocal    GET
//	Put, PutLocal                                                     PUT
//	Create, EnsureIndexes (when it has an index to create)           POST
//	SaveMany                  POST, and DELETE when a document has "_deleted": true
//	Update                                                      GET then PUT
//	Delete                                                           DELETE
//
// Through a Cozy stack, EnsureIndexes asks GET, as the stack does for
// POST /data/:doctype/_index.
//
// [Vault.DB] asks for [VerbAny], [Vault.DestroyDB] for DELETE; a vault with a
// policy refuses [Vault.Databases], which would list every doctype.
// A Policy must be safe for concurrent use.
type Policy func(doctype, verb string) error

// Option configures [Open] and [OpenCozy].
type Option func(*options)

type options struct {
	policy    Policy
	transport http.RoundTripper // see WithTransport
	mustExist bool              // see MustExist
}

// MustExist makes [Open] refuse, with an error matching [ErrNoVault], a vault
// file that does not exist (rather than create it) and an instance none of
// whose databases exists: what commands that only read open a vault with, so
// that a typo in --vault or --instance is reported instead of showing an
// empty vault. [OpenCozy] ignores it: the stack's instance exists.
func MustExist() Option {
	return func(o *options) { o.mustExist = true }
}

// WithPolicy makes every operation of the vault ask p first (see [Policy]).
// A nil p allows everything, like no option.
func WithPolicy(p Policy) Option {
	return func(o *options) { o.policy = p }
}

// collectOptions applies opts in order.
func collectOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// allow asks the vault's policy whether verb is allowed on doctype, and
// returns its refusal wrapped so that it matches [ErrForbidden].
func (v *Vault) allow(doctype, verb string) error {
	if v.policy == nil {
		return nil
	}
	err := v.policy(doctype, verb)
	if err == nil {
		return nil
	}
	what := verb
	if verb == VerbAny {
		what = "any access"
	}
	if errors.Is(err, ErrForbidden) {
		return fmt.Errorf("vault: %s: %s on %s: %w", v.loc, what, doctype, err)
	}
	return fmt.Errorf("vault: %s: %s on %s: %w: %w", v.loc, what, doctype, ErrForbidden, err)
}

// allow asks the vault's policy whether verb is allowed on the database.
func (d *DB) allow(verb string) error { return d.v.allow(d.doctype, verb) }

// allowBulk asks the vault's policy for what a _bulk_docs write of docs does:
// POST, and DELETE when one of the documents is a deletion.
func allowBulk[T any](db *DB, docs []T) error {
	if db.v.policy == nil {
		return nil
	}
	if err := db.allow(http.MethodPost); err != nil {
		return err
	}
	for i := range docs {
		deletes, err := isDeletion(docs[i])
		if err != nil {
			return fmt.Errorf("vault: bulk write to %s: document %d: %w", db.name, i, err)
		}
		if deletes {
			return db.allow(http.MethodDelete)
		}
	}
	return nil
}

// isDeletion reports whether doc carries "_deleted": true.
func isDeletion(doc any) (bool, error) {
	var raw []byte
	switch d := doc.(type) {
	case map[string]any:
		deleted, _ := d["_deleted"].(bool)
		return deleted, nil
	case json.RawMessage:
		raw = d
	case []byte:
		raw = d
	default:
		var err error
		if raw, err = json.Marshal(doc); err != nil {
			return false, err
		}
	}
	// Every top-level "_deleted" counts: a server might honour any of duplicated keys.
	deletes := false
	gjson.ParseBytes(raw).ForEach(func(key, value gjson.Result) bool {
		if key.String() == "_deleted" && value.Type == gjson.True {
			deletes = true
		}
		return !deletes
	})
	return deletes, nil
}
