"""The engine's hook into the intrinsic evaluator: Ref/GetAtt/Sub of resources answered from deployed state."""
from __future__ import annotations

from strata.template.intrinsics import Context, Unresolved, evaluate


def _ctx(resolve=None) -> Context:
    return Context(parameters={"Env": "dev"}, pseudo={"AWS::Region": "us-east-1"}, mappings={}, conditions={},
                   resources=frozenset({"Fn", "Later"}), resolve_resource=resolve)


def _deployed(name, attribute):
    if name == "Later":
        return Unresolved({"Ref": name} if attribute is None else {"Fn::GetAtt": [name, attribute]},
                          frozenset({name}))
    return {None: "fn-name", "Arn": "arn:aws:lambda:us-east-1:1:function:fn-name"}[attribute]


def test_without_hook_resources_stay_unresolved():
    value = evaluate({"Ref": "Fn"}, _ctx())
    assert isinstance(value, Unresolved) and value.depends_on == {"Fn"}


def test_ref_getatt_and_sub_use_the_hook():
    ctx = _ctx(_deployed)
    assert evaluate({"Ref": "Fn"}, ctx) == "fn-name"
    assert evaluate({"Fn::GetAtt": ["Fn", "Arn"]}, ctx).endswith(":function:fn-name")
    assert evaluate({"Fn::GetAtt": "Fn.Arn"}, ctx).endswith(":function:fn-name")
    assert evaluate({"Fn::Sub": "${Fn}-${Env}-${Fn.Arn}"}, ctx) == \
        "fn-name-dev-arn:aws:lambda:us-east-1:1:function:fn-name"
    assert evaluate({"Fn::Join": [":", [{"Ref": "Fn"}, "x"]]}, ctx) == "fn-name:x"


def test_hook_may_answer_not_known_yet():
    value = evaluate({"Fn::Sub": "${Fn}/${Later.Arn}"}, _ctx(_deployed))
    assert isinstance(value, Unresolved) and value.depends_on == {"Later"}
