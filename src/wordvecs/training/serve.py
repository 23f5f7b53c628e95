"""``wordvecs serve``: a saved classifier behind an HTTP JSON service (Starlette on uvicorn).

The model is loaded once. Requests that arrive together are answered by one forward pass: a
single worker takes up to ``max_batch`` texts from the queue (waiting at most ``max_wait``
seconds for more after the first), runs the model off the event loop, and hands each request
its rows. Endpoints::

    GET  /health    {"status": "ok", "labels": [...], "max_len": N}
    POST /predict   {"text": "..."} or {"texts": ["...", ...]}
                    -> {"predictions": [{"label", "probability", "probabilities"}, ...]}

Bad requests get a 400 with ``{"error": "..."}`` that says what was wrong (a text holding a lone
surrogate such as ``"\\ud800"`` included: it is refused before it joins a batch); a body over
``max_body`` bytes a 413. One request never fails another: when a forward pass over several
requests raises, each is run again on its own, and only the one that fails gets the error (a
400 for a :class:`~wordvecs.errors.WordvecsError`, else a 500). Needs
``pip install 'wordvecs[serve]'``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from wordvecs.errors import WordvecsError, require
from wordvecs.training.classifier import text_problem

if TYPE_CHECKING:
    from wordvecs.training.train import Classifier

__all__ = ["ServeLimits", "create_app", "serve"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeLimits:
    """What one request may hold, and how requests are batched."""

    max_body: int = 1 << 20       # bytes of JSON per request
    max_texts: int = 1024         # texts per request
    max_chars: int = 100_000      # characters per text
    max_batch: int = 64           # texts per forward pass
    max_wait: float = 0.002       # seconds to wait for more texts after the first


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _require() -> Any:
    require("uvicorn", "serve", load=False)
    return require("starlette.applications", "serve")


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
    from starlette.requests import Request
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
        async for chunk in request.stream():
            body += chunk
            if len(body) > limits.max_body:
                raise _BadRequest(f"the body is over the limit of {limits.max_body:,} bytes",
                                  status=413)
        return bytes(body)

    async def predict(request: Request) -> JSONResponse:
        started = time.perf_counter()
        try:
            body = await read_body(request)
            try:
                payload = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise _BadRequest(f"the body is not valid JSON ({exc})") from None
            texts = _texts_of(payload, limits)
            proba = await batcher.predict(texts)
        except _BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
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
    return app


def serve(run_dir: str, *, host: str = "127.0.0.1", port: int = 8000,
          limits: ServeLimits | None = None, log_level: str = "warning") -> None:
    """Load the classifier saved in ``run_dir`` once and serve it until interrupted."""
    _require()
    import uvicorn

    from wordvecs.training.train import load_classifier

    classifier = load_classifier(run_dir)
    classifier.predict_proba(["warm up"])  # trace the model once, before the first request
    uvicorn.run(create_app(classifier, limits), host=host, port=port, log_level=log_level)
