"""The emulator's HTTP server: sockets, routing, API keys, latency, faults and stats.

Stdlib only: `http.server.ThreadingHTTPServer` answers each connection in its own thread
(HTTP/1.1 keep-alive): plenty for a local emulator, and a light install. Each route's meaning
lives in a dialect: `gemini` (the Gemini API), `vertex` (Vertex AI ``/v1beta1/projects/{p}/
locations/{l}/tuningJobs`` and what they produce), `gcs` (Cloud Storage's JSON API).

In-process use (the ``local`` backend, tests, benchmarks)::

    from gitops_tune.emulator.server import EmulatorConfig, start
    with start(EmulatorConfig(port=0, train_seconds=2)) as running:
        client = genai.Client(api_key="x", http_options={"base_url": running.url})
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from gitops_tune.emulator.api import (
    ApiError,
    JsonText,
    Request,
    Response,
    Route,
    Router,
    invalid,
)
from gitops_tune.emulator.callers import parse_keys, project_of
from gitops_tune.emulator.degrade import Degraded, DegradeError
from gitops_tune.emulator.faults import (
    FaultConfigError,
    FaultInjector,
    FaultMode,
    FaultSettings,
    parse_fault_codes,
)
from gitops_tune.emulator.gcs import GcsDialect
from gitops_tune.emulator.gcs_uploads import Uploads
from gitops_tune.emulator.gemini.catalog import DEFAULT_CATALOG, load
from gitops_tune.emulator.gemini.handlers import GeminiDialect
from gitops_tune.emulator.recording import WireRecorder, process_recorder
from gitops_tune.emulator.store import Store
from gitops_tune.emulator.tokens import CountTokens
from gitops_tune.emulator.vertex.jobs import TuningJobs
from gitops_tune.emulator.vertex.serving import Serving

MAX_BODY_BYTES = 64 * 1024 * 1024
# a chunk of a resumable upload (PUT /upload/...): google-cloud-storage sends 100 MiB by default
MAX_CHUNK_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 8765  # 0: any free port
    db_path: str | None = None  # None: in memory
    train_seconds: float = 30.0
    latency_ms: int = 0
    fault_rate: float = 0.0
    fault_codes: tuple[int, ...] = (429, 503)
    fault_mode: FaultMode = "before"
    base_models: tuple[str, ...] = ()  # extra tunable base models, "NAME" or "models/NAME"
    catalog: str = DEFAULT_CATALOG  # "documented", "current" or a catalog file (`catalog`)
    retry_after_seconds: int = 1  # Retry-After on injected 429 answers; 0 sends none
    fault_seed: int | None = None  # seeds the fault draws, for reproducible runs
    record_dir: str | None = None  # record every API exchange there (see `recording`)
    operation_seconds: float = 0.0  # Vertex AI long-running operations are done after this
    refuse_model_delete: bool = False  # Vertex AI models.delete refuses tuned models
    api_keys: tuple[str, ...] = ()  # "KEY" or "KEY=PROJECT_NUMBER"; empty: any key (`callers`)
    degrade_models: tuple[str, ...] = ()  # tuned models that answer wrongly, or "all" (`degrade`)


class Stats:
    """Request counts by ``"<METHOD> <route template>"``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class Emulator:
    """Everything behind the socket: routes, store, faults, stats. No I/O of its own."""

    def __init__(self, config: EmulatorConfig, store: Store | None = None) -> None:
        if config.train_seconds < 0:
            raise ValueError("train_seconds must be >= 0")
        self.config = config
        self.store = store or Store(config.db_path)
        self.faults = FaultInjector(
            FaultSettings(
                latency_ms=config.latency_ms,
                fault_rate=config.fault_rate,
                fault_codes=parse_fault_codes(config.fault_codes),
                fault_mode=config.fault_mode,
                retry_after_seconds=config.retry_after_seconds,
            ),
            seed=config.fault_seed,
        )
        self.stats = Stats()
        self.api_keys = parse_keys(config.api_keys)
        self.catalog = load(config.catalog).with_tunable(config.base_models)
        self.recorder = WireRecorder(config.record_dir) if config.record_dir else None
        self.degraded = Degraded(config.degrade_models)
        self.gemini = GeminiDialect(
            self.store,
            clock=time.time,
            train_seconds=lambda: config.train_seconds,
            base_models=self.catalog.gemini,
            degraded=self.degraded,
        )
        self.vertex_jobs = TuningJobs(
            self.store,
            clock=time.time,
            train_seconds=lambda: config.train_seconds,
            tunable=self.catalog.vertex_tunable,
            offered=self.catalog.vertex_methods,
        )
        self.vertex_serving = Serving(
            self.store,
            clock=time.time,
            publisher_models=self.catalog.vertex_tunable + self.catalog.vertex_other,
            operation_seconds=config.operation_seconds,
            refuse_model_delete=config.refuse_model_delete,
            degraded=self.degraded,
        )
        self.gcs = GcsDialect(self.store, clock=time.time)
        self.count_tokens = CountTokens(lambda: self.gemini.base_models)
        self.router = Router(
            [
                *self.gemini.routes(),
                *self.vertex_jobs.routes(),
                *self.vertex_serving.routes(),
                *self.gcs.routes(),
                *Uploads(self.gcs).routes(),
                *self.count_tokens.routes(),
                *self._control_routes(),
            ]
        )

    def _control_routes(self) -> list[Route]:
        return [
            Route("GET", "/_emulator/stats", self._get_stats, api=False),
            Route("GET", "/_emulator/config", self._get_config, api=False),
            Route("POST", "/_emulator/config", self._post_config, api=False),
            Route("POST", "/_emulator/reset", self._reset, api=False),
            Route("GET", "/_emulator/health", lambda _: Response(200, {"ok": True}), api=False),
        ]

    def _get_stats(self, _: Request) -> Response:
        return Response(200, {"requests": self.stats.snapshot()})

    def _config_json(self) -> dict[str, Any]:
        s = self.faults.settings
        return {
            "latency_ms": s.latency_ms,
            "fault_rate": s.fault_rate,
            "fault_codes": list(s.fault_codes),
            "fault_mode": s.fault_mode,
            "retry_after_seconds": s.retry_after_seconds,
            "train_seconds": self.config.train_seconds,
            "db_path": self.config.db_path,
            "degrade_models": list(self.degraded.names),
        }

    def _get_config(self, _: Request) -> Response:
        return Response(200, self._config_json())

    def _post_config(self, req: Request) -> Response:
        try:
            changes = req.json()
            self.degraded.set(changes.pop("degrade_models", list(self.degraded.names)))
            self.faults.update(changes)
        except (FaultConfigError, DegradeError) as e:
            raise invalid(str(e)) from None
        return Response(200, self._config_json())

    def _reset(self, _: Request) -> Response:
        self.store.reset()
        self.stats.clear()
        return Response(200, {})

    def _caller(self, route: Route, req: Request) -> str:
        """The calling project, or the error for missing or bad credentials."""
        if route.auth == "none":  # Cloud Storage emulators take anonymous callers
            return ""
        if route.auth == "bearer":
            return _bearer_project(req)
        return project_of(req, self.api_keys)

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """One request, start to end; never raises."""
        split = urlsplit(target)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        found = self.router.match(method, path)
        if found is None:
            self.stats.count(f"{method} (unmatched)")
            return ApiError(404, f"Method not found: {method} {path}", "NOT_FOUND").response()
        route, params = found
        self.stats.count(route.key)
        req = Request(method, path, query, headers, body, params)
        if not route.api:
            return _call(route, req)
        response = self._answer(route, req)
        recorder = self.recorder or process_recorder()
        if recorder is not None:
            answer = response.body
            answer = answer.value() if isinstance(answer, JsonText) else answer
            recorder.record(route.key, path, query, headers, body, response.status, answer)
        return response

    def _answer(self, route: Route, req: Request) -> Response:
        """An API route's answer: latency, faults, the caller's credentials, the handler."""
        settings = self.faults.settings
        if settings.latency_ms:
            time.sleep(settings.latency_ms / 1000)
        fault = self.faults.draw()
        if fault is not None and fault.when == "before":
            return _fault_response(fault.code, fault.status, fault.message, settings)
        try:
            req = replace(req, caller=self._caller(route, req))
        except ApiError as e:
            response = e.response()
        else:
            response = _call(route, req)
        if fault is not None:  # "after": the change is made, the answer is lost
            return _fault_response(fault.code, fault.status, fault.message, settings)
        return response


def _call(route: Route, req: Request) -> Response:
    try:
        return route.handler(req)
    except ApiError as e:
        return e.response()
    except Exception as e:  # a bug in the emulator: say so in the envelope
        return ApiError(500, f"Emulator internal error: {type(e).__name__}: {e}").response()


def _bearer_project(req: Request) -> str:
    """Vertex AI: an OAuth access token (any non-empty one); the project is in the path."""
    header = req.headers.get("authorization", "")
    if header.startswith("Bearer ") and header[7:].strip():
        return ""
    raise ApiError(
        401,
        "Request is missing required authentication credential. Expected OAuth 2 access "
        "token, login cookie or other valid authentication credential.",
        "UNAUTHENTICATED",
    )


def _fault_response(code: int, status: str, message: str, settings: FaultSettings) -> Response:
    headers: dict[str, str] = {}
    details: list[dict[str, Any]] = []
    if code == 429 and settings.retry_after_seconds:
        headers["Retry-After"] = str(settings.retry_after_seconds)
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{settings.retry_after_seconds}s",
            }
        )
    return ApiError(code, message, status, details=details, headers=headers).response()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gitops-tune-emulator"
    timeout = 60  # idle keep-alive connections are closed after this many seconds
    emulator: Emulator  # set on the per-server subclass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        chunk = self.command == "PUT" and self.path.startswith("/upload/")
        limit = MAX_CHUNK_BYTES if chunk else MAX_BODY_BYTES
        if length > limit:
            response = ApiError(413, f"Request body larger than {limit} bytes.").response()
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length > 0 else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = self.emulator.handle(self.command, self.path, headers, body)
        payload, content_type = response.encoded()
        self.send_response(response.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(payload.size))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            for block in payload.blocks():
                self.wfile.write(block)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet: stdout is for the URL
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # the client went away (killed)
            return
        super().handle_error(request, client_address)


@dataclass
class RunningEmulator:
    """A started emulator serving in a daemon thread."""

    url: str  # "http://HOST:PORT", no trailing slash
    emulator: Emulator
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def host(self) -> str:
        """The address the server is bound to."""
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def store(self) -> Store:
        return self.emulator.store

    def stop(self) -> None:
        """Stop serving and close the store; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.emulator.store.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start(config: EmulatorConfig) -> RunningEmulator:
    """Bind, then serve in a daemon thread; returns once the socket accepts connections."""
    emulator = Emulator(config)
    handler = type("_BoundHandler", (_Handler,), {"emulator": emulator})
    try:
        server = _Server((config.host, config.port), handler)
    except OSError:
        emulator.store.close()
        raise
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        daemon=True,
        name=f"gitops-tune-emulator:{server.server_address[1]}",
    )
    thread.start()
    host = config.host if ":" not in config.host else f"[{config.host}]"
    return RunningEmulator(f"http://{host}:{server.server_address[1]}", emulator, server, thread)


__all__ = ["Emulator", "EmulatorConfig", "RunningEmulator", "Stats", "start"]
