"""The gateway tests' handler: echoes its event and version; the path picks a misbehaviour."""
import base64
import json
import time

VERSION_MARK = 1


def handler(event, context):
    path = event.get("rawPath") or event.get("path") or ""
    if path.endswith("/fail"):
        raise RuntimeError("asked to fail")
    if path.endswith("/malformed"):
        return {"statusCode": "not a status", "body": 1}
    if path.endswith("/slow"):
        time.sleep(3)
    if path.endswith("/png"):
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "isBase64Encoded": True,
                "body": base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\xff").decode()}
    if path.endswith("/shorthand"):
        return {"shorthand": True, "version": context.function_version}
    return {"statusCode": 200, "headers": {"X-Version": context.function_version},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]} if event.get("version") != "2.0" else {},
            "cookies": ["c=3"],
            "body": json.dumps({"version": context.function_version, "mark": VERSION_MARK, "event": event})}
