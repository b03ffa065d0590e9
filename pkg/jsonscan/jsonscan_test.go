package jsonscan_test

import (
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/jsonscan"
)

// TestSkipValue: each kind of value ends where encoding/json would end it, strings with escaped
// quotes and delimiters inside included; a value nesting deeper than MaxDepth gives -1.
func TestSkipValue(t *testing.T) {
	for _, c := range []struct{ text, value string }{
		{`"a\"b,}]" , 1`, `"a\"b,}]"`},
		{`{"a": [1, {"b": "}"}]}, 2`, `{"a": [1, {"b": "}"}]}`},
		{`[[], {}]]`, `[[], {}]`},
		{`-12.5e3,`, `-12.5e3`},
		{`true}`, `true`},
		{`null`, `null`},
	} {
		if end := jsonscan.SkipValue([]byte(c.text), 0, 0); end < 0 || c.text[:end] != c.value {
			t.Errorf("SkipValue(%q) = %d, want the end of %q", c.text, end, c.value)
		}
	}
	deep := strings.Repeat("[", jsonscan.MaxDepth) + strings.Repeat("]", jsonscan.MaxDepth)
	if end := jsonscan.SkipValue([]byte(deep), 0, 0); end != len(deep) {
		t.Errorf("%d levels: %d, want the whole text", jsonscan.MaxDepth, end)
	}
	if end := jsonscan.SkipValue([]byte(deep), 0, 1); end != -1 {
		t.Errorf("%d levels inside one: %d, want -1", jsonscan.MaxDepth, end)
	}
	if i := jsonscan.SkipSpace([]byte(" \t\r\n x"), 0); i != 5 {
		t.Errorf("SkipSpace: %d, want 5", i)
	}
}
