"""A function without layers."""


def handler(event, context):
    return {"ok": True, "function_version": context.function_version}
