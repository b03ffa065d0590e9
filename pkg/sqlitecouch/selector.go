package sqlitecouch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"

	"github.com/go-kivik/kivik/v4/x/mango"
	"golang.org/x/text/collate"
)

// The Mango selector language, with CouchDB's semantics.
//
// kivik's x/mango parses and matches simple selectors, but differs from CouchDB where this
// project needs it to agree (and where pouchdb-server agrees with CouchDB): it rejects two
// operators on one field ({"n": {"$gt": 1, "$lt": 5}}) and implicit nested fields ({"a": {"b": 1}}),
// panics on an $elemMatch over objects ({"tags": {"$elemMatch": {"name": "x"}}}), matches a
// missing field with $ne, $nin and $lt (CouchDB never matches a missing field except with
// {"$exists": false}), and compares 1.2 and 1.7 as equal. So selectors are compiled here, with
// kivik's field-path splitting (mango.SplitKeys) and CouchDB's normalisation rules:
//   - {"a": v} where v is not an object, or is an object with no operator, means a == v, or
//     a nested selector when the object's keys are field names;
//   - several members of one object are an implicit $and;
//   - combination operators under a field ({"a": {"$or": [...]}}) apply to that field.

// matcher tests one decoded document (or array element).
type matcher interface {
	match(v any) bool
}

type allOf []matcher
type anyOf []matcher
type noneOf []matcher
type not struct{ m matcher }

func (ms allOf) match(v any) bool {
	for _, m := range ms {
		if !m.match(v) {
			return false
		}
	}
	return true
}

func (ms anyOf) match(v any) bool {
	for _, m := range ms {
		if m.match(v) {
			return true
		}
	}
	return false
}

func (ms noneOf) match(v any) bool { return !anyOf(ms).match(v) }
func (n not) match(v any) bool     { return !n.m.match(v) }

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
	col *collate.Collator
}

func (c compare) test(v any, present bool) bool {
	if !present {
		return false
	}
	r := compareValues(c.col, v, c.arg)
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

// nested applies a selector compiled for the field's value (for $elemMatch, $allMatch...).
type nested struct{ m matcher }

func (n nested) test(v any, present bool) bool { return n.m.match(v) }

// selector is a compiled Mango selector.
type selector struct {
	root matcher
	// constraints are the top-level conditions on fields that must all hold: what an index can
	// narrow a query by.
	constraints []constraint
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
	m, err := c.object(raw, nil, true)
	if err != nil {
		return nil, &Error{Status: 400, Name: "invalid_selector", Reason: err.Error()}
	}
	return &selector{root: m, constraints: c.constraints, roots: c.roots}, nil
}

type selectorCompiler struct {
	col         *collate.Collator
	constraints []constraint
	roots       map[string]bool
}

// object compiles a selector object whose conditions apply at path. top is true while the
// object's members are still implicitly and-ed at the top of the selector.
func (c *selectorCompiler) object(raw json.RawMessage, path []string, top bool) (matcher, error) {
	members, err := objectMembers(raw)
	if err != nil {
		return nil, err
	}
	var all allOf
	for _, m := range members {
		sub, err := c.member(m.key, m.raw, path, top)
		if err != nil {
			return nil, err
		}
		all = append(all, sub)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}

func (c *selectorCompiler) member(key string, raw json.RawMessage, path []string, top bool) (matcher, error) {
	if !strings.HasPrefix(key, "$") {
		sub := append(append([]string(nil), path...), mango.SplitKeys(key)...)
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 && raw[0] == '{' {
			members, err := objectMembers(raw)
			if err != nil {
				return nil, err
			}
			if len(members) > 0 {
				return c.object(raw, sub, top)
			}
		}
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return c.condition("$eq", v, raw, sub, top)
	}
	switch key {
	case "$and", "$or", "$nor":
		var parts []json.RawMessage
		if err := json.Unmarshal(raw, &parts); err != nil {
			return nil, fmt.Errorf("%s takes an array of selectors", key)
		}
		var ms []matcher
		for _, p := range parts {
			m, err := c.object(p, path, top && key == "$and")
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
		switch key {
		case "$and":
			return allOf(ms), nil
		case "$or":
			return anyOf(ms), nil
		}
		return noneOf(ms), nil
	case "$not":
		m, err := c.object(raw, path, false)
		if err != nil {
			return nil, err
		}
		return not{m}, nil
	}
	if path == nil {
		return nil, fmt.Errorf("operator %s needs a field", key)
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return c.condition(key, v, raw, path, top)
}

// condition compiles one operator applied at path.
func (c *selectorCompiler) condition(op string, arg any, raw json.RawMessage, path []string, top bool) (matcher, error) {
	cond, err := c.operator(op, arg, raw)
	if err != nil {
		return nil, err
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
	return field{path: path, cond: cond}, nil
}

func (c *selectorCompiler) operator(op string, arg any, raw json.RawMessage) (condition, error) {
	switch op {
	case "$eq", "$ne", "$lt", "$lte", "$gt", "$gte":
		return compare{op: op, arg: arg, col: c.col}, nil
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
		in := func(v any) bool {
			for _, x := range list {
				if compareValues(c.col, v, x) == 0 {
					return true
				}
			}
			return false
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
			for _, want := range list {
				found := false
				for _, have := range arr {
					if compareValues(c.col, have, want) == 0 {
						found = true
						break
					}
				}
				if !found {
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
		inner := &selectorCompiler{col: c.col}
		m, err := inner.object(raw, []string{}, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		switch op {
		case "$elemMatch":
			return predicate(func(v any) bool {
				arr, ok := v.([]any)
				if !ok {
					return false
				}
				for _, x := range arr {
					if m.match(x) {
						return true
					}
				}
				return false
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

// parseObject returns the members of a JSON object without decoding their values.
func parseObject(raw []byte) ([]member, error) {
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
