"""Every translator test input loads, and its data is what aws-sam-translator's own parser gives."""
from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

from strata.errors import TemplateError
from strata.template import load_template, parse_template_text

# shared/ sits beside the checkout (as CI lays it out); the work area's copy is the fallback
CORPUS = next((c for c in (Path(__file__).resolve().parents[4] / "shared" / "corpus" / "sam-translator" / "input",
                           Path("/work/shared/corpus/sam-translator/input")) if c.is_dir()),
              Path("/work/shared/corpus/sam-translator/input"))
DIFFERENCES = json.loads((Path(__file__).parent / "data" / "corpus_differences.json").read_text())


def _normalise(value):
    """Apply the deliberate 'data' differences to the translator's result (timestamps -> their ISO text)."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


SHARDS = 4  # the pure-Python parser in yaml_parse is the slow half; shards let pytest -n spread it


@pytest.mark.skipif(not CORPUS.is_dir(), reason="translator corpus not present")
@pytest.mark.parametrize("shard", range(SHARDS))
def test_corpus_loads_equal_to_samtranslator(shard: int) -> None:
    every = sorted(CORPUS.glob("*.yaml"))
    assert len(every) > 800
    files = every[shard::SHARDS]
    mismatched, unexpected_rejections, rejected = [], [], {}
    for path in files:
        text = path.read_bytes()
        if parse_template_text(text, str(path)).data != _normalise(yaml_parse(text)):
            mismatched.append(path.name)
        try:
            load_template(path)
        except TemplateError as exc:
            rejected[path.name] = [p.message for p in exc.problems]
    for name, problems in rejected.items():
        expected = DIFFERENCES["rejected"].get(name)
        if expected is None or expected["problem"] not in problems:
            unexpected_rejections.append((name, problems))
    assert mismatched == []
    assert unexpected_rejections == []
    names = {path.name for path in files}
    assert sorted(rejected) == sorted(name for name in DIFFERENCES["rejected"] if name in names)
