"""Errors as RFC 9457 problem+json, mapped from the package's errors in this one place.

Every expected error names its field where there is one. Anything else is a bug: it is logged
and answered with a plain 500 problem that reveals nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from deconfliction.errors import (
    DeconflictionError,
    DuplicateNotice,
    Forbidden,
    InvalidInput,
    NotFound,
    NotInitialised,
    StoreError,
    Unauthenticated,
)

log = logging.getLogger("deconfliction.api")
MEDIA_TYPE = "application/problem+json"

STATUS: tuple[tuple[type[DeconflictionError], int, str], ...] = (
    (Unauthenticated, 401, "Unauthenticated"),
    (Forbidden, 403, "Forbidden"),
    (NotFound, 404, "Not found"),
    (DuplicateNotice, 409, "Already on file"),
    (InvalidInput, 422, "Invalid input"),
    (NotInitialised, 503, "Store not initialised"),
    (StoreError, 503, "Store unavailable"),
)


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(DeconflictionError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _bug)


async def _domain(_: Request, exc: DeconflictionError) -> JSONResponse:
    status, title = next(((s, t) for cls, s, t in STATUS if isinstance(exc, cls)), (500, "Error"))
    extra = {k: getattr(exc, k) for k in ("field", "notice", "volume") if getattr(exc, k, None)}
    if status >= 500 and status != 503:
        log.error("unexpected %s: %s", type(exc).__name__, exc)
    return problem(status, title, str(exc), **extra)


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ".".join(loc) or None
    detail = f"{field}: {first['msg']}" if field else str(first["msg"])
    return problem(422, "Invalid input", detail, **({"field": field} if field else {}))


async def _http(_: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own errors (404 route, 405 method with its ``Allow`` header, …). A body that
    is not JSON at all is FastAPI's 400: it is bad input like any other, so 422 naming ``body``."""
    if exc.status_code == 400:
        return problem(422, "Invalid input", f"body: {exc.detail}", field="body")
    return problem(exc.status_code, str(exc.detail), str(exc.detail), headers=exc.headers)


async def _bug(_: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error", exc_info=exc)
    return problem(500, "Internal error", "the service failed; the error was logged")
