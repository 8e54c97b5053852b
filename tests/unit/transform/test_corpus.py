"""aws-sam-translator's own golden corpus through strata's transform.

Every non-``error_`` template must translate and equal the golden output except for what the versions post-pass
changes on purpose (Version and SAM LayerVersion logical ids, references to them, the added CodeSha256), which is
normalised away before comparing; any other difference must be listed, with its reason, in
``tests/data/corpus_transform_differences.json``. Every ``error_`` template must fail with a StrataError (a clear
message, exit 1 in the CLI), never another exception.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from strata.errors import StrataError
from strata.transform.pipeline import transform

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "sam-translator"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus/sam-translator")
DIFFERENCES = json.loads((Path(__file__).resolve().parents[2] / "data" / "corpus_transform_differences.json")
                         .read_text())
INPUTS = sorted(CORPUS.glob("input/*.yaml")) if CORPUS.is_dir() else []
GOOD = [p for p in INPUTS if not p.stem.startswith("error_") and (CORPUS / "output" / f"{p.stem}.json").exists()]
ERRORS = [p for p in INPUTS if p.stem.startswith("error_")]
HASHED_ID = re.compile(r"^(?P<base>.+?)(?P<hash>[0-9a-f]{10})$")

pytestmark = pytest.mark.skipif(not INPUTS, reason="shared corpus not present")


def _normalise(template: dict) -> dict:
    """Replace every Version / SAM LayerVersion id's 10-hex suffix by a fixed marker; drop CodeSha256 we add."""
    resources = template.get("Resources", {})
    renames = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") in ("AWS::Lambda::Version", "AWS::Lambda::LayerVersion"):
            match = HASHED_ID.match(logical_id)
            if match:
                renames[logical_id] = match["base"] + "HASH"
    from strata.transform.versions import rename_logical_ids

    template = rename_logical_ids(json.loads(json.dumps(template)), renames)
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Lambda::Version":
            resource.get("Properties", {}).pop("CodeSha256", None)
    return _sort_lists(template)


def _sort_lists(value):
    """Lists in canonical order: aws-sam-translator's own tests compare this way (their ``deep_sort_lists``), since
    several list orders (DependsOn, ManagedPolicyArns, tags) follow set iteration inside the translator."""
    if isinstance(value, dict):
        return {k: _sort_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sort_lists(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@pytest.mark.parametrize("chunk", _chunks(GOOD, 60), ids=lambda c: f"{c[0].stem}..")
def test_corpus_templates_match_golden_output(chunk: list[Path], tmp_path: Path) -> None:
    mismatches = []
    for path in chunk:
        name = path.stem
        overrides = DIFFERENCES.get("parameter_values", {}).get(name, {})
        try:
            result = transform(path, home=tmp_path / "home", parameter_overrides=overrides, use_cache=False,
                               require_parameter_values=False)
        except StrataError as exc:
            if name in DIFFERENCES["fails"]:
                continue
            mismatches.append(f"{name}: failed: {exc.render()}")
            continue
        expected = json.loads((CORPUS / "output" / f"{name}.json").read_text())
        same = _normalise(result.template) == _normalise(expected)
        listed = name in DIFFERENCES["differs"]
        if not same and not listed:
            mismatches.append(f"{name}: differs from the golden output")
        if same and listed:
            mismatches.append(f"{name}: listed as differing but now matches: remove it from the list")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("chunk", _chunks(ERRORS, 60), ids=lambda c: f"{c[0].stem}..")
def test_corpus_error_templates_fail_clearly(chunk: list[Path], tmp_path: Path) -> None:
    problems = []
    for path in chunk:
        try:
            transform(path, home=tmp_path / "home", use_cache=False, require_parameter_values=False)
        except StrataError as exc:
            text = exc.render()
            if not text.strip() or "Traceback" in text:
                problems.append(f"{path.stem}: unclear message {text!r}")
        except Exception as exc:  # noqa: BLE001 - the point of the test
            problems.append(f"{path.stem}: {type(exc).__name__}: {exc}")
        else:
            if path.stem not in DIFFERENCES["errors_accepted"]:
                problems.append(f"{path.stem}: transformed without error")
    assert not problems, "\n".join(problems)
