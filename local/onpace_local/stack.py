"""The whole of OnPace on this machine: ``template.yaml`` provisioned on a moto server, and the
real handlers called in-process with the environment the template gives them.

The DynamoDB tables can be served by dynalite instead (``dynamodb="dynalite"``), a second
implementation of the DynamoDB API, while every other service stays on moto: the handlers reach
it through ``AWS_ENDPOINT_URL_DYNAMODB``, which botocore (and so pynamodb) prefers for DynamoDB.

moto cannot run Lambda code without Docker, so this class plays the part of Lambda, API
Gateway, the scheduler and the event-source mappings: callers build the event those would
send and ``invoke`` the function, while moto holds all the state.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import boto3
from botocore.client import BaseClient

from onpace_local.dynalite import DynaliteHandle, start_dynalite
from onpace_local.iam import AwsCall
from onpace_local.moto_server import MotoHandle, start_moto
from onpace_local.provision import (
    DEFAULT_REGION,
    DEFAULT_STACK_NAME,
    DynamoDbServer,
    ProvisionedStack,
    provision,
)
from onpace_local.template import FunctionSpec, function_specs, layer_dirs

REPO_ROOT = Path(__file__).resolve().parents[2]

#: The implementations of the DynamoDB API the local stack can serve its tables from.
DynamoDbBackend = Literal["moto", "dynalite"]
DYNAMODB_BACKENDS: tuple[DynamoDbBackend, ...] = ("moto", "dynalite")

_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


# The function whose handler is running in this thread (``LocalStack.invoke``), if any.
_INVOKED: ContextVar[str | None] = ContextVar("onpace_invoked_function", default=None)


@dataclass
class LambdaContext:
    """What Lambda passes as ``context``, with a clock started at the invocation."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int = 30
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class EnvironmentConflict(ValueError):
    """Two functions of the template give one environment variable different values."""


class LocalStack:
    """A started moto server with the template's resources and its functions ready to invoke.

    One at a time per process: moto's state is global to the process, and a new stack starts by
    resetting it, which would wipe a stack that is still running.
    """

    _running: LocalStack | None = None

    def __init__(
        self,
        moto: MotoHandle,
        stack: ProvisionedStack,
        specs: list[FunctionSpec],
        root: Path,
        saved_environ: dict[str, str | None],
        added_paths: list[str],
        dynalite: DynaliteHandle | None = None,
        *,
        owns_moto: bool = True,
    ) -> None:
        self.moto = moto
        self.dynalite = dynalite
        self._owns_moto = owns_moto
        self.stack = stack
        self.root = root
        self._specs = {spec.logical_id: spec for spec in specs}
        self._saved_environ = saved_environ
        self._added_paths = added_paths
        self._clients: dict[str, Any] = {}
        self._stopped = False

    # -- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        template_path: Path = Path("template.yaml"),
        root: Path = REPO_ROOT,
        *,
        region: str = DEFAULT_REGION,
        stack_name: str = DEFAULT_STACK_NAME,
        parameter_overrides: dict[str, str] | None = None,
        dynamodb: DynamoDbBackend = "moto",
        moto: MotoHandle | None = None,
    ) -> LocalStack:
        """Start moto, provision the template on it, and prepare this process to run the handlers.

        Sets ``os.environ`` (endpoint, test credentials, region, and the union of the functions'
        environments) and ``sys.path`` (function folders and layers); ``stop`` puts both back.
        With ``dynamodb="dynalite"`` the tables are created on a dynalite process started for this
        stack, and ``AWS_ENDPOINT_URL_DYNAMODB`` points every DynamoDB client there.

        ``moto``: a running moto server to use (reset first, and left running by ``stop``), so that
        one process can run one stack after another at the same URL: the handlers' module-level
        boto3 clients keep the endpoint they were created with.
        """
        if LocalStack._running is not None:
            raise RuntimeError(
                "a LocalStack is already running in this process (moto's state is per process): "
                "stop it first, or share it (tests: the session-scoped local_stack fixture)"
            )
        root = Path(root).resolve()
        template_path = Path(template_path)
        if not template_path.is_absolute():
            template_path = root / template_path
        if dynamodb not in DYNAMODB_BACKENDS:
            raise ValueError(f"dynamodb must be one of {DYNAMODB_BACKENDS}, not {dynamodb!r}")
        owns_moto = moto is None
        if moto is None:
            moto = start_moto()
        else:
            moto.reset()
        dynalite: DynaliteHandle | None = None
        saved: dict[str, str | None] = {}
        added_paths: list[str] = []
        try:
            server = DynamoDbServer("moto", moto.endpoint_url)
            if dynamodb == "dynalite":
                dynalite = start_dynalite()
                server = dynalite.server()
            _set_env(
                saved,
                {
                    "AWS_ENDPOINT_URL": moto.endpoint_url,
                    # Always set, so that a value from the caller's shell never splits the tables off.
                    "AWS_ENDPOINT_URL_DYNAMODB": server.endpoint_url,
                    **_CREDENTIALS,
                    "AWS_DEFAULT_REGION": region,
                    "AWS_REGION": region,
                    # No X-Ray daemon listens here: Powertools Tracer stays off (the handlers
                    # keep their decorators; what they would send is not sent anywhere).
                    "POWERTOOLS_TRACE_DISABLED": "true",
                },
            )
            for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
                saved.setdefault(variable, os.environ.get(variable))
                os.environ.pop(variable, None)
            stack = provision(
                template_path,
                moto.endpoint_url,
                region=region,
                stack_name=stack_name,
                parameter_overrides=parameter_overrides,
                dynamodb=server,
            )
            specs = function_specs(template_path)
            _set_env(saved, _union_environment(stack, specs))
            for directory in [*(spec.code_dir for spec in specs), *layer_dirs(template_path)]:
                entry = str(directory)
                if entry not in sys.path:
                    sys.path.insert(0, entry)
                    added_paths.append(entry)
            local = cls(moto, stack, specs, root, saved, added_paths, dynalite, owns_moto=owns_moto)
            _cold_start()
            local.bind_models()
            LocalStack._running = local
        except BaseException:
            _restore(saved, added_paths)
            if dynalite is not None:
                dynalite.stop()
            if owns_moto:
                moto.stop()
            raise
        return local

    def bind_models(self) -> None:
        """Point the pynamodb models at the provisioned tables (from the environment just set)."""
        from onpace_core.settings import Settings, get_settings
        from onpace_core.store.models import bind_tables

        get_settings.cache_clear()
        bind_tables(Settings.from_env())

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if LocalStack._running is self:
            LocalStack._running = None
        self._clients.clear()
        _restore(self._saved_environ, self._added_paths)
        if self.dynalite is not None:
            self.dynalite.stop()
        if self._owns_moto:
            self.moto.stop()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what is there ------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """moto server's URL: every service but DynamoDB, and DynamoDB too unless on dynalite."""
        return self.moto.endpoint_url

    @property
    def dynamodb(self) -> DynamoDbServer:
        """The server holding the tables, and what of DynamoDB it implements."""
        return self.stack.dynamodb_server

    @property
    def dynamodb_endpoint_url(self) -> str:
        return self.dynamodb.endpoint_url

    @property
    def region(self) -> str:
        return self.stack.region

    @property
    def functions(self) -> list[FunctionSpec]:
        return list(self._specs.values())

    def function(self, logical_id: str) -> FunctionSpec:
        try:
            return self._specs[logical_id]
        except KeyError:
            raise KeyError(
                f"no function {logical_id!r} in the template; have {sorted(self._specs)}"
            ) from None

    def ref(self, logical_id: str) -> str:
        """What ``!Ref`` of a resource gives (a table's name, a queue's URL…)."""
        return self.stack.refs[logical_id]

    def attr(self, logical_id: str, attribute: str) -> str:
        """What ``!GetAtt logical_id.attribute`` gives."""
        return self.stack.attrs[(logical_id, attribute)]

    def function_env(self, logical_id: str) -> dict[str, str]:
        return self.stack.function_env(logical_id)

    def sent_emails(self) -> list[dict[str, Any]]:
        """Every raw message moto's SES took (``id``, ``source``, ``destinations``, ``raw_data``).

        Read from the moto server's own state, which lives in this process (a
        ``ThreadedMotoServer``): ``/moto-api/data.json`` serializes all of a session's state on
        every read, which late in a full test run takes minutes.
        """
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import RawMessage, ses_backends

        backend = ses_backends[DEFAULT_ACCOUNT_ID][self.region]
        return [
            {"id": m.id, "source": m.source, "destinations": list(m.destinations), "raw_data": m.raw_data}
            for m in backend.sent_messages
            if isinstance(m, RawMessage)
        ]

    def sent_texts(self) -> list[dict[str, str]]:
        """Every text message moto's SNS took (``id``, ``phone``, ``message``), in order: SNS
        ``Publish(PhoneNumber=…)`` keeps them in the backend's ``sms_messages`` (read in this
        process, like ``sent_emails``). Numbers ending in 99 are opted out on moto."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends

        backend = sns_backends[DEFAULT_ACCOUNT_ID][self.region]
        return [
            {"id": message_id, "phone": phone, "message": message}
            for message_id, (phone, message) in backend.sms_messages.items()
        ]

    def client(self, service: str) -> Any:
        """A boto3 client bound to the server of that service (cached per service)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.dynamodb_endpoint_url if service == "dynamodb" else self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            )
        return self._clients[service]

    # -- running the functions ----------------------------------------------------------------

    def handler(self, logical_id: str) -> Callable[[dict[str, Any], Any], Any]:
        """The function's handler, imported on first use (by the module name in ``Handler``)."""
        spec = self.function(logical_id)
        module = importlib.import_module(spec.module)
        handler: Callable[[dict[str, Any], Any], Any] = getattr(module, spec.attribute)
        return handler

    def context(self, logical_id: str) -> LambdaContext:
        """A fresh Lambda context for one invocation of the function."""
        properties = self.stack.template["Resources"][logical_id]["Properties"]
        name = self.stack.refs[logical_id]
        return LambdaContext(
            function_name=name,
            memory_limit_in_mb=int(properties.get("MemorySize", 128)),
            invoked_function_arn=self.stack.attrs[(logical_id, "Arn")],
            timeout_seconds=int(properties.get("Timeout", 3)),
        )

    def invoke(self, logical_id: str, event: dict[str, Any], context: Any = None) -> Any:
        """Call the function's real handler in this process, as Lambda would."""
        handler = self.handler(logical_id)
        token = _INVOKED.set(logical_id)  # so that recorded AWS calls know whose they are
        try:
            return handler(event, context if context is not None else self.context(logical_id))
        finally:
            _INVOKED.reset(token)

    @contextmanager
    def acting_as(self, logical_id: str) -> Iterator[None]:
        """Calls made inside the block count as ``logical_id``'s (for domain code a handler will
        call, tested before its route exists: the IAM check then holds it to that role)."""
        self.function(logical_id)  # a function the template declares
        token = _INVOKED.set(logical_id)
        try:
            yield
        finally:
            _INVOKED.reset(token)

    @contextmanager
    def recording_calls(self) -> Iterator[list[AwsCall]]:
        """Every AWS call a handler makes inside the block, with the function that made it
        (``onpace_local.iam.unpermitted`` checks them against the functions' roles)."""
        calls: list[AwsCall] = []
        original = BaseClient._make_api_call

        def recorded(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            function = _INVOKED.get()
            if function is not None:
                service = client.meta.service_model.service_name
                calls.append(AwsCall(function, service, operation_name, dict(api_params)))
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = recorded
        try:
            yield calls
        finally:
            BaseClient._make_api_call = original

    @contextmanager
    def environment(self, **overrides: str) -> Iterator[None]:
        """Temporarily change environment variables (and rebind the models) around a block."""
        saved: dict[str, str | None] = {}
        _set_env(saved, overrides)
        self.bind_models()
        try:
            yield
        finally:
            _restore(saved, [])
            self.bind_models()


def _cold_start() -> None:
    """Forget what warm containers keep between invocations: a new stack is a new deployment.

    Matters when one process runs a stack after another (the [moto] then the [dynalite] tests):
    a webhook secret or a program read from the last stack's servers must not be answered from
    memory for a district of the same id.
    """
    from aws_lambda_powertools.utilities import parameters
    from onpace_core.audit import checkpoint, keys
    from onpace_core.facts import program_rules
    from onpace_core.ingest.archive import s3_client

    parameters.clear_caches()
    program_rules._cache.clear()
    s3_client.cache_clear()  # made against the last stack's endpoint
    keys.forget()  # the last stack's KMS key derived other chain keys
    checkpoint.forget()


def _union_environment(stack: ProvisionedStack, specs: list[FunctionSpec]) -> dict[str, str]:
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for spec in specs:
        for name, value in stack.function_env(spec.logical_id).items():
            if name in merged and merged[name] != value:
                raise EnvironmentConflict(
                    f"{name} is {merged[name]!r} for {owner[name]} but {value!r} for {spec.logical_id}; "
                    "the local stack runs every function in one process and needs them to agree"
                )
            merged[name] = value
            owner.setdefault(name, spec.logical_id)
    return merged


def _set_env(saved: dict[str, str | None], values: dict[str, str]) -> None:
    for name, value in values.items():
        saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value


def _restore(saved: dict[str, str | None], added_paths: list[str]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    saved.clear()
    for entry in added_paths:
        while entry in sys.path:
            sys.path.remove(entry)
    added_paths.clear()
