"""Shared greeting helpers, shipped as a Lambda layer (importable from /opt/python)."""

LAYER_REVISION = 1


def greet(greeting: str, name: str) -> str:
    return f"{greeting}, {name}!"
