package contention

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Point is the mean of several runs of one policy at one client count.
type Point struct {
	// Policy is the policy's Name.
	Policy string
	// Clients is the number of clients.
	Clients int
	// Runs is the number of runs averaged, each with its own seed.
	Runs int
	// Calls is the mean number of writes per run.
	Calls float64
	// Completion is the mean completion time per run.
	Completion time.Duration
}

// Mean returns the Point that averages results, which are runs of policy
// at clients.
func Mean(policy string, clients int, results []Result) Point {
	p := Point{Policy: policy, Clients: clients, Runs: len(results)}
	if len(results) == 0 {
		return p
	}
	var calls, completion float64
	for _, r := range results {
		calls += float64(r.Calls)
		completion += float64(r.Completion)
	}
	p.Calls = calls / float64(len(results))
	p.Completion = time.Duration(completion / float64(len(results)))
	return p
}

// csvHeader names the columns WriteCSV writes and ReadCSV expects.
var csvHeader = []string{"policy", "clients", "runs", "calls", "completion_ms"}

// WriteCSV writes points as CSV with a header line; completion times are
// in milliseconds.
func WriteCSV(w io.Writer, points []Point) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, p := range points {
		if err := cw.Write([]string{
			p.Policy,
			strconv.Itoa(p.Clients),
			strconv.Itoa(p.Runs),
			strconv.FormatFloat(p.Calls, 'f', 2, 64),
			strconv.FormatFloat(float64(p.Completion)/float64(time.Millisecond), 'f', 3, 64),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCSV reads points written by WriteCSV.
func ReadCSV(r io.Reader) ([]Point, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || fmt.Sprint(rows[0]) != fmt.Sprint(csvHeader) {
		return nil, fmt.Errorf("contention: CSV header is not %v", csvHeader)
	}
	points := make([]Point, 0, len(rows)-1)
	for i, row := range rows[1:] {
		clients, err1 := strconv.Atoi(row[1])
		runs, err2 := strconv.Atoi(row[2])
		calls, err3 := strconv.ParseFloat(row[3], 64)
		ms, err4 := strconv.ParseFloat(row[4], 64)
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil {
				return nil, fmt.Errorf("contention: CSV line %d: %w", i+2, err)
			}
		}
		points = append(points, Point{
			Policy:     row[0],
			Clients:    clients,
			Runs:       runs,
			Calls:      calls,
			Completion: time.Duration(ms * float64(time.Millisecond)),
		})
	}
	return points, nil
}
