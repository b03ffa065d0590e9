package vault

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	kivik "github.com/go-kivik/kivik/v4"
)

// Vault is one person's store: the databases of one instance on a CouchDB
// server or in an embedded vault file. It is safe for concurrent use.
type Vault struct {
	client   *kivik.Client
	loc      location
	instance string
	// cozy is true for a vault reached through a Cozy stack's data API: databases are named by
	// their doctype and created by the stack.
	cozy bool
	// policy, when set, is asked before every operation (see [Policy]).
	policy Policy
	// rawGet, for an embedded vault, reads a document straight from the driver (see GetLocal).
	rawGet rawGetter

	mu  sync.Mutex
	dbs map[string]*DB // by doctype
}

// Open opens the vault named by dsn for the instance (the Cozy prefix of the
// person's databases, see [DBName]).
//
// An http:// or https://[user:password@]host:port/ DSN uses a CouchDB server:
// Open checks up front that the server answers and accepts the credentials,
// and its errors say which (unreachable, connection refused, 401 wrong
// credentials...). A file path, or file:PATH, uses the embedded driver, which
// creates the file when it does not exist; Open fails with the file's name
// when it is a directory, not a vault (SQLite) file, or cannot be opened for
// writing, and then removes a file it has just created.
//
// An instance name or a DSN that cannot be used gives an error matching
// [ErrInvalidName] or [ErrInvalidDSN], before any I/O; other errors match
// [ErrStore]. Errors name the host or the file, never the password. Open
// writes nothing but a new empty vault file.
//
// [WithPolicy] makes every later operation ask a [Policy] first;
// [WithTransport] gives the HTTP transport to reach a server; [MustExist]
// refuses a vault file or an instance that does not exist.
func Open(ctx context.Context, dsn, instance string, opts ...Option) (*Vault, error) {
	o := collectOptions(opts)
	if err := ValidateInstance(instance); err != nil {
		return nil, err
	}
	loc, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	var client *kivik.Client
	var rawGet rawGetter
	if loc.server != nil {
		client, err = openServer(ctx, loc, o)
	} else {
		client, rawGet, err = openFile(ctx, loc, o.mustExist)
	}
	if err != nil {
		return nil, err
	}
	v := &Vault{client: client, loc: loc, instance: instance, policy: o.policy, rawGet: rawGet, dbs: map[string]*DB{}}
	if o.mustExist {
		if err := v.checkInstance(ctx); err != nil {
			_ = client.Close()
			return nil, err
		}
	}
	return v, nil
}

// checkInstance says, with an error matching [ErrNoVault], that none of the
// project's databases of the instance exists.
func (v *Vault) checkInstance(ctx context.Context) error {
	for _, spec := range ProjectDatabases() {
		name, err := v.DBName(spec.Doctype)
		if err != nil {
			return err
		}
		exists, err := v.client.DBExists(ctx, name)
		if err != nil {
			return storeError{fmt.Errorf("vault: %s: check database %s: %w", v.loc, name, err)}
		}
		if exists {
			return nil
		}
	}
	return fmt.Errorf("vault: %s: %w: instance %q has no data there (check --instance; the connector's sync creates it)", v.loc, ErrNoVault, v.instance)
}

// Close releases the vault's connections or file. The DB handles become unusable.
func (v *Vault) Close() error {
	if err := v.client.Close(); err != nil {
		return fmt.Errorf("vault: %s: close: %w", v.loc, err)
	}
	return nil
}

// Instance returns the instance name (Cozy prefix) the vault was opened with.
func (v *Vault) Instance() string { return v.instance }

// Location names the vault for people: "CouchDB at http://host:port/" (without
// credentials) or "vault file PATH".
func (v *Vault) Location() string { return v.loc.String() }

// Embedded reports whether the vault is an embedded vault file rather than a
// CouchDB server.
func (v *Vault) Embedded() bool { return v.loc.server == nil }

// DBName returns the name of the instance's database for doctype.
func (v *Vault) DBName(doctype string) (string, error) {
	if v.cozy {
		return doctype, ValidateDoctype(doctype)
	}
	return DBName(v.instance, doctype)
}

// DB returns the handle of the instance's database for doctype, creating the
// database when it does not exist. Handles are cached: later calls for the
// same doctype return the same handle without a round trip.
//
// With a [Policy], DB first asks it whether the doctype is granted at all
// ([VerbAny]); each operation of the handle asks again for its own verb.
func (v *Vault) DB(ctx context.Context, doctype string) (*DB, error) {
	name, err := v.DBName(doctype)
	if err != nil {
		return nil, err
	}
	if err := v.allow(doctype, VerbAny); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if db, ok := v.dbs[doctype]; ok {
		return db, nil
	}
	exists := v.cozy // the stack creates its databases itself
	if !exists {
		if exists, err = v.client.DBExists(ctx, name); err != nil {
			return nil, storeError{fmt.Errorf("vault: %s: check database %s: %w", v.loc, name, err)}
		}
	}
	if !exists {
		err := v.client.CreateDB(ctx, name)
		if err != nil && kivik.HTTPStatus(err) != http.StatusPreconditionFailed { // 412: created meanwhile
			return nil, storeError{fmt.Errorf("vault: %s: create database %s: %w", v.loc, name, err)}
		}
	}
	kdb := v.client.DB(name)
	if err := kdb.Err(); err != nil {
		return nil, storeError{fmt.Errorf("vault: %s: open database %s: %w", v.loc, name, err)}
	}
	db := &DB{v: v, doctype: doctype, name: name, kdb: kdb}
	v.dbs[doctype] = db
	return db, nil
}

// DestroyDB deletes the instance's database for doctype with all its
// documents, and forgets its handle. Destroying a database that does not
// exist is not an error. With a [Policy], it needs DELETE on the doctype.
func (v *Vault) DestroyDB(ctx context.Context, doctype string) error {
	name, err := v.DBName(doctype)
	if err != nil {
		return err
	}
	if err := v.allow(doctype, http.MethodDelete); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.dbs, doctype)
	if err := v.client.DestroyDB(ctx, name); err != nil && kivik.HTTPStatus(err) != http.StatusNotFound {
		return fmt.Errorf("vault: %s: destroy database %s: %w", v.loc, name, err)
	}
	return nil
}

// Databases returns the sorted names of the instance's existing databases
// (every database whose name starts with the instance's prefix and "/").
// pouchdb-server strips "/" from the database names it lists, so there it
// returns none. A vault opened with a [Policy] refuses it with an error
// matching [ErrForbidden]: the list would name doctypes the policy may not grant.
func (v *Vault) Databases(ctx context.Context) ([]string, error) {
	if v.policy != nil {
		return nil, fmt.Errorf("vault: %s: list databases: %w: not with a policy", v.loc, ErrForbidden)
	}
	all, err := v.client.AllDBs(ctx)
	if err != nil {
		return nil, fmt.Errorf("vault: %s: list databases: %w", v.loc, err)
	}
	probe, err := v.DBName(DoctypeAccounts)
	if err != nil {
		return nil, err
	}
	prefix := probe[:strings.LastIndex(probe, "/")+1]
	var mine []string
	for _, name := range all {
		if strings.HasPrefix(name, prefix) {
			mine = append(mine, name)
		}
	}
	sort.Strings(mine)
	return mine, nil
}

// Spec describes one of the project's databases: its doctype and the Mango
// indexes its queries need.
type Spec struct {
	Doctype string
	Indexes []Index
}

// ProjectDatabases returns the databases the project uses, with their indexes.
func ProjectDatabases() []Spec {
	return []Spec{
		{Doctype: DoctypeTrips, Indexes: []Index{
			{Name: "by-startDate", Fields: []string{"startDate"}},
			{Name: "by-captureDevice-startDate", Fields: []string{"captureDevice", "startDate"}},
		}},
		{Doctype: DoctypeAccounts},
		{Doctype: DoctypeSettings},
		{Doctype: DoctypeStudies},
		{Doctype: DoctypeConsents},
		{Doctype: DoctypeTransmissions},
	}
}

// EnsureProject creates the project's databases that do not exist yet and
// their indexes (see [ProjectDatabases]), and returns their handles in the
// same order. It is idempotent.
func (v *Vault) EnsureProject(ctx context.Context) ([]*DB, error) {
	var dbs []*DB
	for _, spec := range ProjectDatabases() {
		db, err := v.DB(ctx, spec.Doctype)
		if err != nil {
			return nil, err
		}
		if err := db.EnsureIndexes(ctx, spec.Indexes...); err != nil {
			return nil, err
		}
		dbs = append(dbs, db)
	}
	return dbs, nil
}
