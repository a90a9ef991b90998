package main

import (
	"testing"
	"time"
)

func TestParseSteps(t *testing.T) {
	steps, err := parseSteps("benchmarks=250,simulation=61.5")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[0].Name != "benchmarks" || steps[1].Duration != 61500*time.Millisecond {
		t.Errorf("parseSteps = %+v", steps)
	}
	if steps, err := parseSteps(""); err != nil || len(steps) != 0 {
		t.Errorf("parseSteps(\"\") = %v, %v", steps, err)
	}
	if _, err := parseSteps("benchmarks"); err == nil {
		t.Error("parseSteps accepted a step without a duration")
	}
}
