"""Lambda's defaults: one table, read by the fingerprint, the engine, verify and the local service."""
from __future__ import annotations

import pytest

from strata.local.engine.handlers import function as function_handler
from strata.local.lambda_service import configuration
from strata.model import lambda_defaults
from strata.model.lambda_defaults import DEFAULTS, LOG_FORMAT, default, log_group
from strata.transform import fields
from strata.verify import settings


def test_fingerprint_engine_verify_and_service_share_one_table():
    assert fields.DEFAULTS is DEFAULTS
    assert function_handler.DEFAULTS is DEFAULTS
    assert settings.DEFAULTS is DEFAULTS
    assert configuration.DEFAULTS is DEFAULTS
    assert lambda_defaults.DEFAULTS["MemorySize"] == 128 and DEFAULTS["Timeout"] == 3


def test_verify_reads_absent_settings_as_the_table_says():
    absent = {s.name: s.from_template(None) for s in settings.SETTINGS}
    live = settings.live_settings({})
    assert absent == live
    assert absent["MemorySize"] == DEFAULTS["MemorySize"]
    assert absent["Timeout"] == DEFAULTS["Timeout"]
    assert absent["Architectures"] == DEFAULTS["Architectures"]
    assert absent["EphemeralStorage"] == DEFAULTS["EphemeralStorage"]["Size"]
    assert absent["TracingConfig"] == DEFAULTS["TracingConfig"]["Mode"]
    assert absent["SnapStart"] == DEFAULTS["SnapStart"]["ApplyOn"]
    assert absent["PackageType"] == DEFAULTS["PackageType"]
    assert absent["Description"] == DEFAULTS["Description"]
    # explicit defaults compare equal to absent ones
    assert settings.BY_NAME["MemorySize"].from_template(DEFAULTS["MemorySize"]) == absent["MemorySize"]
    assert settings.BY_NAME["LoggingConfig"].from_template(DEFAULTS["LoggingConfig"]) == absent["LoggingConfig"]


def test_fingerprint_drops_the_defaults_it_always_dropped():
    for name in ("MemorySize", "Timeout", "Description", "PackageType", "Architectures", "EphemeralStorage",
                 "TracingConfig", "SnapStart", "Environment", "FileSystemConfigs", "VpcConfig",
                 "RuntimeManagementConfig", "LoggingConfig"):
        assert fields.is_default(name, default(name)), name
    for name in fields.KEPT_AT_DEFAULT:                 # an explicit value here has always been fingerprinted
        assert not fields.is_default(name, default(name)), name
    assert not fields.is_default("MemorySize", 256)


def test_a_new_local_function_starts_from_the_table():
    config = configuration.initial_config("fn", "arn:aws:lambda:us-east-1:123456789012:function:fn")
    assert (config.memory_size, config.timeout, config.description) == (
        DEFAULTS["MemorySize"], DEFAULTS["Timeout"], DEFAULTS["Description"])
    assert config.architectures == DEFAULTS["Architectures"] and config.package_type == DEFAULTS["PackageType"]
    assert config.ephemeral_storage.size == DEFAULTS["EphemeralStorage"]["Size"]
    assert config.tracing_config.mode == DEFAULTS["TracingConfig"]["Mode"]
    assert (config.logging_config.log_format, config.logging_config.log_group) == (LOG_FORMAT, "/aws/lambda/fn")
    assert log_group("fn") == "/aws/lambda/fn"


def test_the_table_cannot_be_changed_and_default_hands_out_copies():
    with pytest.raises(TypeError):
        DEFAULTS["MemorySize"] = 256            # type: ignore[index]
    copy = default("Architectures")
    copy.append("arm64")
    assert DEFAULTS["Architectures"] == ["x86_64"]
    assert default("Handler") is None
