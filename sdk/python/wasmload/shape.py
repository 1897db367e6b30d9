"""Load shapes, like Locust's `LoadTestShape`."""

from dataclasses import dataclass
from typing import Optional, Union

from wit_world.exports import behaviour as wit


@dataclass
class Users:
    """Closed model: run `count` users, starting or stopping `spawn_rate` a second."""

    count: int
    spawn_rate: float


@dataclass
class Rate:
    """Open model: start this many iterations a second."""

    per_second: float


class Stop:
    """End the run."""


class Shape:
    """Subclass and define `tick(self, run_time)` (seconds) returning
    `Users`, `Rate`, `Stop`, or None for "no change"."""

    _instance: Optional["Shape"] = None

    def tick(self, run_time: float) -> Union[Users, Rate, Stop, None]:
        raise NotImplementedError

    @classmethod
    def target(cls, run_time: float) -> wit.LoadTarget:
        """The WIT answer for `tick` at `run_time`, on one instance kept for the run."""
        if cls._instance is None:
            cls._instance = cls()
        load = cls._instance.tick(run_time)
        if isinstance(load, Users):
            return wit.LoadTarget_Users(wit.UserTarget(load.count, float(load.spawn_rate)))
        if isinstance(load, Rate):
            return wit.LoadTarget_Rate(float(load.per_second))
        if isinstance(load, Stop) or load is Stop:
            return wit.LoadTarget_Stop()
        return wit.LoadTarget_Unshaped()
