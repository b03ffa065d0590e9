package openpath

import (
	"bytes"

	"github.com/coachco2/coachco2/pkg/jsonscan"
)

// validList returns the bounds of the elements of field's list in answer when answer is valid
// JSON and an object holding field once (its key without escapes), as a list of objects, nested no
// deeper than encoding/json reads; ok is false otherwise. It does in one pass what gjson.ValidBytes
// and then a scan for the list did (listElements, kept in the tests as its reference): an answer
// is tens of megabytes, read from memory once instead of twice.
func validList(answer []byte, field string) (elements [][2]int, ok bool) {
	v := validator{b: answer}
	i := v.space(0)
	if i >= len(answer) || answer[i] != '{' {
		return nil, false
	}
	seen := false
	i, done := v.open(i, '}')
	for ; !done; i, done = v.next(i, '}') {
		if i >= len(answer) || answer[i] != '"' {
			return nil, false
		}
		keyEnd := v.str(i)
		if keyEnd < 0 {
			return nil, false
		}
		key := answer[i+1 : keyEnd-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil, false // encoding/json says what it makes of an escaped key
		}
		if i = v.colon(keyEnd); i < 0 {
			return nil, false
		}
		if string(key) != field {
			i = v.value(i, 2)
			continue
		}
		if seen || answer[i] != '[' {
			return nil, false // twice, or not a list: encoding/json says what is wrong
		}
		seen = true
		i = v.elements(i, &elements)
	}
	if i < 0 || !seen || v.space(i) != len(answer) {
		return nil, false
	}
	return elements, true
}

// validator checks JSON text as gjson.ValidBytes and encoding/json's Valid do, and that it nests
// no deeper than jsonscan.MaxDepth, as far as encoding/json reads.
type validator struct{ b []byte }

// open skips the opening bracket at b[i] and the white space after it: it returns where the first
// item starts, or, with done, the end of an empty object or list closing with end.
func (v *validator) open(i int, end byte) (next int, done bool) {
	if i = v.space(i + 1); i < len(v.b) && v.b[i] == end {
		return i + 1, true
	}
	return i, false
}

// next skips what follows an item ending at b[i]: it returns where the next one starts, or, with
// done, the end of the object or list (closing with end); -1, done, when neither follows.
func (v *validator) next(i int, end byte) (next int, done bool) {
	if i < 0 {
		return -1, true
	}
	if i = v.space(i); i < len(v.b) {
		switch v.b[i] {
		case end:
			return i + 1, true
		case ',':
			return v.space(i + 1), false
		}
	}
	return -1, true
}

// elements validates the list at b[i] and appends the bounds of its elements, which must be
// objects, to list. It returns the list's end, -1 when it is not valid or not of objects.
func (v *validator) elements(i int, list *[][2]int) int {
	for i, done := v.open(i, ']'); ; i, done = v.next(i, ']') {
		if done {
			return i
		}
		if i >= len(v.b) || v.b[i] != '{' {
			return -1
		}
		start := i
		if i = v.value(i, 3); i >= 0 {
			*list = append(*list, [2]int{start, i})
		}
	}
}

// value validates the value at b[i], at nesting depth depth when it is an object or a list, and
// returns its end; -1 when it is not valid.
func (v *validator) value(i, depth int) int {
	b := v.b
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return v.str(i)
	case c == '{' || c == '[':
		return v.container(i, depth)
	case c == '-' || '0' <= c && c <= '9':
		return v.number(i)
	case c == 't':
		return v.literal(i, "true")
	case c == 'f':
		return v.literal(i, "false")
	case c == 'n':
		return v.literal(i, "null")
	}
	return -1
}

// container validates the object or list opening at b[i], at nesting depth depth, and returns its
// end.
func (v *validator) container(i, depth int) int {
	if depth > jsonscan.MaxDepth {
		return -1
	}
	b := v.b
	object, end := b[i] == '{', byte(']')
	if object {
		end = '}'
	}
	for i, done := v.open(i, end); ; i, done = v.next(i, end) {
		if done {
			return i
		}
		if object {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			if i = v.str(i); i >= 0 {
				i = v.colon(i)
			}
			if i < 0 {
				return -1
			}
		}
		i = v.value(i, depth+1)
	}
}

// colon skips the white space, colon and white space after an object's key ending at b[i], and
// returns where its value starts; -1 without a colon or a value after it.
func (v *validator) colon(i int) int {
	if i = v.space(i); i >= len(v.b) || v.b[i] != ':' {
		return -1
	}
	if i = v.space(i + 1); i >= len(v.b) {
		return -1
	}
	return i
}

// plain marks the bytes a JSON string holds as they are: not a quote, a backslash or a control
// character.
var plain = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// str validates the string at b[i] (its opening quote) and returns its end.
func (v *validator) str(i int) int {
	b := v.b
	for i++; ; i++ {
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			if i++; i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !hex4(b[i+1:i+5]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		default:
			return -1 // a control character
		}
	}
}

func hex4(h []byte) bool {
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// number validates the number at b[i] and returns its end.
func (v *validator) number(i int) int {
	b := v.b
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		i = digits(b, i+1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		i = digits(b, i+1)
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (v *validator) literal(i int, lit string) int {
	if len(v.b)-i < len(lit) || string(v.b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// space returns the index of the first byte from i that is not JSON white space.
func (v *validator) space(i int) int { return jsonscan.SkipSpace(v.b, i) }
