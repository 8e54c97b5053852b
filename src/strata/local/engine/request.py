"""What a deploy asks for, stored with its record so an interrupted deploy can be completed as it was asked."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strata.local.engine.resolve import StackResolver
from strata.template.intrinsics import to_plain
from strata.transform.why import FunctionFingerprint

if TYPE_CHECKING:
    from strata.local.engine.model import DesiredStack


@dataclass
class Request:
    """What a deploy wants, stored with its record so an interrupted deploy can be completed as asked."""

    stack_name: str
    template: dict[str, Any]
    parameters: dict[str, Any]
    functions: dict[str, FunctionFingerprint]  # function id -> its fingerprint inputs, stored when the deploy completes
    region: str
    account_id: str
    disable_rollback: bool = False
    _desired: DesiredStack | None = field(default=None, init=False, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"stack_name": self.stack_name, "template": self.template, "parameters": to_plain(self.parameters),
                "functions": {fid: f.to_json() for fid, f in self.functions.items()}, "region": self.region,
                "account_id": self.account_id, "disable_rollback": self.disable_rollback}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Request:
        return cls(data["stack_name"], data["template"], data["parameters"],
                   {fid: FunctionFingerprint.from_json(f) for fid, f in data["functions"].items()}, data["region"],
                   data["account_id"], bool(data.get("disable_rollback")))

    def digest(self) -> str:
        """What the deploy is asked to make (template, parameters, function infos, where), as a sha256: a plan made
        for one request is not applied to another. Options that do not change what is made (rollback on failure)
        stay out."""
        basis = {k: v for k, v in self.to_json().items() if k != "disable_rollback"}
        text = json.dumps(basis, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def resolver(self) -> StackResolver:
        return StackResolver(self.template, self.parameters, region=self.region, account_id=self.account_id,
                             stack_name=self.stack_name)

    def share_parse(self, other: Request | None) -> None:
        """Take ``other``'s parsed template (``desired``) when it parsed this same template object with the same
        Conditions inputs (parameters, stack, region, account): the local preflight parses the stack the engine then
        deploys."""
        if other is None or other._desired is None or self._desired is not None or other.template is not self.template:
            return
        if (other.parameters, other.stack_name, other.region, other.account_id) == \
                (self.parameters, self.stack_name, self.region, self.account_id):
            self._desired = other._desired

    def desired(self) -> DesiredStack:
        """The template parsed with this request's Conditions, once per request: a deploy reads it at plan, at the
        plan's check, at apply and at cleanup (~0.1 s each at 2,500 resources). The template is not changed once a
        request holds it."""
        if self._desired is None:
            from strata.local.engine.desired import parse_stack

            self._desired = parse_stack(self.template, self.resolver())
        return self._desired
