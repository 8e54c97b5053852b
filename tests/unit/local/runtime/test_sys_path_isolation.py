"""A handler sees what Lambda's Python runtime gives it and nothing of strata's environment: its code, its layers, the
standard library and the boto3 bundled with the runtime (issue 14, isolation)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from runtime_lab import RUNTIME, body

from strata.local.runtime import interpreter, sdk
from strata.local.runtime.sandbox import worker_sys_path

PROBE = {"app.py": """
    import importlib, os, sys

    def handler(event, context):
        imports = {}
        for name in ("yaml", "click", "strata", "moto", "requests", "cfnlint"):
            try:
                importlib.import_module(name)
                imports[name] = "imported"
            except ImportError as exc:
                imports[name] = type(exc).__name__
        import boto3, botocore
        from importlib.metadata import version
        boto3.client("s3", region_name="us-east-1")      # botocore's data files are there too
        return {"imports": imports, "boto3": boto3.__version__, "botocore": botocore.__version__,
                "metadata": version("boto3"), "boto3_file": boto3.__file__,
                "path": sys.path, "prefix": sys.base_prefix, "version": list(sys.version_info[:2]),
                "strata_modules": sorted(m for m in sys.modules if m.split(".")[0] == "strata"),
                "pythonpath": os.environ.get("PYTHONPATH"), "runtime_dir": os.environ["LAMBDA_RUNTIME_DIR"]}
    """}

WHICH = {"app.py": """
    import boto3, layered, sitepkg

    def handler(event, context):
        return {"boto3": boto3.__version__, "layered": layered.VALUE, "sitepkg": sitepkg.VALUE}
    """}


def _recorded(runtime: str) -> dict[str, str]:
    return dict(json.loads(sdk.manifest_path(runtime).read_text())["packages"])


def test_a_handler_cannot_import_strata_or_its_dependencies_but_gets_the_runtimes_boto3(lab, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))     # nothing of the parent's environment leaks
    fn = lab.function(PROBE)
    result = lab.invoke(fn)
    assert result.function_error is None, result.payload
    seen = body(result)
    assert seen["imports"] == {"yaml": "ModuleNotFoundError", "click": "ModuleNotFoundError",
                               "strata": "ModuleNotFoundError", "moto": "ModuleNotFoundError",
                               "requests": "ModuleNotFoundError", "cfnlint": "ModuleNotFoundError"}
    assert seen["strata_modules"] == [] and seen["pythonpath"] is None
    recorded = _recorded(RUNTIME)
    assert seen["boto3"] == seen["metadata"] == recorded["boto3"] and seen["botocore"] == recorded["botocore"]
    folder = sdk.manifest_path(RUNTIME).parent / json.loads(sdk.manifest_path(RUNTIME).read_text())["folder"]
    assert seen["boto3_file"] == str(folder / "boto3" / "__init__.py")
    # sys.path: the code folder, the SDK folder, then the interpreter's own standard library (no site-packages)
    assert seen["path"][:2] == [str(lab.pool.prepare(fn).code_dir), str(folder)]
    assert all(entry.startswith(seen["prefix"]) and "site-packages" not in entry for entry in seen["path"][2:])
    assert os.path.isfile(os.path.join(seen["runtime_dir"], sdk.BOOTSTRAP_PACKAGE, "worker.py"))


def test_the_init_start_line_says_which_boto3(lab):
    fn = lab.function(PROBE)
    lab.invoke(fn)
    recorded = _recorded(RUNTIME)
    assert f"SDK: boto3 {recorded['boto3']}, botocore {recorded['botocore']} ({sdk.manifest_path(RUNTIME)})" \
        in lab.logs(fn)


def test_layers_come_before_the_bundled_boto3_and_the_functions_own_code_before_both(lab):
    major_minor = RUNTIME.removeprefix("python")
    layer = lab.layer({"python/layered.py": "VALUE = 'layer'\n",
                       f"python/lib/python{major_minor}/site-packages/sitepkg.py": "VALUE = 'site'\n",
                       "python/boto3/__init__.py": "__version__ = '0.0.layer'\n"})
    from_layer = lab.function(WHICH, name="from-layer", layers=(layer,))
    assert body(lab.invoke(from_layer)) == {"boto3": "0.0.layer", "layered": "layer", "sitepkg": "site"}

    vendored = lab.function({**WHICH, "boto3/__init__.py": "__version__ = '0.0.vendored'\n",
                             "layered.py": "VALUE = 'code'\n"}, name="vendored", layers=(layer,))
    assert body(lab.invoke(vendored)) == {"boto3": "0.0.vendored", "layered": "code", "sitepkg": "site"}


def test_a_function_that_forgot_a_requirement_fails_as_on_lambda(lab):
    fn = lab.function({"app.py": "import yaml\n\ndef handler(event, context):\n    return 1\n"})
    result = lab.invoke(fn)
    assert result.function_error == "Unhandled"
    assert body(result)["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'yaml'" in body(result)["errorMessage"]


def test_a_python312_function_gets_the_sdk_compiled_for_its_interpreter(lab, monkeypatch):
    found = sorted(Path("~/.pyenv/versions").expanduser().glob("3.12*/bin/python3.12"))   # a pyenv shim may refuse
    if found:
        monkeypatch.setenv("PATH", f"{found[-1].parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if interpreter.resolve("python3.12", lab.home).version != (3, 12):
        pytest.skip("python3.12 is not installed here")
    fn = lab.function(PROBE, runtime="python3.12")
    seen = body(lab.invoke(fn))
    assert seen["version"] == [3, 12] and seen["boto3"] == _recorded("python3.12")["boto3"]
    assert seen["imports"]["strata"] == "ModuleNotFoundError"
    folder = sdk.manifest_path("python3.12").parent / json.loads(sdk.manifest_path("python3.12").read_text())["folder"]
    assert (folder / ".compiled-3.12").exists()
    assert list((folder / "botocore" / "__pycache__").glob("*.cpython-312.pyc"))


def test_worker_sys_path_order(tmp_path):
    assert worker_sys_path(tmp_path / "code", tmp_path / "opt", "3.12", tmp_path / "sdk") == [
        str(tmp_path / "code"), str(tmp_path / "opt/python/lib/python3.12/site-packages"),
        str(tmp_path / "opt/python"), str(tmp_path / "sdk")]
    assert worker_sys_path(tmp_path / "code", None, "3.12", None) == [str(tmp_path / "code")]
