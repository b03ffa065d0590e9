// Package jsonscan finds where the values of a JSON text begin and end, without decoding them,
// so that a large answer or document can be cut into its members as sub-slices. It works on
// text that json.Valid has accepted: on anything else its results mean nothing (and it may
// index past the end).
package jsonscan

// MaxDepth is encoding/json's nesting limit, beyond which its decoder refuses a value: the
// callers leave deeper values to encoding/json, for its error.
const MaxDepth = 10000

// Text is a JSON text as bytes or as a string.
type Text interface{ ~[]byte | ~string }

// SkipSpace returns the index of the first byte of b from i that is not JSON white space.
func SkipSpace[T Text](b T, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// SkipValue returns the end of the value starting at b[i], which sits inside depth objects or
// lists; -1 when it nests deeper than MaxDepth.
func SkipValue[T Text](b T, i, depth int) int {
	return skip(b, i, max(MaxDepth-depth, 0)) // 0, not negative: no limit
}

// End returns the end of the value starting at b[i], however deep it nests.
func End[T Text](b T, i int) int {
	return skip(b, i, -1)
}

// skip returns the end of the value starting at b[i]; -1 when it nests deeper than limit, unless
// limit is negative.
func skip[T Text](b T, i, limit int) int {
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
			if open++; limit >= 0 && open > limit {
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

// Members calls each with every member of the object starting at b[i] ('{'), in order: its key,
// quotes included, and the start of its value. It returns the end of the object; each returns
// where the value ends, which is End(b, value) unless it reads the value itself.
func Members[T Text](b T, i int, each func(key T, value int) (end int)) int {
	for i = SkipSpace(b, i+1); b[i] != '}'; {
		keyEnd := End(b, i)
		v := SkipSpace(b, SkipSpace(b, keyEnd)+1) // past the colon
		if i = SkipSpace(b, each(b[i:keyEnd], v)); b[i] == ',' {
			i = SkipSpace(b, i+1)
		}
	}
	return i + 1
}

// Elements is Members for the list starting at b[i] ('['): each gets the start of every element.
func Elements[T Text](b T, i int, each func(value int) (end int)) int {
	for i = SkipSpace(b, i+1); b[i] != ']'; {
		if i = SkipSpace(b, each(i)); b[i] == ',' {
			i = SkipSpace(b, i+1)
		}
	}
	return i + 1
}

func delimiter(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
