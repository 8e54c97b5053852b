"""The "lambda client" the resource handlers talk to: boto3's method names and parameter shapes.

``LocalLambdaClient`` adapts them to the in-process service through ``strata.local.lambda_service.wire.dispatch``; a
boto3 Lambda client pointed at ``strata serve`` has the same methods, so handlers do not care which one they get. The
service is created on first call, so a plan that changes nothing never opens it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from strata.local.runtime.logs import LogStore


class LambdaClient(Protocol):
    """The subset of boto3's Lambda client the handlers use."""

    def create_function(self, **kw: Any) -> dict[str, Any]: ...
    def get_function(self, **kw: Any) -> dict[str, Any]: ...
    def get_function_configuration(self, **kw: Any) -> dict[str, Any]: ...
    def update_function_code(self, **kw: Any) -> dict[str, Any]: ...
    def update_function_configuration(self, **kw: Any) -> dict[str, Any]: ...
    def delete_function(self, **kw: Any) -> dict[str, Any]: ...
    def publish_version(self, **kw: Any) -> dict[str, Any]: ...
    def list_versions_by_function(self, **kw: Any) -> dict[str, Any]: ...
    def create_alias(self, **kw: Any) -> dict[str, Any]: ...
    def get_alias(self, **kw: Any) -> dict[str, Any]: ...
    def update_alias(self, **kw: Any) -> dict[str, Any]: ...
    def delete_alias(self, **kw: Any) -> dict[str, Any]: ...
    def publish_layer_version(self, **kw: Any) -> dict[str, Any]: ...
    def list_layer_versions(self, **kw: Any) -> dict[str, Any]: ...
    def delete_layer_version(self, **kw: Any) -> dict[str, Any]: ...
    def add_permission(self, **kw: Any) -> dict[str, Any]: ...
    def remove_permission(self, **kw: Any) -> dict[str, Any]: ...
    def put_function_event_invoke_config(self, **kw: Any) -> dict[str, Any]: ...
    def delete_function_event_invoke_config(self, **kw: Any) -> dict[str, Any]: ...
    def tag_resource(self, **kw: Any) -> dict[str, Any]: ...
    def untag_resource(self, **kw: Any) -> dict[str, Any]: ...
    def put_function_concurrency(self, **kw: Any) -> dict[str, Any]: ...
    def delete_function_concurrency(self, **kw: Any) -> dict[str, Any]: ...
    def get_policy(self, **kw: Any) -> dict[str, Any]: ...
    def get_function_event_invoke_config(self, **kw: Any) -> dict[str, Any]: ...


# method name -> botocore operation name (explicit: a registry, not string munging)
OPERATIONS: dict[str, str] = {
    "create_function": "CreateFunction",
    "get_function": "GetFunction",
    "get_function_configuration": "GetFunctionConfiguration",
    "update_function_code": "UpdateFunctionCode",
    "update_function_configuration": "UpdateFunctionConfiguration",
    "delete_function": "DeleteFunction",
    "publish_version": "PublishVersion",
    "list_versions_by_function": "ListVersionsByFunction",
    "create_alias": "CreateAlias",
    "get_alias": "GetAlias",
    "update_alias": "UpdateAlias",
    "delete_alias": "DeleteAlias",
    "list_aliases": "ListAliases",
    "publish_layer_version": "PublishLayerVersion",
    "list_layer_versions": "ListLayerVersions",
    "delete_layer_version": "DeleteLayerVersion",
    "add_permission": "AddPermission",
    "remove_permission": "RemovePermission",
    "put_function_event_invoke_config": "PutFunctionEventInvokeConfig",
    "delete_function_event_invoke_config": "DeleteFunctionEventInvokeConfig",
    "tag_resource": "TagResource",
    "untag_resource": "UntagResource",
    "put_function_concurrency": "PutFunctionConcurrency",
    "delete_function_concurrency": "DeleteFunctionConcurrency",
    "get_policy": "GetPolicy",
    "get_function_event_invoke_config": "GetFunctionEventInvokeConfig",
    # used by traffic-shift hooks, rollback and prune (strata.local.shift, strata.ops)
    "invoke": "Invoke",
    "list_functions": "ListFunctions",
    "get_layer_version": "GetLayerVersion",
    "get_layer_version_by_arn": "GetLayerVersionByArn",
}


class LocalLambdaClient:
    """boto3-style methods over ``strata.local.lambda_service.wire.dispatch`` on an in-process ``LambdaService``."""

    def __init__(self, home: Path, *, region: str, account_id: str, service: Any = None) -> None:
        self.home, self.region, self.account_id = Path(home), region, account_id
        self._service = service
        self._owned = service is None
        self._endpoint: Any = None          # the on-demand server its workers' AWS calls go to (none started yet)
        self.calls: list[str] = []          # operation names, in order (tests and the bench read it)

    @property
    def service(self) -> Any:
        if self._service is None:
            from strata.local.lambda_service.service import LambdaService
            from strata.local.server.on_demand import register

            # made for this client's deploy and closed with it: one database connection, not one per call
            self._service = LambdaService(self.home, region=self.region, account_id=self.account_id,
                                          keep_connection=True)
            # a hook's or function's boto3 calls need a local server: started by the first worker, if none runs
            self._endpoint = register(self.home, self.region)
        return self._service

    def close(self) -> None:
        """Stop the service's runtime if this client started the service, and the server its workers used."""
        if self._service is not None and self._owned:
            self._service.close()
        if self._endpoint is not None:
            self._endpoint.close()
            self._endpoint = None

    def invocation_logs(self) -> LogStore:
        """Where this client's invocations are logged: the in-process pool's own store when the service runs one
        (reading through it writes its queued blocks first), else the home's."""
        from strata.local.runtime.logs import LogStore
        from strata.local.runtime.pool import WorkerPool

        runtime = self.service.runtime
        return runtime.logs if isinstance(runtime, WorkerPool) else LogStore(self.home)

    def highest_version(self, function_name: str) -> int:
        """The highest version number ``function_name`` has handed out: not a Lambda operation, so a boto3 client
        has no such method and the handlers list the versions instead (``handlers.version``)."""
        self.calls.append("HighestVersion")
        return int(self.service.highest_version_number(function_name))

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        from strata.local.lambda_service.wire import dispatch

        self.calls.append(operation)
        return dispatch(self.service, operation, {k: v for k, v in params.items() if v is not None})

    def __getattr__(self, name: str) -> Any:
        try:
            operation = OPERATIONS[name]
        except KeyError:
            raise AttributeError(f"lambda client has no operation {name!r}") from None
        return lambda **kw: self.call(operation, kw)
