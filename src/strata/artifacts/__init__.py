"""Build: local code and layer folders -> deterministic zips in a content-addressed store. No network calls
(except pip for requirements.txt, which is cached by the requirements' hash).

Public API (used by the transform stage and ``strata build``): ``find_build_targets``, ``build_targets``,
``BuildTarget``, ``BuiltArtifact``. Modules: ``targets`` (what to build), ``walk`` (files + stat, no reads),
``cache`` (stat cache, racily-clean rule), ``digest`` (sha256), ``archive`` (deterministic zip), ``archive_check`` (the
one checker for zips that enter strata), ``limits`` (what a package may hold), ``deps`` (pip), ``builder``
(orchestration), ``store`` (content-addressed artifacts).
"""
from strata.artifacts.builder import BuiltArtifact, build_targets
from strata.artifacts.targets import BuildTarget, find_build_targets

__all__ = ["BuildTarget", "BuiltArtifact", "build_targets", "find_build_targets"]
