package wasmload

import (
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"

	witEvents "wasmload/internal/bindings/imports/wasmload_user_events"
)

// Fire records one request event for work the host does not see (a
// custom protocol): kind is the stats' type column, e.g. "redis"; a
// non-nil failure makes it a failed event with that reason.
func Fire(kind, name string, responseTime time.Duration, length uint64, failure error) {
	reason := witTypes.None[string]()
	if failure != nil {
		reason = witTypes.Some(why(failure))
	}
	witEvents.Fire(witEvents.RequestEvent{
		Kind:           kind,
		Name:           name,
		ResponseTimeUs: micros(responseTime),
		ResponseLength: length,
		Error:          reason,
	})
}

// Counter adds value to the custom counter name (e.g. items bought).
func Counter(name string, value float64) { witEvents.AddCounter(name, value) }

// Trend records one sample of the custom trend name (e.g. a queue depth);
// outputs show its count, min, average, percentiles and max.
func Trend(name string, value float64) { witEvents.AddTrend(name, value) }

// Timer times a block of work as one request event, timed by the host.
// Settle it once, with Success or Failure; later calls do nothing.
type Timer struct {
	handle *witEvents.Timer
}

// StartTimer starts timing an event of type kind named name.
func StartTimer(kind, name string) *Timer {
	return &Timer{handle: witEvents.MakeTimer(kind, name)}
}

// Success records the event as a success of this many bytes.
func (t *Timer) Success(length uint64) { t.settle(func(h *witEvents.Timer) { h.Success(length) }) }

// Failure records the event as a failure with this reason.
func (t *Timer) Failure(reason string) { t.settle(func(h *witEvents.Timer) { h.Failure(reason) }) }

// settle records the event once and releases the timer.
func (t *Timer) settle(record func(*witEvents.Timer)) {
	if t.handle == nil {
		return
	}
	record(t.handle)
	t.handle.Drop()
	t.handle = nil
}

// Time runs work as one event: a success of the length it returns, or a
// failure with its error, which Time returns.
func Time(kind, name string, work func() (length uint64, err error)) error {
	timer := StartTimer(kind, name)
	length, err := work()
	if err != nil {
		timer.Failure(why(err))
		return err
	}
	timer.Success(length)
	return nil
}
