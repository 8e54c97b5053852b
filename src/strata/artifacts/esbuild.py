"""``Metadata: BuildMethod: esbuild``: a Node.js function bundled by esbuild, as ``sam build`` does it, with an esbuild
version strata pins.

Which esbuild: ``sam build`` (aws-lambda-builders' nodejs_npm_esbuild) runs the first ``esbuild`` it finds in the
project's ``node_modules/.bin`` or on PATH, so the bundle depends on whatever is installed. strata always runs its
own pinned ``esbuild@ESBUILD_VERSION``, installed with npm on first use into the user cache
(``<user cache>/esbuild/<version>/``, ``strata.paths.user_cache_dir``), atomically (a temp folder renamed into place),
and never the project's: the version is part of every esbuild artifact's cache key, so two machines give the same
bytes. ``python -m strata.artifacts.esbuild`` installs it ahead (CI does, so tests run offline); without npm, or
offline before that, the build is a ``BuildError`` saying so.

The command is SAM's (``EsbuildCommandBuilder``): ``BuildProperties`` keys in PascalCase become snake_case (SAM CLI's
normaliser) and then ``--kebab-case`` flags: ``true`` -> ``--minify``, ``false`` -> nothing, a string ->
``--target=es2022``, a list -> ``--external:pg --external:aws-sdk`` (``Loader: [".png=file"]`` ->
``--loader:.png=file``). Always ``--bundle --platform=node --outdir=<out>``; ``--target=es2020``, ``--format=cjs``
and ``--minify`` unless the properties set them (``Minify: false`` turns minifying off). ``EntryPoints`` (required)
are paths in the code folder, a missing suffix tried as ``.ts`` then ``.js``. ``External`` naming
``./node_modules/*`` marks every ``dependencies`` entry of ``package.json`` external instead. ``UseNpmCi`` is
accepted and ignored (strata uses ``npm ci`` whenever a lock exists). esbuild runs in a copy of the code folder
with the production ``node_modules`` beside it, so the paths in its output and source maps are relative and the same
on every machine; the artifact holds esbuild's output only, as SAM's does.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from strata.errors import BuildError
from strata.paths import move_into_place, user_cache_dir

ESBUILD_VERSION = "0.28.2"
NON_CONFIGURABLE = frozenset({"bundle", "platform", "outdir"})     # SAM sets these itself
IGNORED = frozenset({"use_npm_ci", "entry_points"})
ALL_DEPENDENCIES = "./node_modules/*"


def esbuild_home(version: str = ESBUILD_VERSION) -> Path:
    return user_cache_dir() / "esbuild" / version


def esbuild_binary(version: str = ESBUILD_VERSION) -> Path:
    return esbuild_home(version) / "node_modules" / ".bin" / "esbuild"


def ensure_esbuild(version: str = ESBUILD_VERSION) -> Path:
    """The pinned esbuild's executable, installed with npm into the user cache first when it is not there."""
    binary = esbuild_binary(version)
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(f"esbuild {version} is needed for BuildMethod: esbuild, and npm is not installed to get it",
                         hint="install Node.js (it brings npm), then build again")
    import tempfile

    final = esbuild_home(version)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
    try:
        proc = subprocess.run([npm, "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
                               "--loglevel=error", "--prefix", str(tmp), f"esbuild@{version}"],
                              cwd=tmp, capture_output=True, text=True)
        got = tmp / "node_modules" / ".bin" / "esbuild"
        if proc.returncode != 0 or not got.exists():
            tail = "\n    ".join((proc.stdout + proc.stderr).strip().splitlines()[-10:])
            raise BuildError(f"could not install esbuild {version} into {final} with npm:\n    {tail}",
                             hint="connect to the npm registry once (strata keeps esbuild in its user cache "
                                  "afterwards), or run `python -m strata.artifacts.esbuild` where it is reachable")
        check = subprocess.run([str(got), "--version"], capture_output=True, text=True)
        if check.stdout.strip() != version:
            raise BuildError(f"the esbuild npm installed says it is {check.stdout.strip() or check.stderr.strip()!r}, "
                             f"not {version}")
        move_into_place(tmp, final, binary.exists)   # another build installed it first: the same version
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return binary


def normalise_properties(raw: dict[str, Any]) -> dict[str, Any]:
    """SAM CLI's normaliser: ``EntryPoints`` -> ``entry_points``, ``MainFields`` -> ``main_fields``."""
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in raw.items()}


def bundle_key(raw_properties: str) -> str:
    """What decides a bundle besides the files: the esbuild version and the properties (canonical JSON)."""
    return json.dumps({"esbuild": ESBUILD_VERSION, "properties": json.loads(raw_properties or "{}")},
                      sort_keys=True, separators=(",", ":"))


def esbuild_args(properties: dict[str, Any], workdir: Path, outdir: str, *, what: str) -> list[str]:
    """The esbuild command line for ``properties`` (normalised), entry points checked in ``workdir``."""
    config = dict(properties)
    args = [*_entry_points(config, workdir, what=what), "--bundle", "--platform=node", f"--outdir={outdir}"]
    if "target" not in config:
        args.append("--target=es2020")
    if "format" not in config:
        args.append("--format=cjs")
    if "minify" not in config:
        args.append("--minify")
    external = config.get("external")
    if isinstance(external, list) and ALL_DEPENDENCIES in external:
        args += [f"--external:{dep}" for dep in _dependencies(workdir)]
        config.pop("external")
    for key, value in config.items():
        if key in NON_CONFIGURABLE or key in IGNORED:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            args += [flag] if value else []
        elif isinstance(value, str):
            args.append(f"{flag}={value}")
        elif isinstance(value, list):
            args += [f"{flag}:{item}" for item in value]
        else:
            raise BuildError(f"{what}: BuildProperties {_pascal(key)} is {value!r}; esbuild takes a boolean, a "
                             "string or a list", hint="see https://esbuild.github.io/api/ for the option's values")
    return args


def _entry_points(config: dict[str, Any], workdir: Path, *, what: str) -> list[str]:
    points = config.get("entry_points")
    if not isinstance(points, list) or not points or not all(isinstance(p, str) for p in points):
        raise BuildError(f"{what}: BuildMethod esbuild needs Metadata.BuildProperties.EntryPoints, a list of files",
                         hint="add e.g. `EntryPoints: [app.ts]` under the function's Metadata.BuildProperties")
    found = []
    for point in points:
        candidates = [point] if Path(point).suffix else [point + ".ts", point + ".js"]
        match = next((c for c in candidates if (workdir / c).is_file()), None)
        if match is None:
            raise BuildError(f"{what}: entry point {point} does not exist in the code folder",
                             hint="fix Metadata.BuildProperties.EntryPoints (paths relative to CodeUri)")
        found.append(match)
    return found


def _dependencies(workdir: Path) -> list[str]:
    try:
        deps = json.loads((workdir / "package.json").read_text(encoding="utf-8")).get("dependencies") or {}
    except (OSError, ValueError, AttributeError):
        return []
    return list(deps) if isinstance(deps, dict) else []


def _pascal(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))


def run_esbuild(binary: Path, args: list[str], workdir: Path, *, what: str) -> None:
    proc = subprocess.run([str(binary), *args, "--log-level=error"], cwd=workdir, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n    ".join(proc.stderr.strip().splitlines()[-20:])
        raise BuildError(f"{what}: esbuild failed:\n    {tail}", hint="fix the code or Metadata.BuildProperties")


def main() -> int:
    """Install the pinned esbuild into the user cache (CI and dev set-up run this, so builds run offline later)."""
    try:
        print(ensure_esbuild())
    except BuildError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
