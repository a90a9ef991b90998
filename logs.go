package awsretry

import (
	"context"
	"log/slog"
)

// The log records of Do, with WithLogger.

// logRetry logs a scheduled retry; o.logger is not nil.
func (o *observer) logRetry(ctx context.Context, a *Attempt) {
	o.log(ctx, slog.LevelInfo, "awsretry: retrying", a.Err,
		slog.Int("attempt", a.Number),
		slog.String("error_type", errorType(a)),
		slog.String("class", a.Classification.Class.String()),
		slog.Duration("delay", a.Delay))
}

// logEnd logs the end of a failed call: at Warn, or Info for a
// non-retryable error. last is the attempt that ended it, or the context's
// error; err is the error Do returns.
func (o *observer) logEnd(ctx context.Context, out outcome, attempts int, last *Attempt, err error) {
	if o.logger == nil {
		return
	}
	level := slog.LevelWarn
	if out == callNonRetryable {
		level = slog.LevelInfo
	}
	o.log(ctx, level, "awsretry: giving up", err,
		slog.String("outcome", string(out)),
		slog.Int("attempts", attempts),
		slog.String("error_type", errorType(last)))
}

// log writes one record; the error's message only when messages are on.
func (o *observer) log(ctx context.Context, level slog.Level, msg string, err error, attrs ...slog.Attr) {
	if !o.logger.Enabled(ctx, level) {
		return
	}
	if o.messages && err != nil {
		attrs = append(attrs, slog.String("error", message(err)))
	}
	o.logger.LogAttrs(ctx, level, msg, attrs...)
}
