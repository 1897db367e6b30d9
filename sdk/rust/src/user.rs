//! Declaring users: classes, weighted tasks, wait policies, lifecycle.

use std::cell::{OnceCell, RefCell};
use std::time::Duration;

use crate::micros;

use crate::bindings::exports::wasmload::user::behaviour::{Task as TaskInfo, UserClass, WaitTime};
use crate::Result;

/// One kind of virtual user. Each running user is one value of this type,
/// made by [`User::on_start`] and living until the user stops.
pub trait User: Sized + 'static {
    /// The class: its name, weight, tasks and wait policy.
    fn class() -> Class<Self>;

    /// Makes a new user, before its first task (log in, read parameters).
    fn on_start() -> Result<Self>;

    /// Runs when the user stops; the default does nothing.
    fn on_stop(&mut self) -> Result<()> {
        Ok(())
    }
}

/// What a task runs: a method of the user.
type TaskFn<U> = fn(&mut U) -> Result<()>;

/// A task: a method of the user, picked by weight.
pub struct Task<U> {
    name: String,
    weight: u32,
    tags: Vec<String>,
    run: TaskFn<U>,
}

impl<U> Task<U> {
    /// A task of weight 1 and no tags.
    ///
    /// ```ignore
    /// Task::new("checkout", Self::checkout).weight(2).tag("buy")
    /// ```
    pub fn new(name: impl Into<String>, run: fn(&mut U) -> Result<()>) -> Self {
        Task { name: name.into(), weight: 1, tags: Vec::new(), run }
    }

    /// Relative chance of being picked (default 1; 0 never runs).
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Adds a tag, for `--tags` / `--exclude-tags`.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
}

/// How long a user waits after each task.
#[derive(Debug, Clone, Copy)]
pub struct Wait(WaitTime);

impl Wait {
    /// No wait: the next task starts at once (the default).
    pub fn none() -> Self {
        Wait(WaitTime::None)
    }

    /// The same wait after every task.
    pub fn constant(wait: Duration) -> Self {
        Wait(WaitTime::Constant(micros(wait)))
    }

    /// A uniformly random wait between `min` and `max`.
    pub fn between(min: Duration, max: Duration) -> Self {
        Wait(WaitTime::Between((micros(min), micros(max))))
    }

    /// Start a task at most once per `interval`, whatever the task took.
    pub fn constant_pacing(interval: Duration) -> Self {
        Wait(WaitTime::ConstantPacing(micros(interval)))
    }

    /// At most `tasks_per_second` tasks per second.
    pub fn constant_throughput(tasks_per_second: f64) -> Self {
        Wait(WaitTime::ConstantThroughput(tasks_per_second))
    }
}

/// A user class: name, weight among classes, tasks and wait policy.
pub struct Class<U> {
    name: String,
    weight: u32,
    fixed_count: Option<u32>,
    tasks: Vec<Task<U>>,
    wait: Wait,
}

impl<U: User> Class<U> {
    /// A class of weight 1 with no tasks and no wait.
    pub fn new(name: impl Into<String>) -> Self {
        Class {
            name: name.into(),
            weight: 1,
            fixed_count: None,
            tasks: Vec::new(),
            wait: Wait::none(),
        }
    }

    /// Relative share of spawned users (default 1).
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Exactly this many users of the class, spawned before the weighted
    /// ones; the weight is then ignored (Locust's `fixed_count`, closed
    /// model only).
    pub fn fixed_count(mut self, users: u32) -> Self {
        self.fixed_count = Some(users);
        self
    }

    /// Adds a task.
    pub fn task(mut self, task: Task<U>) -> Self {
        self.tasks.push(task);
        self
    }

    /// Sets the wait policy.
    pub fn wait(mut self, wait: Wait) -> Self {
        self.wait = wait;
        self
    }

    #[doc(hidden)]
    pub fn erased() -> Box<dyn ErasedClass> {
        Box::new(ClassOf::<U>(OnceCell::new()))
    }
}

/// A class with its user type erased, so classes of different types fit in
/// one list.
#[doc(hidden)]
pub trait ErasedClass {
    fn describe(&self) -> UserClass;
    fn start(&self) -> Result<Box<dyn ErasedUser>>;
}

/// A running user with its type erased.
#[doc(hidden)]
pub trait ErasedUser {
    fn run(&mut self, task: u32) -> Result<()>;
    fn stop(&mut self) -> Result<()>;
}

/// A class, and its tasks' functions once `U::class()` has given them: a
/// made user's instance runs `describe` before its start, and the start then
/// need not build the class again.
struct ClassOf<U>(OnceCell<Vec<TaskFn<U>>>);

/// The functions of `class`'s tasks, in order.
fn task_functions<U>(class: &Class<U>) -> Vec<TaskFn<U>> {
    class.tasks.iter().map(|task| task.run).collect()
}

struct Running<U> {
    user: U,
    tasks: Vec<TaskFn<U>>,
}

impl<U: User> ErasedClass for ClassOf<U> {
    fn describe(&self) -> UserClass {
        let class = U::class();
        let _ = self.0.set(task_functions(&class));
        UserClass {
            name: class.name,
            weight: class.weight,
            fixed_count: class.fixed_count,
            tasks: class
                .tasks
                .into_iter()
                .map(|task| TaskInfo { name: task.name, weight: task.weight, tags: task.tags })
                .collect(),
            wait: class.wait.0,
        }
    }

    fn start(&self) -> Result<Box<dyn ErasedUser>> {
        let tasks = self.0.get_or_init(|| task_functions(&U::class())).clone();
        Ok(Box::new(Running { user: U::on_start()?, tasks }))
    }
}

impl<U: User> ErasedUser for Running<U> {
    fn run(&mut self, task: u32) -> Result<()> {
        let run = self
            .tasks
            .get(task as usize)
            .ok_or_else(|| crate::Error::msg(format!("no task number {task}")))?;
        run(&mut self.user)
    }

    fn stop(&mut self) -> Result<()> {
        self.user.on_stop()
    }
}

thread_local! {
    /// The user this instance is; one instance serves one user.
    static CURRENT: RefCell<Option<Box<dyn ErasedUser>>> = const { RefCell::new(None) };
}

/// Sends panic messages to the run's log as one line, instead of the
/// multi-line default on stderr; the host then reports the trap itself.
fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info.to_string().replace('\n', " ");
            crate::context::log(crate::context::Level::Error, &message);
        }));
    });
}

#[doc(hidden)]
pub fn describe(classes: &[Box<dyn ErasedClass>]) -> Vec<UserClass> {
    install_panic_hook();
    classes.iter().map(|class| class.describe()).collect()
}

#[doc(hidden)]
pub fn on_start(classes: &[Box<dyn ErasedClass>], class: u32) -> Result<(), String> {
    install_panic_hook();
    let chosen =
        classes.get(class as usize).ok_or_else(|| format!("no user class number {class}"))?;
    let user = chosen.start().map_err(|e| e.to_string())?;
    CURRENT.with(|current| *current.borrow_mut() = Some(user));
    Ok(())
}

#[doc(hidden)]
pub fn run_task(task: u32) -> Result<(), String> {
    with_current(|user| user.run(task))
}

#[doc(hidden)]
pub fn on_stop() -> Result<(), String> {
    let outcome = with_current(|user| user.stop());
    CURRENT.with(|current| current.borrow_mut().take());
    outcome
}

fn with_current(call: impl FnOnce(&mut dyn ErasedUser) -> Result<()>) -> Result<(), String> {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        let user = current.as_deref_mut().ok_or_else(|| "the user has not started".to_owned())?;
        call(user).map_err(|e| e.to_string())
    })
}
