"""The local engine stores fingerprint inputs in ``strata.transform.why``'s form, and still reads what earlier
versions of strata stored in an existing ``.strata/`` (a list of inputs per function, ``version_id`` in requests)."""
from __future__ import annotations

import json

from engine_helpers import app, info, result

from strata.local.engine.request import Request
from strata.transform.result import FingerprintInput
from strata.transform.why import FunctionFingerprint


def test_the_state_holds_the_stored_form(engine, home):
    fn = info("Fn", "FnVersionA", "f1", code="aaaa", layer="l1")
    engine.deploy("s", result(app(home), functions={"Fn": fn}))
    (text,) = engine.state.db.execute("SELECT inputs FROM stack_fingerprints WHERE function_id = 'Fn'").fetchone()
    assert json.loads(text) == FunctionFingerprint.of(fn).to_json()


def test_fingerprints_an_earlier_strata_stored_still_explain_the_next_version(engine, home):
    engine.deploy("s", result(app(home), functions={"Fn": info("Fn", "FnVersionA", "f1", code="aaaa", layer="l1")}))
    earlier = [{"name": "code", "display": "aaaa", "digest": "aaaa"},
               {"name": "layer", "display": "l1", "digest": "l1"}]
    with engine.state.transaction() as db:
        db.execute("UPDATE stack_fingerprints SET inputs = ? WHERE stack = 's' AND function_id = 'Fn'",
                   (json.dumps(earlier),))
    plan = engine.plan("s", result(app(home, layer="b", version_id="FnVersionB"),
                                   functions={"Fn": info("Fn", "FnVersionB", "f2", code="aaaa", layer="l2")}))
    change = next(c for c in plan.changes if c.logical_id == "FnVersionB")
    assert change.reasons == ("publish a new version of Fn because layer changed (l1 -> l2)",)


def test_a_request_an_earlier_strata_stored_still_reads():
    """An interrupted deploy of an earlier strata is completed from its stored request."""
    stored = {"stack_name": "s", "template": {"Resources": {}}, "parameters": {}, "region": "us-east-1",
              "account_id": "123456789012", "disable_rollback": False,
              "functions": {"Fn": {"version_id": "FnVersionA", "fingerprint": "f1",
                                   "inputs": [{"name": "Code", "display": "sha256:aaaa", "digest": "c1"}]}}}
    request = Request.from_json(stored)
    assert request.functions == {"Fn": FunctionFingerprint("f1", (FingerprintInput("Code", "sha256:aaaa", "c1"),),
                                                           "FnVersionA")}
    assert Request.from_json(json.loads(json.dumps(request.to_json()))) == request
