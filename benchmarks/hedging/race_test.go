//go:build race

package hedging

// raceEnabled reports whether the race detector is on: it slows the
// simulation about sixfold.
const raceEnabled = true
