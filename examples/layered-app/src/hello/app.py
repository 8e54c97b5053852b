"""Greets with the helper from the shared layer, and says which version and layer revision answered."""
import os

import shared_greeting


def handler(event, context):
    name = (event or {}).get("name", "world")
    return {
        "message": shared_greeting.greet(os.environ.get("GREETING", "Hello"), name),
        "layer_revision": shared_greeting.LAYER_REVISION,
        "function_version": context.function_version,
        "stage": os.environ.get("STAGE"),
    }
