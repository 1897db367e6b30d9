package wasmload

import (
	"fmt"
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"

	exports "wasmload/internal/bindings/exports/export_wasmload_user_behaviour"
	_ "wasmload/internal/bindings/exports/wit_exports"
	witBehaviour "wasmload/internal/bindings/imports/wasmload_user_behaviour"
)

// Task is one thing a user of a Class[U] does. Run gets the user's own
// state; a method expression fits: (*shopper).browse.
type Task[U any] struct {
	// Shown in the run's log and in task errors.
	Name string
	Run  func(user *U) error
	// The relative chance of being picked; 0 means 1.
	Weight uint32
	// Selected or excluded with --tags / --exclude-tags.
	Tags []string
}

// Class is a kind of user whose state is a U: every user of the class
// starts with a zero U, which OnStart, the tasks and OnStop share.
type Class[U any] struct {
	// Default: "user".
	Name string
	// The relative share of spawned users; 0 means 1.
	Weight uint32
	// When not 0, exactly this many users of the class are spawned, before
	// the weighted ones (Locust's fixed_count; the closed model only).
	FixedCount uint32
	// What a user waits after each task; the zero Wait does not wait.
	Wait  Wait
	Tasks []Task[U]
	// Runs before the user's first task (e.g. a login); may be nil.
	OnStart func(user *U) error
	// Runs when the user stops; may be nil.
	OnStop func(user *U) error
}

// UserClass is a Class of any state type; see Users.
type UserClass interface {
	describe() witBehaviour.UserClass
	start() (activeUser, error)
}

// activeUser is one user of a class, its state made.
type activeUser interface {
	run(task uint32) error
	stop() error
}

func (class Class[U]) describe() witBehaviour.UserClass {
	tasks := make([]witBehaviour.Task, len(class.Tasks))
	for i, task := range class.Tasks {
		name := task.Name
		if name == "" {
			name = fmt.Sprintf("task %d", i)
		}
		tasks[i] = witBehaviour.Task{Name: name, Weight: max(task.Weight, 1), Tags: task.Tags}
	}
	fixedCount := witTypes.None[uint32]()
	if class.FixedCount != 0 {
		fixedCount = witTypes.Some(class.FixedCount)
	}
	name := class.Name
	if name == "" {
		name = "user"
	}
	return witBehaviour.UserClass{
		Name:       name,
		Weight:     max(class.Weight, 1),
		FixedCount: fixedCount,
		Tasks:      tasks,
		Wait:       class.Wait.time,
	}
}

func (class Class[U]) start() (activeUser, error) {
	user := &classUser[U]{class: class, state: new(U)}
	if class.OnStart == nil {
		return user, nil
	}
	return user, class.OnStart(user.state)
}

// classUser is a user of a Class[U] and its state.
type classUser[U any] struct {
	class Class[U]
	state *U
}

func (user *classUser[U]) run(task uint32) error {
	if int(task) >= len(user.class.Tasks) || user.class.Tasks[task].Run == nil {
		return fmt.Errorf("no task %d in class %q", task, user.class.Name)
	}
	return user.class.Tasks[task].Run(user.state)
}

func (user *classUser[U]) stop() error {
	if user.class.OnStop == nil {
		return nil
	}
	return user.class.OnStop(user.state)
}

// Users declares the component's user classes. Call it once, from an init
// function of package main: init runs as each user's instance starts, so
// it may read -e parameters (Param).
func Users(classes ...UserClass) {
	behaviour.classes = classes
}

// Shape declares the component's load shape (Locust's LoadTestShape):
// tick is called once before the run, then once a second with the run
// time so far, and answers the load to run. The first answer decides the
// model (LoadUsers: closed, LoadRate: open); a zero Load is "no change",
// and as the first answer "no shape".
func Shape(tick func(runTime time.Duration) Load) {
	behaviour.shape = tick
}

// Wait is what a user waits after each task; the zero Wait does not wait.
type Wait struct {
	time witBehaviour.WaitTime
}

// NoWait starts the next task at once.
func NoWait() Wait { return Wait{witBehaviour.MakeWaitTimeNone()} }

// Constant waits this long after every task.
func Constant(wait time.Duration) Wait {
	return Wait{witBehaviour.MakeWaitTimeConstant(micros(wait))}
}

// Between waits a uniformly random time from low to high.
func Between(low, high time.Duration) Wait {
	return Wait{witBehaviour.MakeWaitTimeBetween(witTypes.Tuple2[uint64, uint64]{F0: micros(low), F1: micros(high)})}
}

// ConstantPacing starts a task at most once per interval (Locust's
// constant_pacing): the wait is the interval minus the task's time.
func ConstantPacing(interval time.Duration) Wait {
	return Wait{witBehaviour.MakeWaitTimeConstantPacing(micros(interval))}
}

// ConstantThroughput runs at most this many tasks a second (Locust's
// constant_throughput).
func ConstantThroughput(tasksPerSecond float64) Wait {
	return Wait{witBehaviour.MakeWaitTimeConstantThroughput(tasksPerSecond)}
}

// Load is what a shape asks for; the zero Load is "no change".
type Load struct {
	target witBehaviour.LoadTarget
}

// LoadUsers runs this many users (closed model), starting or stopping
// spawnRate a second to get there.
func LoadUsers(users uint32, spawnRate float64) Load {
	return Load{witBehaviour.MakeLoadTargetUsers(witBehaviour.UserTarget{Users: users, SpawnRate: spawnRate})}
}

// LoadRate starts this many iterations a second (open model).
func LoadRate(perSecond float64) Load { return Load{witBehaviour.MakeLoadTargetRate(perSecond)} }

// LoadStop ends the run.
func LoadStop() Load { return Load{witBehaviour.MakeLoadTargetStop()} }

// userBehaviour is the component's `behaviour` export.
type userBehaviour struct {
	classes []UserClass
	shape   func(runTime time.Duration) Load
	// The user this instance is, from on-start on.
	user activeUser
}

var behaviour = &userBehaviour{}

func init() {
	exports.Implementation = behaviour
}

type outcome = witTypes.Result[witTypes.Unit, string]

// finish releases what the SDK handed out during one export call and
// turns the user function's error into the export's result.
func finish(err error) outcome {
	releaseResponses()
	if err != nil {
		return witTypes.Err[witTypes.Unit](why(err))
	}
	return witTypes.Ok[witTypes.Unit, string](witTypes.Unit{})
}

func (b *userBehaviour) Describe() []witBehaviour.UserClass {
	classes := make([]witBehaviour.UserClass, len(b.classes))
	for i, class := range b.classes {
		classes[i] = class.describe()
	}
	releaseResponses()
	return classes
}

func (b *userBehaviour) OnStart(userClass uint32) outcome {
	if int(userClass) >= len(b.classes) {
		return finish(fmt.Errorf("no user class %d (did main's init call wasmload.Users?)", userClass))
	}
	user, err := b.classes[userClass].start()
	b.user = user
	return finish(err)
}

func (b *userBehaviour) RunTask(task uint32) outcome {
	if b.user == nil {
		return finish(fmt.Errorf("task %d before on-start", task))
	}
	return finish(b.user.run(task))
}

func (b *userBehaviour) OnStop() outcome {
	if b.user == nil {
		return finish(nil)
	}
	return finish(b.user.stop())
}

func (b *userBehaviour) Shape(runTimeUs uint64) witBehaviour.LoadTarget {
	if b.shape == nil {
		return witBehaviour.MakeLoadTargetUnshaped()
	}
	load := b.shape(time.Duration(runTimeUs) * time.Microsecond)
	releaseResponses()
	return load.target
}
