"""``wordvecs serve``: a saved classifier behind an HTTP JSON service (Starlette on uvicorn).

The model is loaded once. Requests that arrive together are answered by one forward pass: a
single worker takes up to ``max_batch`` texts from the queue (waiting at most ``max_wait``
seconds for more after the first), runs the model off the event loop, and hands each request
its rows. Endpoints::

    GET  /health    {"status": "ok", "labels": [...], "max_len": N}
    POST /predict   {"text": "..."} or {"texts": ["...", ...]}
                    -> {"predictions": [{"label", "probability", "probabilities"}, ...]}

Bad requests get a 400 with ``{"error": "..."}`` that says what was wrong (a text holding a lone
surrogate such as ``"\\ud800"`` included: it is refused before it joins a batch; so is valid JSON
nested deeper than ``max_depth`` levels, checked before the parser recurses, or holding a number
over ``max_number`` characters); a body over ``max_body`` bytes a 413. Slow and idle clients are
cut off (served through :func:`uvicorn_config`): a connection idle before its first request or
between requests is closed after ``keep_alive`` seconds; a request (headers and body) must arrive
within ``request_timeout`` seconds of its first byte, or the connection is closed (a 408 first
when the app was already reading the body). One request never fails another: when a forward
pass over several requests raises, each is run again on its own, and only the one that fails
gets the error (a 400 for a :class:`~wordvecs.errors.WordvecsError`, else a 500). Needs
``pip install 'wordvecs[serve]'``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from wordvecs.errors import WordvecsError, require
from wordvecs.text.dataset_io import text_problem

if TYPE_CHECKING:
    from wordvecs.training.classifier import Classifier

__all__ = ["ServeLimits", "create_app", "serve", "uvicorn_config"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeLimits:
    """What one request may hold, and how requests are batched."""

    max_body: int = 1 << 20       # bytes of JSON per request
    max_texts: int = 1024         # texts per request
    max_chars: int = 100_000      # characters per text
    max_batch: int = 64           # texts per forward pass
    max_wait: float = 0.002       # seconds to wait for more texts after the first
    max_depth: int = 64           # nesting of JSON arrays and objects
    max_number: int = 64          # characters of one JSON number
    request_timeout: float = 10.0  # seconds from a request's first byte to its last
    keep_alive: float = 5.0       # seconds a connection may sit idle before/between requests


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _require() -> Any:
    require("uvicorn", "serve", load=False)
    return require("starlette.applications", "serve")


def _json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in ``data`` (UTF-8 JSON), found without parsing
    it: the brackets outside strings, counted with numpy (exact for valid JSON; for invalid JSON
    any count will do, since the parser refuses it next)."""
    b = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(b == 0x22)
    backslash = b == 0x5C
    if quotes.size and backslash.any():  # a quote after an odd run of backslashes is escaped
        last_other = np.maximum.accumulate(np.where(backslash, -1, np.arange(b.size)))
        before = quotes - 1
        run = np.where(before >= 0, before - last_other[np.maximum(before, 0)], 0)
        quotes = quotes[run % 2 == 0]
    opens = (b == 0x5B) | (b == 0x7B)
    brackets = np.flatnonzero(opens | (b == 0x5D) | (b == 0x7D))
    brackets = brackets[np.searchsorted(quotes, brackets) % 2 == 0]  # not inside a string
    if not brackets.size:
        return 0
    return int(np.cumsum(np.where(opens[brackets], 1, -1)).max(initial=0))


def _parse_json(body: bytes, limits: ServeLimits) -> Any:
    """``json.loads`` with the nesting bounded before it recurses and numbers bounded in size:
    anything valid JSON that Python could not (or should not) turn into objects is a 400."""
    try:
        encoding = json.detect_encoding(body)
        text = body.decode(encoding, "surrogatepass")  # as json.loads decodes bytes
    except UnicodeDecodeError as exc:
        raise _BadRequest(f"the body is not valid JSON ({exc})") from None
    data = body if encoding == "utf-8" else text.encode("utf-8", "surrogatepass")
    depth = _json_depth(data)
    if depth > limits.max_depth:
        raise _BadRequest(f"the JSON is nested {depth:,} levels deep; the limit is "
                          f"{limits.max_depth:,}")

    def number(kind: type[int] | type[float]) -> Any:
        def parse(s: str) -> int | float:
            if len(s) > limits.max_number:
                raise _BadRequest(f"the JSON holds a number of {len(s):,} characters; the "
                                  f"limit is {limits.max_number:,}")
            return kind(s)
        return parse

    try:
        return json.loads(text, parse_int=number(int), parse_float=number(float))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise _BadRequest(f"the body is not valid JSON ({exc})") from None


def _texts_of(payload: Any, limits: ServeLimits) -> list[str]:
    if not isinstance(payload, dict):
        raise _BadRequest("the body must be a JSON object with 'text' or 'texts'")
    if ("text" in payload) == ("texts" in payload):
        raise _BadRequest("give exactly one of 'text' (a string) or 'texts' (a list of strings)")
    texts = [payload["text"]] if "text" in payload else payload["texts"]
    if not isinstance(texts, list):
        raise _BadRequest("'texts' must be a list of strings")
    if not texts:
        raise _BadRequest("'texts' is empty")
    if len(texts) > limits.max_texts:
        raise _BadRequest(f"{len(texts):,} texts in one request; the limit is "
                          f"{limits.max_texts:,}", status=413)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise _BadRequest(f"text {i} is {type(t).__name__}, not a string")
        if not t.strip():
            raise _BadRequest(f"text {i} is empty")
        if len(t) > limits.max_chars:
            raise _BadRequest(f"text {i} has {len(t):,} characters; the limit is "
                              f"{limits.max_chars:,}", status=413)
        problem = text_problem(t)
        if problem is not None:  # refused here: a bad text never joins its neighbours' batch
            raise _BadRequest(f"text {i} {problem}")
    return texts


class _Batcher:
    """One worker: collects queued texts into batches and runs the model on a single thread."""

    def __init__(self, classifier: Classifier, limits: ServeLimits) -> None:
        self.classifier = classifier
        self.limits = limits
        self.queue: asyncio.Queue[tuple[list[str], asyncio.Future[np.ndarray]]] = asyncio.Queue()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wordvecs-model")
        self.task: asyncio.Task[None] | None = None
        self.batches = 0

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def predict(self, texts: list[str]) -> np.ndarray:
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        await self.queue.put((texts, future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self.queue.get()]
            size = len(jobs[0][0])
            deadline = loop.time() + self.limits.max_wait
            while size < self.limits.max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self.queue.get(), timeout)
                except TimeoutError:
                    break
                jobs.append(job)
                size += len(job[0])
            jobs = [job for job in jobs if not job[1].done()]  # a client gone: not run
            if not jobs:
                continue
            texts = [t for job_texts, _ in jobs for t in job_texts]
            try:
                proba = await loop.run_in_executor(self.executor, self._forward, texts)
            except Exception as exc:
                if len(jobs) == 1:
                    _fail(jobs[0][1], exc)
                    continue
                # One request's texts must not fail the others: run each on its own, so only
                # the guilty one gets its error and the rest their answers.
                for job_texts, fut in jobs:
                    if fut.done():
                        continue
                    try:
                        rows = await loop.run_in_executor(self.executor, self._forward,
                                                          job_texts)
                    except Exception as alone:
                        _fail(fut, alone)
                    else:
                        self.batches += 1
                        _answer(fut, rows)
                continue
            self.batches += 1
            start = 0
            for job_texts, fut in jobs:
                _answer(fut, proba[start:start + len(job_texts)])
                start += len(job_texts)

    def _forward(self, texts: list[str]) -> np.ndarray:
        return self.classifier.predict_proba(texts)


def _answer(fut: asyncio.Future[np.ndarray], rows: np.ndarray) -> None:
    """Give a waiting request its rows (unless it stopped waiting)."""
    if not fut.done():
        fut.set_result(rows)


def _fail(fut: asyncio.Future[np.ndarray], exc: BaseException) -> None:
    """Give a waiting request its own error (unless it stopped waiting)."""
    if not fut.done():
        fut.set_exception(exc)


def create_app(classifier: Classifier, limits: ServeLimits | None = None) -> Any:
    """A Starlette application answering ``/health`` and ``/predict`` for ``classifier``."""
    apps = _require()
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    limits = limits or ServeLimits()
    labels = list(classifier.labels)
    batcher = _Batcher(classifier, limits)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "labels": labels, "max_len": classifier.max_len,
                             "batches": batcher.batches})

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _BadRequest("bad Content-Length")
            if int(declared) > limits.max_body:
                raise _BadRequest(f"the body has {int(declared):,} bytes; the limit is "
                                  f"{limits.max_body:,}", status=413)
        body = bytearray()
        # The whole request is due request_timeout seconds after its first byte: the protocol
        # of uvicorn_config() stamps that moment; under another server, from now.
        loop = asyncio.get_running_loop()
        deadline = request.scope.get(_DEADLINE_KEY) or loop.time() + limits.request_timeout
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > limits.max_body:
                        raise _BadRequest(f"the body is over the limit of "
                                          f"{limits.max_body:,} bytes", status=413)
        except TimeoutError:
            raise _BadRequest(f"the request did not arrive within {limits.request_timeout:g} s",
                              status=408) from None
        except ClientDisconnect:
            raise _BadRequest("the client went away", status=499) from None
        return bytes(body)

    async def predict(request: Request) -> JSONResponse:
        started = time.perf_counter()
        try:
            body = await read_body(request)
            payload = _parse_json(body, limits)
            texts = _texts_of(payload, limits)
            proba = await batcher.predict(texts)
        except _BadRequest as exc:
            # A body left unread (408, 413) ends the connection: what follows is not a request.
            close = {"connection": "close"} if exc.status in (408, 413, 499) else None
            return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=close)
        except WordvecsError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception as exc:  # this request's own failure; its neighbours were answered
            log.exception("POST /predict failed")
            return JSONResponse({"error": f"the model failed on this request "
                                          f"({type(exc).__name__}); see the server log"},
                                status_code=500)
        best = np.argmax(proba, axis=1)
        predictions = [{"label": labels[int(b)], "probability": float(row[b]),
                        "probabilities": {c: float(p) for c, p in zip(labels, row)}}
                       for row, b in zip(proba, best)]
        return JSONResponse({"predictions": predictions,
                             "ms": round(1000 * (time.perf_counter() - started), 3)})

    async def lifespan(app: Any) -> Any:
        batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    from contextlib import asynccontextmanager

    app = apps.Starlette(routes=[Route("/health", health, methods=["GET"]),
                                 Route("/predict", predict, methods=["POST"])],
                         lifespan=asynccontextmanager(lifespan))
    app.state.batcher = batcher
    app.state.limits = limits
    return app


_DEADLINE_KEY = "wordvecs.request_deadline"  # scope key: loop time by which the request is due
_GRACE = 1.0  # seconds the app gets past the deadline to answer 408 before the protocol closes


@functools.cache
def _deadline_protocol(request_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with the timeouts it lacks: a connection idle before its first
    request is closed after ``timeout_keep_alive`` (uvicorn times out only the idle time between
    requests), and one whose request (headers and body) has not arrived ``request_timeout``
    seconds after its first byte is closed. The deadline is handed to the app in the scope, so
    that a body read in the app ends in a 408 at the same moment."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class DeadlineH11Protocol(H11Protocol):
        _timer: asyncio.TimerHandle | None = None
        _deadline: float | None = None
        _graced = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            # idle before the first request: the same timer uvicorn arms between requests
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                                self.timeout_keep_alive_handler)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._timer is None and self.conn.their_state is h11.IDLE and not self._pending():
                self._deadline = self.loop.time() + request_timeout  # a request's first byte
                self._graced = False
                self._timer = self.loop.call_at(self._deadline, self._too_slow)
            super().data_received(data)

        def handle_events(self) -> None:
            super().handle_events()
            cycle = self.cycle
            if cycle is not None and self._deadline is not None:
                cast("dict[str, Any]", cycle.scope).setdefault(_DEADLINE_KEY, self._deadline)
            if not self._pending():
                self._disarm()

        def _pending(self) -> bool:
            """Whether part of a request has arrived and the rest has not."""
            state = self.conn.their_state
            return state is h11.SEND_BODY or (state is h11.IDLE
                                              and bool(self.conn.trailing_data[0]))

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _too_slow(self) -> None:
            self._timer = None
            if self.transport.is_closing() or not self._pending():
                return
            cycle = self.cycle
            if (self.conn.their_state is h11.SEND_BODY and cycle is not None
                    and not cycle.response_complete and not self._graced):
                self._graced = True  # the app is reading the body: it answers 408 itself
                self._timer = self.loop.call_later(_GRACE, self._too_slow)
                return
            log.debug("closing %s: no complete request within %g s", self.client,
                      request_timeout)
            self.transport.close()

    return DeadlineH11Protocol


def uvicorn_config(app: Any, **kwargs: Any) -> Any:
    """A ``uvicorn.Config`` for ``app`` (from :func:`create_app`) that applies its limits'
    timeouts (``keep_alive``, ``request_timeout``); ``kwargs`` go to ``uvicorn.Config``."""
    _require()
    import uvicorn

    limits: ServeLimits = app.state.limits
    return uvicorn.Config(app, http=_deadline_protocol(limits.request_timeout),
                          timeout_keep_alive=limits.keep_alive, **kwargs)  # type: ignore[arg-type]


def serve(run_dir: str, *, host: str = "127.0.0.1", port: int = 8000,
          limits: ServeLimits | None = None, log_level: str = "warning") -> None:
    """Load the classifier saved in ``run_dir`` once and serve it until interrupted."""
    _require()
    import uvicorn

    from wordvecs.training.classifier import load_classifier

    classifier = load_classifier(run_dir)
    classifier.predict_proba(["warm up"])  # trace the model once, before the first request
    app = create_app(classifier, limits)
    uvicorn.Server(uvicorn_config(app, host=host, port=port, log_level=log_level)).run()
