package sdkretry

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/awsretry/awsretry"
)

// deliberate lists the disagreements with the SDK that awsretry means:
// key "TestFunc/case name", value the reason in one sentence. The test
// fails for every other disagreement.
var deliberate = map[string]string{}

// row is one SDK test case with both verdicts, as the generated test prints
// it.
type row struct {
	Test, Case  string
	Nil         bool   // the case's error is nil: awsretry is not asked
	Type, Error string // the error's type and text
	Panic       string // a panic while classifying

	// The SDK's verdicts: aws.Ternary's "true", "false" or "unknown".
	SDKRetryable, SDKThrottle, SDKTimeout string

	// awsretry.DefaultClassifier's verdict.
	Retryable bool
	Class     int
	Code      string
}

func (r row) class() awsretry.Class { return awsretry.Class(r.Class) }

// agree reports whether awsretry's verdict agrees with the SDK's, and if not,
// why. awsretry retries exactly what the SDK retries (TrueTernary); what the
// SDK retries as a throttle awsretry classes as throttle; what it retries as
// a timeout awsretry classes as timeout.
func agree(r row) (bool, string) {
	sdkRetries := r.SDKRetryable == "true"
	if r.Retryable != sdkRetries {
		return false, fmt.Sprintf("SDK retryable %s, awsretry retryable %t", r.SDKRetryable, r.Retryable)
	}
	if sdkRetries && r.SDKThrottle == "true" && r.class() != awsretry.ClassThrottle {
		return false, fmt.Sprintf("SDK throttle, awsretry class %s", r.class())
	}
	if sdkRetries && r.SDKTimeout == "true" && r.class() != awsretry.ClassTimeout {
		return false, fmt.Sprintf("SDK timeout, awsretry class %s", r.class())
	}
	return true, ""
}

func TestAgreesWithSDK(t *testing.T) {
	rows := runSDKCases(t)

	type tally struct{ agree, compared, skipped int }
	tallies := map[string]*tally{}
	for _, src := range sources {
		tallies[src.fn] = &tally{}
	}
	var total tally
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TEST\tCASE\tSDK RETRY\tTHROTTLE\tTIMEOUT\tAWSRETRY\tCLASS\tCODE\tVERDICT\tERROR")
	var disagreements []string
	seen := map[string]bool{}
	for _, src := range sources {
		n := 0
		for _, r := range rows[src.fn] {
			tl := tallies[src.fn]
			n++
			key := r.Test + "/" + r.Case
			seen[key] = true
			var verdict string
			switch {
			case r.Panic != "":
				tl.compared++
				verdict = "DISAGREE: panic: " + r.Panic
				disagreements = append(disagreements, key+": panic: "+r.Panic)
			case r.Nil:
				tl.skipped++
				verdict = "skipped: nil error"
			default:
				tl.compared++
				ok, why := agree(r)
				switch reason, isDeliberate := deliberate[key]; {
				case ok:
					tl.agree++
					verdict = "agree"
					if isDeliberate {
						t.Errorf("deliberate[%q]: the case agrees now; remove the entry", key)
					}
				case isDeliberate:
					verdict = "deliberate: " + why + " (" + reason + ")"
				default:
					verdict = "DISAGREE: " + why
					disagreements = append(disagreements, key+": "+why)
				}
			}
			awsRetry, class, code := "-", "-", "-"
			if !r.Nil && r.Panic == "" {
				awsRetry, class, code = fmt.Sprint(r.Retryable), r.class().String(), r.Code
				if code == "" {
					code = `""`
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Test, r.Case,
				r.SDKRetryable, r.SDKThrottle, r.SDKTimeout, awsRetry, class, code, verdict, describe(r))
		}
		if n == 0 {
			t.Errorf("%s %s: no cases selected", src.file, src.fn)
		}
	}
	for key := range deliberate {
		if !seen[key] {
			t.Errorf("deliberate[%q]: no such case", key)
		}
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Log("aws-sdk-go-v2 retry test cases, the SDK's verdict and awsretry's:\n" + table.String())

	var summary strings.Builder
	for _, src := range sources {
		tl := tallies[src.fn]
		fmt.Fprintf(&summary, "%s: agree %d of %d", src.fn, tl.agree, tl.compared)
		if tl.skipped > 0 {
			fmt.Fprintf(&summary, " (%d skipped: nil error)", tl.skipped)
		}
		summary.WriteString("\n")
		total.agree += tl.agree
		total.compared += tl.compared
		total.skipped += tl.skipped
	}
	fmt.Fprintf(&summary, "total: agree %d of %d", total.agree, total.compared)
	if total.skipped > 0 {
		fmt.Fprintf(&summary, " (%d skipped: nil error)", total.skipped)
	}
	t.Log("summary:\n" + summary.String())

	for _, d := range disagreements {
		t.Errorf("disagreement: %s", d)
	}
}

// describe returns the error's type and text, shortened for the table.
func describe(r row) string {
	if r.Nil {
		return "<nil>"
	}
	s := r.Type + ": " + r.Error
	if len(s) > 90 {
		s = s[:87] + "..."
	}
	return s
}

// runSDKCases copies the SDK module to a temporary directory, generates
// the comparing test into its aws/retry package, runs it and returns its
// rows by SDK test function.
func runSDKCases(t *testing.T) map[string][]row {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	// The examples module (the current directory's), the SDK and awsretry
	// as it resolves them.
	dirs := strings.Fields(goOutput(t, goCmd, ".", "list", "-m", "-f", "{{.Dir}}",
		"github.com/aws/aws-sdk-go-v2", "github.com/awsretry/awsretry"))
	if len(dirs) != 2 {
		t.Fatalf("go list -m: want the directories of aws-sdk-go-v2 and awsretry, got %q", dirs)
	}
	sdkDir, awsretryDir := dirs[0], dirs[1]
	goMod := strings.TrimSpace(goOutput(t, goCmd, ".", "env", "GOMOD"))
	goVersion := strings.TrimSpace(goOutput(t, goCmd, ".", "list", "-m", "-f", "{{.GoVersion}}"))
	sdkVersion := strings.TrimSpace(goOutput(t, goCmd, ".", "list", "-m", "-f", "{{.Version}}", "github.com/aws/aws-sdk-go-v2"))

	tmp := t.TempDir()
	sdkCopy := filepath.Join(tmp, "aws-sdk-go-v2")
	if err := copyTree(sdkDir, sdkCopy); err != nil {
		t.Fatal(err)
	}
	retryDir := filepath.Join(sdkCopy, "aws", "retry")
	gen, err := generate(retryDir)
	if err != nil {
		t.Fatalf("generating the comparing test from %s: %v\n%s", filepath.Join(sdkDir, "aws", "retry"), err, gen)
	}
	if err := os.WriteFile(filepath.Join(retryDir, "zz_awsretry_compare_test.go"), gen, 0o644); err != nil {
		t.Fatal(err)
	}

	mainDir := filepath.Join(tmp, "main")
	if err := os.Mkdir(mainDir, 0o755); err != nil {
		t.Fatal(err)
	}
	mod := fmt.Sprintf(`module awsretry.example/sdkretrycompare

go %s

require (
	github.com/aws/aws-sdk-go-v2 %s
	github.com/awsretry/awsretry v0.0.0
)

replace github.com/aws/aws-sdk-go-v2 => %s

replace github.com/awsretry/awsretry => %s
`, goVersion, sdkVersion, sdkCopy, awsretryDir)
	if err := os.WriteFile(filepath.Join(mainDir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(strings.TrimSuffix(goMod, ".mod") + ".sum")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mainDir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(t.Context(), goCmd, "test", "-count=1", "-run", "^TestAwsretryCompare$", "-v",
		"github.com/aws/aws-sdk-go-v2/aws/retry")
	cmd.Dir = mainDir
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off")
	out, runErr := cmd.CombinedOutput()

	rows := map[string][]row{}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		_, line, ok := strings.Cut(sc.Text(), marker)
		if !ok {
			continue
		}
		var r row
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("reading %q: %v", line, err)
		}
		rows[r.Test] = append(rows[r.Test], r)
		n++
	}
	if runErr != nil || n == 0 {
		t.Fatalf("%s (in %s): %v\n%s", strings.Join(cmd.Args, " "), mainDir, runErr, out)
	}
	for _, rs := range rows {
		// The SDK's tables are maps: sort their cases by name.
		slices.SortFunc(rs, func(a, b row) int { return strings.Compare(a.Case, b.Case) })
	}
	return rows
}

// goOutput runs the go command in dir and returns its standard output.
func goOutput(t *testing.T, goCmd, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), goCmd, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

// copyTree copies the regular files and directories under src to dst,
// writable (the module cache is read-only).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
		return nil // symbolic links and the like: the module cache has none
	})
}
