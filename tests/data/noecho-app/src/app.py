import os


def handler(event, context):
    return {"stage": os.environ["STAGE"], "keylen": len(os.environ["API_KEY"])}
