"""Sample Lambda event payloads for ``strata generate-event`` (what SQS, SNS, S3, API Gateway ... send a function).

Not a stack's deploy events (``strata events``, ``strata.local.engine.describe.events``). One home: every event
shape, its fields and their defaults live in ``strata.events.catalog``, written from AWS's documented examples.
"""
from __future__ import annotations

from strata.events.catalog import SERVICES, EventSpec, Field, Fresh, UnknownEvent, generate

__all__ = ["SERVICES", "EventSpec", "Field", "Fresh", "UnknownEvent", "generate"]
