// Package csvtable writes and reads the CSV tables the simulations of this
// module hand to cmd/report: a header line, then a line per row.
package csvtable

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Write writes header, then each row as format renders it.
func Write[T any](w io.Writer, header []string, rows []T, format func(T) []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range rows {
		if err := cw.Write(format(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Read reads what Write wrote: it checks the header, and parses each line
// with parse. Its errors begin with what, and name the line at fault.
func Read[T any](r io.Reader, what string, header []string, parse func(record []string) (T, error)) ([]T, error) {
	records, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(records) == 0 || !slices.Equal(records[0], header) {
		return nil, fmt.Errorf("%s: want the header %q", what, strings.Join(header, ","))
	}
	rows := make([]T, 0, len(records)-1)
	for i, record := range records[1:] {
		row, err := parse(record)
		if err != nil {
			return nil, fmt.Errorf("%s, line %d: %w", what, i+2, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// WriteFile creates path and hands it to write, then closes it: the
// first error of the three is returned.
func WriteFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
