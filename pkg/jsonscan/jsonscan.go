// Package jsonscan finds where the values of a JSON text begin and end, without decoding them,
// so that a large answer or document can be cut into its members as sub-slices. It works on
// text that json.Valid has accepted: on anything else its results mean nothing (and it may
// index past the end).
package jsonscan

// MaxDepth is encoding/json's nesting limit, beyond which its decoder refuses a value: the
// callers leave deeper values to encoding/json, for its error.
const MaxDepth = 10000

// SkipSpace returns the index of the first byte of b from i that is not JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// SkipValue returns the end of the value starting at b[i], which sits inside depth objects or
// lists; -1 when it nests deeper than MaxDepth.
func SkipValue(b []byte, i, depth int) int {
	open := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if open == 0 {
				return i + 1
			}
		case '{', '[':
			if open++; depth+open > MaxDepth {
				return -1
			}
		case '}', ']':
			if open--; open == 0 {
				return i + 1
			}
		default:
			if open == 0 && c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				// A number or a literal: up to the next delimiter.
				for i < len(b) && !delimiter(b[i]) {
					i++
				}
				return i
			}
		}
	}
	return i
}

func delimiter(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
