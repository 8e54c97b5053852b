"""``strata logs --target aws``: a function's CloudWatch Logs (log group ``/aws/lambda/<name>``) via FilterLogEvents.

A qualifier narrows to log streams of those versions (Lambda names streams ``YYYY/MM/DD/[<version>]<id>``); an alias
is resolved to the versions it routes to. ``--since`` is how far back to start; ``--tail`` keeps polling from the
newest event seen (events are de-duplicated by id, since FilterLogEvents may return an event again at the boundary).
Errors go through ``strata.aws.errors``; a missing log group means the function has not logged yet.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strata.aws.errors import AwsError, aws_errors
from strata.errors import StrataError
from strata.model.lambda_defaults import log_group
from strata.model.naming import FunctionRef
from strata.model.routing import AliasRouting, versions_selected

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str) -> float:
    """``10m``, ``2h``, ``30s``, ``1d``, ``1w`` (a bare number is minutes) -> seconds."""
    match = _SINCE.match(text or "")
    if match is None:
        raise StrataError(f"--since {text!r} is not a duration", hint="e.g. 30s, 10m, 2h, 1d")
    return float(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True)
class LogEvent:
    timestamp: int            # ms since the epoch
    stream: str
    message: str
    event_id: str

    @property
    def version(self) -> str | None:
        match = re.search(r"\[([^\]]+)\]", self.stream)
        return match.group(1) if match else None


class AwsLogs:
    """Reads one function's log events; ``versions`` (None: all) filters by log stream."""

    def __init__(self, session: Any, function_name: str, versions: list[str] | None = None) -> None:
        self.session, self.function_name, self.versions = session, function_name, versions
        self.group = log_group(function_name)
        self.seen: set[str] = set()
        self.last = 0

    def fetch(self, start_ms: int) -> list[LogEvent]:
        """Every new event from ``start_ms`` on (all pages), oldest first."""
        client = self.session.client("logs")
        out: list[LogEvent] = []
        token = None
        try:
            with aws_errors(f"reading CloudWatch Logs group {self.group}", profile=self.session.profile):
                while True:
                    page = client.filter_log_events(logGroupName=self.group, startTime=int(start_ms),
                                                    interleaved=True, **({"nextToken": token} if token else {}))
                    for raw in page.get("events", []):
                        event = LogEvent(int(raw.get("timestamp", 0)), raw.get("logStreamName", ""),
                                         raw.get("message", ""), raw.get("eventId", ""))
                        if event.event_id in self.seen:
                            continue
                        if self.versions is not None and event.version not in self.versions:
                            continue
                        self.seen.add(event.event_id)
                        out.append(event)
                    token = page.get("nextToken")
                    if not token:
                        break
        except AwsError as exc:
            if exc.code == "ResourceNotFoundException":       # no log group: nothing was logged yet
                return []
            raise
        out.sort(key=lambda e: e.timestamp)
        if out:
            self.last = max(self.last, out[-1].timestamp)
        return out

    def follow(self, start_ms: int, emit: Callable[[LogEvent], None], *, interval: float = 2.0,
               rounds: int | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        """Poll for new events until interrupted (``rounds`` bounds it for tests)."""
        done = 0
        since = start_ms
        while rounds is None or done < rounds:
            for event in self.fetch(since):
                emit(event)
            since = max(since, self.last)
            done += 1
            if rounds is None or done < rounds:
                sleep(interval)


def versions_of(session: Any, function_name: str, qualifier: str | None) -> list[str] | None:
    """The versions whose streams to show: None (all), ``[N]``/``[$LATEST]``, or what an alias routes to."""
    def alias_routing(alias_name: str) -> AliasRouting:
        with aws_errors(f"reading alias {alias_name} of {function_name}", profile=session.profile):
            return AliasRouting.from_api(session.client("lambda").get_alias(FunctionName=function_name,
                                                                             Name=alias_name))

    return versions_selected(qualifier, alias_routing)


def show_logs(target: str, *, emit: Callable[[str], None], note: Callable[[str], None], tail: bool = False,
              stack_name: str | None = None, since: str = "10m", session: Any = None, region: str | None = None,
              profile: str | None = None, endpoint_url: str | None = None, rounds: int | None = None,
              sleep: Callable[[float], None] = time.sleep, now: Callable[[], float] = time.time,
              default_stack: str | None = None) -> None:
    """``strata logs --target aws``: the log text of ``target`` (NAME[:QUALIFIER], or LOGICAL_ID[:QUALIFIER] with
    ``stack_name``) from ``since`` ago, each event to ``emit`` ending in a newline; ``tail`` keeps following
    (``rounds`` bounds it for tests)."""
    from strata.aws.session import AwsSession

    start_ms = int((now() - parse_since(since)) * 1000)
    session = session or AwsSession(region, profile, endpoint_url)
    ref = FunctionRef.parse(target)
    name, qualifier = ref.name, ref.qualifier
    if not stack_name and default_stack:   # the stack deploy names here, when the target is one of its logical ids
        from strata.aws.stack import stack_function

        try:
            name = stack_function(session.client("cloudformation"), default_stack, name, or_name=True)[1]
        except Exception:  # noqa: BLE001 - no such stack (or no access): the target is a function name
            pass
    if stack_name:
        from strata.aws.stack import stack_function

        with aws_errors(f"looking up {name} in stack {stack_name}", stack=stack_name, profile=session.profile):
            name = stack_function(session.client("cloudformation"), stack_name, name)[1]
    reader = AwsLogs(session, name, versions_of(session, name, qualifier or None))

    def show(event: LogEvent) -> None:
        emit(event.message if event.message.endswith("\n") else event.message + "\n")

    events = reader.fetch(start_ms)
    if not events and not tail:
        note(f"no logs for {name} in the last {since}")
    for event in events:
        show(event)
    if tail:
        reader.follow(max(start_ms, reader.last), show, rounds=rounds, sleep=sleep)
