// Package csvsafe writes CSV that a spreadsheet opens as data, never as formulas.
//
// A cell such as =HYPERLINK("https://evil.example","click") or @SUM(A1) in a CSV file runs as a
// formula when the file is opened in Excel or LibreOffice ("CSV injection"). As OWASP recommends,
// every text cell that starts with =, +, -, @, a tab or a carriage return is written with a
// leading single quote, which spreadsheets show as text. Numbers are separate cells, formatted
// here from a float64 or an int, so that a negative number such as -3.5 stays a number: only
// text goes through the neutraliser, and no text can pass as a number.
package csvsafe

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Cell is one CSV field: text, neutralised when it could start a formula, or a number.
type Cell struct {
	s string
}

// Text is a text cell. When it starts with =, +, -, @, a tab or a carriage return, the written
// cell is the text with a single quote in front.
func Text(s string) Cell { return Cell{s: Neutralise(s)} }

// Texts returns a text cell for each string, for a header for instance.
func Texts(ss ...string) []Cell {
	out := make([]Cell, len(ss))
	for i, s := range ss {
		out[i] = Text(s)
	}
	return out
}

// Number is a number cell, written in full in decimal notation (0 is "0", -3.5 is "-3.5").
// NaN and infinities, which no spreadsheet reads as numbers, are written as neutralised text.
func Number(x float64) Cell {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Text(strconv.FormatFloat(x, 'f', -1, 64))
	}
	return Cell{s: strconv.FormatFloat(x, 'f', -1, 64)}
}

// Int is a whole-number cell.
func Int(n int) Cell { return Cell{s: strconv.Itoa(n)} }

// Empty is an empty cell.
func Empty() Cell { return Cell{} }

// String returns the cell's text as written.
func (c Cell) String() string { return c.s }

// Neutralise returns s, or s with a single quote in front when its first character would make a
// spreadsheet read it as a formula: =, +, -, @, tab or carriage return (OWASP's list).
func Neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Writer writes records of cells as CSV (RFC 4180, quoted and escaped by encoding/csv).
type Writer struct {
	w   *csv.Writer
	rec []string
}

// NewWriter returns a writer to out.
func NewWriter(out io.Writer) *Writer { return &Writer{w: csv.NewWriter(out)} }

// Write writes one record.
func (w *Writer) Write(cells ...Cell) error {
	w.rec = w.rec[:0]
	for _, c := range cells {
		w.rec = append(w.rec, c.s)
	}
	if err := w.w.Write(w.rec); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// Flush writes what is buffered and returns the first write error, if any.
func (w *Writer) Flush() error {
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}
