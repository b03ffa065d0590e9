package sqlitecouch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-kivik/kivik/v4/x/mango"
	"github.com/tidwall/gjson"
	"golang.org/x/text/collate"

	"github.com/coachco2/coachco2/pkg/jsonscan"
)

// The Mango selector language, with CouchDB's semantics.
//
// kivik's x/mango parses and matches simple selectors, but differs from CouchDB where this
// project needs it to agree (and where pouchdb-server agrees with CouchDB): it rejects two
// operators on one field ({"n": {"$gt": 1, "$lt": 5}}) and implicit nested fields ({"a": {"b": 1}}),
// panics on an $elemMatch over objects ({"tags": {"$elemMatch": {"name": "x"}}}), matches a
// missing field with $ne, $nin and $lt (CouchDB never matches a missing field except with
// {"$exists": false}), and compares 1.2 and 1.7 as equal. So selectors are compiled here, with
// kivik's field-path splitting (mango.SplitKeys) and CouchDB's normalisation rules
// (mango_selector:normalize):
//   - {"a": v} where v is not an object, or is an object with no operator, means a == v, or
//     a nested selector when the object's keys are field names;
//   - several members of one object are an implicit $and;
//   - combination operators under a field ({"a": {"$or": [...]}}) apply to that field;
//   - negations ($not, $nor) are pushed down to the conditions by De Morgan's laws, and a
//     negated comparison becomes its opposite ($lt becomes $gte, $in becomes $nin...): so, as
//     in CouchDB, {"$not": {"a": {"$lt": 2}}} matches only documents that have a;
//   - _id is compared by raw bytes, as _all_docs orders it, other fields by collation.

// matcher tests one decoded document (or array element).
type matcher interface {
	match(v any) bool
}

type allOf []matcher
type anyOf []matcher

func (ms allOf) match(v any) bool {
	for _, m := range ms {
		if !m.match(v) {
			return false
		}
	}
	return true
}

// match of an empty $or is true, as in CouchDB.
func (ms anyOf) match(v any) bool {
	for _, m := range ms {
		if m.match(v) {
			return true
		}
	}
	return len(ms) == 0
}

// field applies a condition to the value at path; an empty path is the value itself.
type field struct {
	path []string
	cond condition
}

// condition tests a field's value; present is false when the document has no such field.
type condition interface {
	test(v any, present bool) bool
}

func (f field) match(v any) bool {
	for _, seg := range f.path {
		obj, ok := v.(map[string]any)
		if !ok {
			return f.cond.test(nil, false)
		}
		if v, ok = obj[seg]; !ok {
			return f.cond.test(nil, false)
		}
	}
	return f.cond.test(v, true)
}

// compare is a comparison operator against a fixed value.
type compare struct {
	op  string
	arg any
	cmp func(a, b any) int
}

func (c compare) test(v any, present bool) bool {
	if !present {
		return false
	}
	r := c.cmp(v, c.arg)
	switch c.op {
	case "$eq":
		return r == 0
	case "$ne":
		return r != 0
	case "$lt":
		return r < 0
	case "$lte":
		return r <= 0
	case "$gt":
		return r > 0
	case "$gte":
		return r >= 0
	}
	return false
}

// predicate is any other operator, written as a function of a present value.
type predicate func(v any) bool

func (p predicate) test(v any, present bool) bool { return present && p(v) }

type exists bool

func (e exists) test(_ any, present bool) bool { return present == bool(e) }

// negated is an operator that has no opposite ($regex, $size, $elemMatch...) under a negation:
// like every condition but {"$exists": false}, it matches only a field that is there.
type negated struct{ c condition }

func (n negated) test(v any, present bool) bool { return present && !n.c.test(v, present) }

// selector is a compiled Mango selector.
type selector struct {
	root matcher
	// constraints are the top-level conditions on fields that must all hold: what an index can
	// narrow a query by.
	constraints []constraint
	// required are the fields every matching document has (mango_selector:has_required_fields):
	// an index serves the query only when the selector requires all of its fields.
	required map[string]bool
	// roots are the top-level members the selector reads: the only ones a match must decode.
	roots map[string]bool
}

// constraint is one conjunctive top-level condition on a field, kept for query planning.
type constraint struct {
	field string // dotted path as written in the index definition
	op    string
	arg   any
}

// compileSelector compiles raw JSON; errors are 400s that say what is wrong.
func compileSelector(raw json.RawMessage, col *collate.Collator) (*selector, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errBadRequest("selector is required")
	}
	c := &selectorCompiler{col: col}
	m, required, err := c.object(raw, nil, true, false)
	if err != nil {
		return nil, &Error{Status: 400, Name: "invalid_selector", Reason: err.Error()}
	}
	return &selector{root: m, constraints: c.constraints, required: required, roots: c.roots}, nil
}

type selectorCompiler struct {
	col         *collate.Collator
	constraints []constraint
	roots       map[string]bool
}

// fields is a set of dotted field paths.
type fields map[string]bool

func union(sets []fields) fields {
	out := fields{}
	for _, s := range sets {
		for f := range s {
			out[f] = true
		}
	}
	return out
}

// intersection of no set is empty: an empty $or requires nothing.
func intersection(sets []fields) fields {
	out := fields{}
	if len(sets) == 0 {
		return out
	}
	for f := range sets[0] {
		out[f] = true
		for _, s := range sets[1:] {
			if !s[f] {
				delete(out, f)
				break
			}
		}
	}
	return out
}

// conjunction combines parts that must all hold (neg false) or, negated, parts of which one must
// fail: by De Morgan's laws, their negations of which one must hold.
func conjunction(parts []matcher, required []fields, neg bool) (matcher, fields) {
	if neg {
		return anyOf(parts), intersection(required)
	}
	if len(parts) == 1 {
		return parts[0], required[0]
	}
	return allOf(parts), union(required)
}

// object compiles a selector object whose conditions apply at path. top is true while its
// conditions still all must hold at the top of the selector; neg is true under an odd number
// of negations. It returns the matcher and the fields a matching document must have.
func (c *selectorCompiler) object(raw json.RawMessage, path []string, top, neg bool) (matcher, fields, error) {
	members, err := objectMembers(raw)
	if err != nil {
		return nil, nil, err
	}
	if len(members) > 1 && neg {
		top = false // not (a and b) is (not a) or (not b)
	}
	parts := make([]matcher, 0, len(members))
	required := make([]fields, 0, len(members))
	for _, m := range members {
		sub, req, err := c.member(m.key, m.raw, path, top, neg)
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, sub)
		required = append(required, req)
	}
	if len(parts) == 0 {
		return allOf(nil), fields{}, nil
	}
	m, req := conjunction(parts, required, neg)
	return m, req, nil
}

func (c *selectorCompiler) member(key string, raw json.RawMessage, path []string, top, neg bool) (matcher, fields, error) {
	if !strings.HasPrefix(key, "$") {
		sub := append(append([]string(nil), path...), mango.SplitKeys(key)...)
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 && raw[0] == '{' {
			members, err := objectMembers(raw)
			if err != nil {
				return nil, nil, err
			}
			if len(members) > 0 {
				return c.object(raw, sub, top, neg)
			}
		}
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", key, err)
		}
		return c.condition("$eq", v, raw, sub, top, neg)
	}
	switch key {
	case "$and", "$or", "$nor":
		var args []json.RawMessage
		if err := json.Unmarshal(raw, &args); err != nil {
			return nil, nil, fmt.Errorf("%s takes an array of selectors", key)
		}
		// $nor is the conjunction of the negated arguments; $or, negated, too.
		all := key == "$and" && !neg || key == "$nor" && !neg || key == "$or" && neg
		argNeg := neg != (key == "$nor")
		parts := make([]matcher, 0, len(args))
		required := make([]fields, 0, len(args))
		for _, a := range args {
			m, req, err := c.object(a, path, top && all, argNeg)
			if err != nil {
				return nil, nil, err
			}
			parts = append(parts, m)
			required = append(required, req)
		}
		if all {
			return allOf(parts), union(required), nil
		}
		return anyOf(parts), intersection(required), nil
	case "$not":
		return c.object(raw, path, top, !neg)
	}
	if path == nil {
		return nil, nil, fmt.Errorf("operator %s needs a field", key)
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", key, err)
	}
	return c.condition(key, v, raw, path, top, neg)
}

// opposites are the operators a negation turns into another (mango_selector:negate).
var opposites = map[string]string{
	"$lt": "$gte", "$lte": "$gt", "$gt": "$lte", "$gte": "$lt", "$eq": "$ne", "$ne": "$eq",
	"$in": "$nin", "$nin": "$in",
}

// condition compiles one operator applied at path, negated when neg is set.
func (c *selectorCompiler) condition(op string, arg any, raw json.RawMessage, path []string, top, neg bool) (matcher, fields, error) {
	cond, err := c.operator(op, arg, raw, path)
	if err != nil {
		return nil, nil, err
	}
	if neg {
		switch opposite, ok := opposites[op]; {
		case ok:
			op = opposite
			if cond, err = c.operator(op, arg, raw, path); err != nil {
				return nil, nil, err
			}
		case op == "$exists":
			arg = !arg.(bool)
			cond = exists(arg.(bool))
		default:
			op, cond = "$not", negated{cond}
		}
	}
	if top && len(path) > 0 {
		c.constraints = append(c.constraints, constraint{field: joinPath(path), op: op, arg: arg})
	}
	if len(path) > 0 {
		if c.roots == nil {
			c.roots = map[string]bool{}
		}
		c.roots[path[0]] = true
	}
	required := fields{}
	if len(path) > 0 && cond != exists(false) {
		required[joinPath(path)] = true
	}
	return field{path: path, cond: cond}, required, nil
}

// comparer returns how values at path compare: _id by raw bytes, the rest by collation.
func (c *selectorCompiler) comparer(path []string) func(a, b any) int {
	if len(path) == 1 && path[0] == "_id" {
		return compareRaw
	}
	col := c.col
	return func(a, b any) int { return compareValues(col, a, b) }
}

func (c *selectorCompiler) operator(op string, arg any, raw json.RawMessage, path []string) (condition, error) {
	cmp := c.comparer(path)
	switch op {
	case "$eq", "$ne", "$lt", "$lte", "$gt", "$gte":
		return compare{op: op, arg: arg, cmp: cmp}, nil
	case "$exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, fmt.Errorf("$exists takes true or false")
		}
		return exists(b), nil
	case "$type":
		want, _ := arg.(string)
		ranks := map[string][]byte{"null": {rankNull}, "boolean": {rankFalse, rankTrue}, "number": {rankNumber},
			"string": {rankString}, "array": {rankArray}, "object": {rankObject}}[want]
		if ranks == nil {
			return nil, fmt.Errorf("$type takes one of null, boolean, number, string, array, object")
		}
		return predicate(func(v any) bool { return bytes.IndexByte(ranks, rank(v)) >= 0 }), nil
	case "$in", "$nin", "$all":
		list, ok := arg.([]any)
		if !ok {
			return nil, fmt.Errorf("%s takes an array", op)
		}
		inList := func(v any) bool {
			for _, x := range list {
				if cmp(v, x) == 0 {
					return true
				}
			}
			return false
		}
		// An array is in the list when one of its elements is (mango_selector:match).
		in := func(v any) bool {
			if arr, ok := v.([]any); ok {
				return slices.ContainsFunc(arr, inList)
			}
			return inList(v)
		}
		switch op {
		case "$in":
			return predicate(in), nil
		case "$nin":
			return predicate(func(v any) bool { return !in(v) }), nil
		}
		return predicate(func(v any) bool {
			arr, ok := v.([]any)
			if !ok {
				return false
			}
			// {"$all": [[...]]} also matches that very array.
			if len(list) == 1 && rank(list[0]) == rankArray && cmp(v, list[0]) == 0 {
				return true
			}
			for _, want := range list {
				if !slices.ContainsFunc(arr, func(have any) bool { return cmp(have, want) == 0 }) {
					return false
				}
			}
			return true
		}), nil
	case "$size":
		n, ok := arg.(float64)
		if !ok || n < 0 || n != math.Trunc(n) {
			return nil, fmt.Errorf("$size takes a non-negative integer")
		}
		return predicate(func(v any) bool {
			arr, ok := v.([]any)
			return ok && float64(len(arr)) == n
		}), nil
	case "$mod":
		pair, ok := arg.([]any)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("$mod takes [divisor, remainder]")
		}
		d, ok1 := pair[0].(float64)
		r, ok2 := pair[1].(float64)
		if !ok1 || !ok2 || d != math.Trunc(d) || r != math.Trunc(r) || d == 0 {
			return nil, fmt.Errorf("$mod takes two integers, the divisor not zero")
		}
		return predicate(func(v any) bool {
			n, ok := v.(float64)
			return ok && n == math.Trunc(n) && int64(n)%int64(d) == int64(r)
		}), nil
	case "$regex":
		pattern, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("$regex takes a string")
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, fmt.Errorf("$regex: %w", err)
		}
		return predicate(func(v any) bool {
			s, ok := v.(string)
			return ok && re.MatchString(s)
		}), nil
	case "$beginsWith":
		prefix, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("$beginsWith takes a string")
		}
		return predicate(func(v any) bool {
			s, ok := v.(string)
			return ok && strings.HasPrefix(s, prefix)
		}), nil
	case "$elemMatch", "$allMatch", "$keyMapMatch":
		// The argument is a selector of its own, normalised on its own.
		inner := &selectorCompiler{col: c.col}
		m, _, err := inner.object(raw, []string{}, false, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		switch op {
		case "$elemMatch":
			return predicate(func(v any) bool {
				arr, ok := v.([]any)
				return ok && slices.ContainsFunc(arr, m.match)
			}), nil
		case "$allMatch":
			return predicate(func(v any) bool {
				arr, ok := v.([]any)
				if !ok || len(arr) == 0 {
					return false
				}
				for _, x := range arr {
					if !m.match(x) {
						return false
					}
				}
				return true
			}), nil
		}
		return predicate(func(v any) bool {
			obj, ok := v.(map[string]any)
			if !ok {
				return false
			}
			for k := range obj {
				if m.match(k) {
					return true
				}
			}
			return false
		}), nil
	}
	return nil, fmt.Errorf("unknown operator %s", op)
}

// objectMembers splits a JSON object into its members, in order.
func objectMembers(raw json.RawMessage) ([]member, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("a selector must be a JSON object, not %s", truncate(raw, 40))
	}
	d, err := parseObject(raw)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// parseObject returns the members of a JSON object without decoding their values. Each member's
// raw value is a sub-slice of raw (its capacity ends with it).
func parseObject(raw []byte) ([]member, error) {
	// A valid object is validated once and cut into its members without copies: documents are
	// trips of tens of kB. Anything else is left to encoding/json's decoder, for its errors.
	if gjson.ValidBytes(raw) {
		if members, ok := objectMembersOf(raw); ok {
			return members, nil
		}
	}
	return parseObjectSlowly(raw)
}

// objectMembersOf cuts the valid JSON raw into its members when it is an object whose keys have no
// escapes and are valid UTF-8, nested no deeper than encoding/json reads; ok is false otherwise.
func objectMembersOf(raw []byte) (members []member, ok bool) {
	i := jsonscan.SkipSpace(raw, 0)
	if raw[i] != '{' {
		return nil, false
	}
	for i = jsonscan.SkipSpace(raw, i+1); raw[i] != '}'; {
		keyEnd := jsonscan.SkipValue(raw, i, 1)
		key := raw[i+1 : keyEnd-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) { // keys encoding/json rewrites
			return nil, false
		}
		v := jsonscan.SkipSpace(raw, jsonscan.SkipSpace(raw, keyEnd)+1) // past the colon
		end := jsonscan.SkipValue(raw, v, 1)
		if end < 0 {
			return nil, false
		}
		members = append(members, member{key: string(key), raw: raw[v:end:end]})
		if i = jsonscan.SkipSpace(raw, end); raw[i] == ',' {
			i = jsonscan.SkipSpace(raw, i+1)
		}
	}
	return members, true
}

// parseObjectSlowly is parseObject with encoding/json's decoder.
func parseObjectSlowly(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		members = append(members, member{key: tok.(string), raw: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the object")
	}
	return members, nil
}

// joinPath writes a split field path back in Mango's dotted form, escaping dots in names.
func joinPath(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = strings.ReplaceAll(p, ".", `\.`)
	}
	return strings.Join(parts, ".")
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
