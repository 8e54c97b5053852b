"""The local target: everything that runs a deployed stack on this machine, with no AWS account.

``engine/`` (the CloudFormation-like stack engine: plan, apply, journal, state), ``lambda_service/`` (Lambda's control
plane on SQLite), ``runtime/`` (warm worker processes), ``server/`` (Lambda's REST API over HTTP), ``shift/`` (traffic
shifting), ``verify`` (the local reader for ``strata.verify``) and ``deploy`` (the local orchestrator).
"""
