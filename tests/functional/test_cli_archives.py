"""Hostile zips and source folders fail ``strata build`` and ``strata deploy`` as user errors (exit 1) naming the zip
and the entry: never "Internal error", never deployed to fail at the first invoke."""
from __future__ import annotations

import os

import pytest
from deploy_helpers import service_snapshot
from hostile_zips import HANDLER, HOSTILE, make
from strata_testkit import run_cli

from strata.cli.main import main

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code}
      Handler: app.handler
      Runtime: python3.12
      Layers: [!Ref Shared]
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: {layer}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("STRATA_HOME", str(tmp_path / "home"))
    (tmp_path / "good.zip").write_bytes(make({"app.py": HANDLER}))
    (tmp_path / "layer.zip").write_bytes(make({"python/shared.py": b"X = 1\n"}))
    return tmp_path


def _template(project, code: str = "bad.zip", layer: str = "layer.zip") -> str:
    path = project / "template.yaml"
    path.write_text(TEMPLATE.format(code=code, layer=layer))
    return str(path)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_build_refuses_hostile_prebuilt_zip_naming_zip_and_entry(project, capsys, case):
    data, entry, fragment = HOSTILE[case]()
    (project / "bad.zip").write_bytes(data)
    code, out, err = run_cli(main, ["build", "-t", _template(project)], capsys)
    assert code == 1, (out, err)
    assert err.startswith(f"Error: Fn (CodeUri {project / 'bad.zip'}): the zip "), err
    assert fragment in err and (not entry or repr(entry)[:40] in err), err
    assert "Internal error" not in err and "Traceback" not in err
    assert not list((project / "home").glob("artifacts/*/*.zip"))[1:]  # at most the good layer was stored


@pytest.mark.parametrize("case", ["symlink-chain", "bad-crc", "name-mismatch", "deep-path"])
def test_deploy_refuses_hostile_zip_before_anything_is_deployed(project, capsys, case):
    data, entry, fragment = HOSTILE[case]()
    (project / "bad.zip").write_bytes(data)
    code, out, err = run_cli(main, ["deploy", "-t", _template(project), "--stack-name", "s"], capsys)
    assert code == 1 and fragment in err and repr(entry)[:40] in err, (out, err)
    assert "Internal error" not in err
    assert service_snapshot(project / "home") == {"functions": {}, "layers": {}}


def test_hostile_layer_zip_names_the_layer(project, capsys):
    (project / "layer.zip").write_bytes(HOSTILE["symlink-chain"]()[0])
    code, _out, err = run_cli(main, ["build", "-t", _template(project, code="good.zip")], capsys)
    assert code == 1 and f"Shared (ContentUri {project / 'layer.zip'})" in err and "'t' -> 's/..'" in err


def test_a_zip_replaced_after_a_good_build_is_checked_again(project, capsys):
    template = _template(project, code="good.zip")
    assert run_cli(main, ["build", "-t", template], capsys)[0] == 0
    assert run_cli(main, ["build", "-t", template], capsys)[0] == 0          # cached: the stat key vouches
    (project / "good.zip").write_bytes(HOSTILE["bad-crc"]()[0])
    code, _out, err = run_cli(main, ["build", "-t", template], capsys)
    assert code == 1 and "fails its CRC check" in err


@pytest.mark.parametrize("shape", ["two-link-loop", "fan-out", "deep"])
def test_hostile_source_folder_is_a_user_error(project, capsys, shape):
    src = project / "src"
    src.mkdir()
    (src / "app.py").write_bytes(HANDLER)
    folders: list[str] = []
    if shape == "two-link-loop":
        os.symlink("b", src / "a")
        os.symlink("a", src / "b")
        expected = "makes a loop"
    elif shape == "fan-out":
        (src / "l0").mkdir()
        (src / "l0" / "data.txt").write_text("x")
        for level in range(1, 5):   # ten links per level to the level below: 10**4 paths to one file
            (src / f"l{level}").mkdir()
            for i in range(10):
                os.symlink(f"../l{level - 1}", src / f"l{level}" / f"x{i}")
        expected = "symlink fan-out"
    else:
        folders = [str(src) + "/d" * i for i in range(1, 200)]
        for folder in folders:
            os.mkdir(folder)
        expected = "nested more than 126 levels deep"
    try:
        code, _out, err = run_cli(main, ["build", "-t", _template(project, code="src")], capsys)
    finally:
        for folder in reversed(folders):
            os.rmdir(folder)
    assert code == 1 and expected in err and "Error: Fn (CodeUri " in err, err
    assert "Internal error" not in err
