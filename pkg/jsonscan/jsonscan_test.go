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
	if end := jsonscan.SkipValue("[]", 0, jsonscan.MaxDepth+1); end != -1 {
		t.Errorf("a list inside %d levels: %d, want -1", jsonscan.MaxDepth+1, end)
	}
	if i := jsonscan.SkipSpace([]byte(" \t\r\n x"), 0); i != 5 {
		t.Errorf("SkipSpace: %d, want 5", i)
	}
}

// TestMembers: Members and Elements hand over each member's key and value, and each element, in
// order, white space around them and escaped quotes inside them included, and return the end of
// the object or list; End goes past MaxDepth.
func TestMembers(t *testing.T) {
	text := ` { "a" : 1 , "b\"}" :{"c": [1, "]"]}, "" : [ ] ,"d":"x"}  , 2`
	var got []string
	end := jsonscan.Members(text, 1, func(key string, v int) int {
		e := jsonscan.End(text, v)
		got = append(got, key+"="+text[v:e])
		return e
	})
	want := []string{`"a"=1`, `"b\"}"={"c": [1, "]"]}`, `""=[ ]`, `"d"="x"`}
	if strings.Join(got, " ") != strings.Join(want, " ") || text[end:] != `  , 2` {
		t.Errorf("Members: %q, ends before %q; want %q", got, text[end:], want)
	}
	list := []byte(`[ {"a": [1]} ,"x" , 3,[] ]!`)
	var elems []string
	end = jsonscan.Elements(list, 0, func(v int) int {
		e := jsonscan.End(list, v)
		elems = append(elems, string(list[v:e]))
		return e
	})
	if strings.Join(elems, "|") != `{"a": [1]}|"x"|3|[]` || string(list[end:]) != "!" {
		t.Errorf("Elements: %q, ends before %q", elems, list[end:])
	}
	if jsonscan.Members("{}", 0, func(string, int) int { t.Error("a member in {}"); return 0 }) != 2 {
		t.Error("Members of {}: not its end")
	}
	deep := strings.Repeat("[", jsonscan.MaxDepth+1) + strings.Repeat("]", jsonscan.MaxDepth+1)
	if end := jsonscan.End(deep, 0); end != len(deep) {
		t.Errorf("End of %d levels: %d, want %d", jsonscan.MaxDepth+1, end, len(deep))
	}
}
