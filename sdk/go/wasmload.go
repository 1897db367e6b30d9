// Package wasmload writes one wasmload virtual user in Go.
//
//	package main
//
//	import (
//		"time"
//
//		"wasmload"
//	)
//
//	type shopper struct{ token string }
//
//	func init() {
//		wasmload.Users(wasmload.Class[shopper]{
//			Name: "shopper",
//			Wait: wasmload.Between(500*time.Millisecond, 1500*time.Millisecond),
//			Tasks: []wasmload.Task[shopper]{
//				{Name: "browse", Run: (*shopper).browse, Weight: 3, Tags: []string{"browse"}},
//			},
//		})
//	}
//
//	func (s *shopper) browse() error {
//		_, err := wasmload.Get("/items")
//		return err
//	}
//
//	func main() {}
//
// Each user is an instance of its own, so package-level state is the
// user's alone; a user of a Class[U] also gets a fresh *U. A task fails by
// returning an error: the run shows its text under "Task errors" and the
// user goes on. A panic ends that user only. Every network call goes
// through the host, which records it as a request event; a call that got
// no answer returns an *Error, the failed event already recorded.
//
// Build a user with sdk/go/build.sh (Go for wasip1, wit-bindgen's Go
// bindings, and WASI's proxy adapter, as scripts/toolchains.sh go
// installs them).
package wasmload

import (
	"fmt"
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// Error is a protocol call that got no answer (no response, no reply, no
// connection); the host has already recorded it as a failed event.
type Error struct {
	// What was called, e.g. "GET /items" or "tcp connect 127.0.0.1:6379".
	Op string
	// What went wrong, after the interface's error variant in
	// wit/user.wit: "timeout", "connect", "transport", "closed", ...
	Kind string
	// The host's explanation, when it gave one.
	Detail string
}

// Timeout tells net/http and other callers (net.Error) that the call ran
// out of time.
func (e *Error) Timeout() bool { return e.Kind == "timeout" }

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Op + ": " + e.Kind
	}
	return e.Op + ": " + e.Kind + ": " + e.Detail
}

// CheckError is a check on an answer that failed (see
// Response.ExpectStatus); the request is already recorded as a failure.
type CheckError struct {
	Reason string
}

func (e *CheckError) Error() string { return e.Reason }

// micros is a duration in the host's unit; negative durations are 0.
func micros(duration time.Duration) uint64 {
	if duration < 0 {
		return 0
	}
	return uint64(duration / time.Microsecond)
}

// optionalMicros is a timeout for the host: none (its default) when 0.
func optionalMicros(duration time.Duration) witTypes.Option[uint64] {
	if duration <= 0 {
		return witTypes.None[uint64]()
	}
	return witTypes.Some(micros(duration))
}

// errClosed is a call on a connection or socket the user closed.
func errClosed(op string) *Error { return &Error{Op: op, Kind: "closed", Detail: "closed by the user"} }

// why is the text the run shows for an error a user function returned.
func why(err error) string {
	if text := err.Error(); text != "" {
		return text
	}
	return fmt.Sprintf("%T", err)
}
