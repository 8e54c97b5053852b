"""``strata serve``: Lambda's REST API (rest-json, routes and shapes from botocore's model) over the local service.

model (compiled spec) -> routes (method+path -> operation) -> request (params by input shape) -> validate (model
constraints) -> app (limits, auth, the warm-Invoke hot path, thread pools around the blocking dispatch) -> response (by
output shape). http is the HTTP/1.1 server (httptools parses; connections, keep-alive, pipelining, limits, timeouts);
runner binds and serves (``strata.local.discovery`` advertises it in ``<home>/server.json``); auth checks every
request's SigV4 signature and Host; client invokes through it, signed with the home's ``strata.local.credentials``.
json_protocol serves AWS's JSON 1.1 services on the same port (codedeploy: the hook status a traffic shift waits
for); on_demand starts the same app in a command's own process when its workers need a server and none runs.
"""
