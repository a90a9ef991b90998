package contention

import (
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/awsretry/awsretry/benchmarks/internal/csvtable"
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
	return csvtable.Write(w, csvHeader, points, func(p Point) []string {
		return []string{
			p.Policy,
			strconv.Itoa(p.Clients),
			strconv.Itoa(p.Runs),
			strconv.FormatFloat(p.Calls, 'f', 2, 64),
			strconv.FormatFloat(float64(p.Completion)/float64(time.Millisecond), 'f', 3, 64),
		}
	})
}

// ReadCSV reads points written by WriteCSV.
func ReadCSV(r io.Reader) ([]Point, error) {
	return csvtable.Read(r, "contention CSV", csvHeader, func(row []string) (Point, error) {
		clients, err1 := strconv.Atoi(row[1])
		runs, err2 := strconv.Atoi(row[2])
		calls, err3 := strconv.ParseFloat(row[3], 64)
		ms, err4 := strconv.ParseFloat(row[4], 64)
		return Point{
			Policy:     row[0],
			Clients:    clients,
			Runs:       runs,
			Calls:      calls,
			Completion: time.Duration(ms * float64(time.Millisecond)),
		}, errors.Join(err1, err2, err3, err4)
	})
}
