"""``strata serve``: Lambda's REST API (rest-json, routes and shapes from botocore's model) over the local service.

model (compiled spec) -> routes (method+path -> operation) -> request (params by input shape) -> validate (model
constraints) -> app (ASGI: limits, auth, thread pools around the blocking dispatch) -> response (by output shape).
runner binds and serves on uvicorn; discovery advertises the server in ``<home>/server.json``; client invokes through it.
"""
