"""Seconds, as Python users write them, to the microseconds of the WIT."""

from typing import Optional


def micros(seconds: Optional[float]) -> Optional[int]:
    """`seconds` in whole microseconds; None stays None (the run's default)."""
    return None if seconds is None else int(seconds * 1_000_000)
