// Package export_wasmload_user_behaviour is what the generated exports of
// the `behaviour` interface call. It forwards each call to the SDK, which
// sets Implementation as it loads: the SDK imports the generated exports,
// so they cannot import it back.
package export_wasmload_user_behaviour

import (
	witTypes "go.bytecodealliance.org/pkg/wit/types"

	"wasmload/internal/bindings/imports/wasmload_user_behaviour"
)

// Behaviour is the `behaviour` interface of wit/user.wit.
type Behaviour interface {
	Describe() []wasmload_user_behaviour.UserClass
	OnStart(userClass uint32) witTypes.Result[witTypes.Unit, string]
	RunTask(task uint32) witTypes.Result[witTypes.Unit, string]
	OnStop() witTypes.Result[witTypes.Unit, string]
	Shape(runTimeUs uint64) wasmload_user_behaviour.LoadTarget
}

// Implementation answers every call; the SDK sets it.
var Implementation Behaviour

// Describe lists the user classes.
func Describe() []wasmload_user_behaviour.UserClass { return Implementation.Describe() }

// OnStart makes this instance a user of class `userClass`.
func OnStart(userClass uint32) witTypes.Result[witTypes.Unit, string] {
	return Implementation.OnStart(userClass)
}

// RunTask runs task `task` of the user's class.
func RunTask(task uint32) witTypes.Result[witTypes.Unit, string] {
	return Implementation.RunTask(task)
}

// OnStop ends the user.
func OnStop() witTypes.Result[witTypes.Unit, string] { return Implementation.OnStop() }

// Shape answers the load shape at `runTimeUs`.
func Shape(runTimeUs uint64) wasmload_user_behaviour.LoadTarget {
	return Implementation.Shape(runTimeUs)
}
