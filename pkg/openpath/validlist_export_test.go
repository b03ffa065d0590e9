package openpath

import (
	"bytes"

	"github.com/coachco2/coachco2/pkg/jsonscan"
)

// ValidList and ListElements export validList and listElements to the package's external tests.
var ValidList, ListElements = validList, listElements

// listElements is how answers were cut before validList, after gjson.ValidBytes: the reference
// validList is held to. It returns the bounds of the elements of field's list in answer, valid
// JSON, when the answer is an object holding field once (its key without escapes), as a list of
// objects, nested no deeper than encoding/json reads; ok is false otherwise.
func listElements(answer []byte, field string) (elements [][2]int, ok bool) {
	i := jsonscan.SkipSpace(answer, 0)
	if answer[i] != '{' {
		return nil, false
	}
	list := -1
	for i = jsonscan.SkipSpace(answer, i+1); answer[i] != '}'; {
		keyEnd := jsonscan.SkipValue(answer, i, 0)
		key := answer[i+1 : keyEnd-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil, false
		}
		v := jsonscan.SkipSpace(answer, jsonscan.SkipSpace(answer, keyEnd)+1) // past the colon
		if string(key) == field {
			if list >= 0 {
				return nil, false // twice
			}
			list = v
		}
		if i = jsonscan.SkipValue(answer, v, 1); i < 0 {
			return nil, false
		}
		if i = jsonscan.SkipSpace(answer, i); answer[i] == ',' {
			i = jsonscan.SkipSpace(answer, i+1)
		}
	}
	if list < 0 || answer[list] != '[' {
		return nil, false
	}
	for i = jsonscan.SkipSpace(answer, list+1); answer[i] != ']'; {
		if answer[i] != '{' {
			return nil, false
		}
		end := jsonscan.SkipValue(answer, i, 2)
		if end < 0 {
			return nil, false
		}
		elements = append(elements, [2]int{i, end})
		if i = jsonscan.SkipSpace(answer, end); answer[i] == ',' {
			i = jsonscan.SkipSpace(answer, i+1)
		}
	}
	return elements, true
}
