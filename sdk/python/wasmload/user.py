"""User classes, tasks and waits, and the `Behaviour` export built from them."""

import random
from typing import Callable, List, Optional, Type

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import behaviour as wit

from . import context
from ._time import micros
from .errors import WasmloadError
from .shape import Shape


def task(weight_or_function=1):
    """Marks a method as a task: `@task` (weight 1) or `@task(3)`."""
    if callable(weight_or_function):
        weight_or_function.task_weight = 1
        return weight_or_function

    def mark(function):
        function.task_weight = weight_or_function
        return function

    return mark


def tag(*names: str):
    """Tags a task for `--tags` / `--exclude-tags`."""

    def mark(function):
        function.task_tags = list(getattr(function, "task_tags", [])) + list(names)
        return function

    return mark


def no_wait() -> wit.WaitTime:
    """Start the next task at once (the default)."""
    return wit.WaitTime_None_()


def constant(seconds: float) -> wit.WaitTime:
    """Wait this long after every task."""
    return wit.WaitTime_Constant(micros(seconds))


def between(low: float, high: float) -> wit.WaitTime:
    """Wait a uniformly random time between `low` and `high` seconds."""
    return wit.WaitTime_Between((micros(low), micros(high)))


def constant_pacing(seconds: float) -> wit.WaitTime:
    """Start a task at most once per `seconds`."""
    return wit.WaitTime_ConstantPacing(micros(seconds))


def constant_throughput(tasks_per_second: float) -> wit.WaitTime:
    """Run at most this many tasks per second."""
    return wit.WaitTime_ConstantThroughput(float(tasks_per_second))


class User:
    """One virtual user. Subclass it; methods marked `@task` are its tasks.

    Class attributes: `weight` (share of spawned users), `fixed_count`
    (exactly this many users), `wait_time` (a wait, or a function
    returning one, called when the run starts so it may read `-e`
    parameters), `name` (default: the class name).
    """

    weight: int = 1
    fixed_count: Optional[int] = None
    wait_time = None
    name: Optional[str] = None

    def on_start(self) -> None:
        """Runs before the user's first task."""

    def on_stop(self) -> None:
        """Runs when the user stops."""


def _tasks(cls: Type[User]) -> List[Callable]:
    found = [getattr(cls, n) for n in dir(cls) if hasattr(getattr(cls, n), "task_weight")]
    # Definition order, so task indices are stable and readable.
    return sorted(found, key=lambda f: f.__code__.co_firstlineno)


def _wait(cls: Type[User]) -> wit.WaitTime:
    wait = cls.__dict__.get("wait_time", cls.wait_time)
    if isinstance(wait, staticmethod):
        wait = wait.__func__
    if callable(wait):
        wait = wait()
    return wait if wait is not None else no_wait()


def _failure(error: BaseException) -> Err:
    if isinstance(error, WasmloadError):
        return Err(str(error))
    text = str(error)
    return Err(f"{type(error).__name__}: {text}" if text else type(error).__name__)


def users(*classes: Type[User], shape: Optional[Type[Shape]] = None):
    """The class componentize-py exports as `behaviour`: `Behaviour = users(A, B)`."""
    if not classes and shape is None:
        raise ValueError("users() needs at least one User class")

    class Behaviour(exports.Behaviour):
        user: Optional[User] = None
        tasks: List[Callable] = []

        def describe(self) -> List[wit.UserClass]:
            return [
                wit.UserClass(
                    name=cls.name or cls.__name__,
                    weight=cls.weight,
                    fixed_count=cls.fixed_count,
                    tasks=[
                        wit.Task(f.__name__.replace("_", " "), f.task_weight, list(getattr(f, "task_tags", [])))
                        for f in _tasks(cls)
                    ],
                    wait=_wait(cls),
                )
                for cls in classes
            ]

        def on_start(self, user_class: int) -> None:
            cls = classes[user_class]
            Behaviour.tasks = _tasks(cls)
            # The build baked one seed into every user; give each its own,
            # reproducible with --seed.
            random.seed(context.random())
            try:
                Behaviour.user = cls()
                Behaviour.user.on_start()
            except Exception as error:
                raise _failure(error)

        def run_task(self, task: int) -> None:
            try:
                Behaviour.tasks[task](Behaviour.user)
            except Exception as error:
                raise _failure(error)

        def on_stop(self) -> None:
            try:
                if Behaviour.user is not None:
                    Behaviour.user.on_stop()
            except Exception as error:
                raise _failure(error)

        def shape(self, run_time_us: int) -> wit.LoadTarget:
            if shape is None:
                return wit.LoadTarget_Unshaped()
            return shape.target(run_time_us / 1_000_000)

    return Behaviour
