"""What ``manage.py prune`` may delete: each app registers the records it keeps only for a while.

A record kind's ``prune(cutoff)`` deletes its records that ended before ``cutoff`` and returns
how many went. The event trail is registered as ``audit_trail`` and is pruned only when asked for.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Prunable:
    name: str
    prune: Callable[[datetime], int]
    audit_trail: bool = False


_prunables: list[Prunable] = []


def register_prunable(prunable: Prunable) -> None:
    _prunables.append(prunable)


def prunables(*, audit_trail: bool) -> list[Prunable]:
    """The registered kinds, the event trail among them only when ``audit_trail`` is true."""
    return [prunable for prunable in _prunables if audit_trail or not prunable.audit_trail]
