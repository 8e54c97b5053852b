"""The one exception family strata raises on purpose.

Every error a user can cause is a ``StrataError``: it says where, what, and what to do. The CLI turns it into a
message and an exit code (1 for user errors); anything else reaching the CLI is a bug and is reported as such.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a source file: 1-based line and column, and the logical id when one applies."""

    file: str
    line: int | None = None
    column: int | None = None
    logical_id: str | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        if self.logical_id:
            text += f" [{self.logical_id}]"
        return text


class StrataError(Exception):
    """A user-facing error: message, optional hint, optional location(s), exit code."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def __reduce__(self):  # survive pickling across processes
        return (_rebuild, (type(self), self.message, self.hint, self.location, dict(self.__dict__)))

    def render(self) -> str:
        """The text the CLI prints: ``file:line:col [Id]: message`` plus the hint on its own line."""
        head = f"{self.location}: {self.message}" if self.location else self.message
        return head + (f"\n  hint: {self.hint}" if self.hint else "")


def _rebuild(cls, message, hint, location, state):
    obj = cls.__new__(cls)
    Exception.__init__(obj, message)
    obj.__dict__.update(state)
    obj.message, obj.hint, obj.location = message, hint, location
    return obj


@dataclass(frozen=True)
class Problem:
    """One finding in a template; a ``TemplateError`` carries all of them at once."""

    message: str
    location: Location | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class TemplateError(StrataError):
    """The template (or its parameters) is invalid; ``problems`` lists every finding, each located."""

    def __init__(self, problems: list[Problem], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else Problem("invalid template")
        count = len(self.problems)
        message = first.message if count == 1 else f"{count} problems in template"
        super().__init__(message, hint=hint, location=first.location if count == 1 else None)

    def render(self) -> str:
        lines = [str(p) for p in self.problems]
        if len(lines) > 1:
            lines.insert(0, f"{len(lines)} problems in template:")
            lines = [lines[0]] + ["  " + line for line in lines[1:]]
        text = "\n".join(lines)
        return text + (f"\n  hint: {self.hint}" if self.hint else "")


class BuildError(StrataError):
    """A code or layer folder could not be built into an artifact."""


class StateError(StrataError):
    """Local state under .strata/ is missing, locked or inconsistent."""


class StorageError(StateError):
    """The state database or its folder cannot be used: damaged, read-only, not ours, or out of space. The message
    names the file; the hint says how to get out (``strata.local.state_file`` decides which)."""
