"""A Python client for the service: notices, conflicts, the hotline, the ledger and the live feed.

Given the party's private key, it signs everything it submits (see :mod:`deconfliction.signing`).
Errors come back as :class:`ApiError` carrying the problem document's status, detail and field.

>>> client = Client("http://127.0.0.1:8000", "dcf_…")  # doctest: +SKIP
>>> client.send("russia", "Two aircraft entering the area at FL250", precedence="FLASH")
... # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction import signing

Json = Any

KEEPALIVE_S = 2.0
"""How long an idle connection is kept for reuse: well inside the service's 5 s."""


class ApiError(Exception):
    """An error answer of the service, as its problem document tells it."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        self.status, self.detail, self.field = status, detail, field
        where = f" [{field}]" if field else ""
        super().__init__(f"{status}{where}: {detail}")


class Client:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        key: Ed25519PrivateKey | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._prefix = urlsplit(url).path.rstrip("/")
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
            timeout=timeout,
            # the service (uvicorn) closes a connection idle for 5 s, httpx by default reuses one
            # idle up to 5 s: a request sent on it just as the service closes it fails with
            # "Server disconnected" (seen once in a replay with a pause between reports)
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S),
        )
        self._key, self._clock = key, clock

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Client:
        """From ``DECONFLICTION_URL``, ``DECONFLICTION_TOKEN`` and, to sign,
        ``DECONFLICTION_KEY`` (the path of the party's private key)."""
        missing = [k for k in ("DECONFLICTION_URL", "DECONFLICTION_TOKEN") if not env.get(k)]
        if missing:
            raise ApiError(0, f"set {' and '.join(missing)}", field=missing[0])
        key = None
        if env.get("DECONFLICTION_KEY"):
            key = signing.load_private(Path(env["DECONFLICTION_KEY"]).read_bytes())
        return cls(env["DECONFLICTION_URL"], env["DECONFLICTION_TOKEN"], key=key)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- transport ----

    def _get(self, path: str, **params: Any) -> Json:
        query = {k: v for k, v in params.items() if v is not None}
        return self._answer(self._http.get(path, params=query))

    def _post(self, path: str, body: Json = None) -> Json:
        headers = {"Content-Type": "application/json"}
        if self._key is not None and body is not None:
            signed = signing.sign_request(
                self._key, "POST", self._prefix + path, body, at=self._clock()
            )
            headers[signing.HEADER] = signed.header()
        content = b"" if body is None else orjson.dumps(body)
        return self._answer(self._http.post(path, content=content, headers=headers))

    @staticmethod
    def _answer(response: httpx.Response) -> Json:
        if response.is_success:
            return response.json()
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        detail = problem.get("detail") or response.reason_phrase
        raise ApiError(response.status_code, detail, problem.get("field"))

    # ---- who am I ----

    def me(self) -> Json:
        return self._get("/v1/me")

    # ---- notices and conflicts ----

    def file_notice(self, collection: Json) -> Json:
        """File one notice (a GeoJSON FeatureCollection); the stored notice, its read-back and
        the conflicts it made."""
        return self._post("/v1/notices", collection)

    def amend_notice(self, notice_id: int, collection: Json) -> Json:
        return self._post(f"/v1/notices/{notice_id}/amend", collection)

    def cancel_notice(self, notice_id: int) -> Json:
        return self._post(f"/v1/notices/{notice_id}/cancel")

    def notices(self) -> Json:
        return self._get("/v1/notices")

    def conflicts(self) -> Json:
        return self._get("/v1/conflicts")

    def ack_conflict(self, conflict_id: int) -> Json:
        return self._post(f"/v1/conflicts/{conflict_id}/ack")

    # ---- hotline ----

    def send(
        self,
        to: str,
        text: str,
        *,
        precedence: str = "ROUTINE",
        kind: str = "text",
        channel: str | None = None,
        translation: str | None = None,
        notice: int | None = None,
        position: tuple[float, float] | None = None,
    ) -> Json:
        body: dict[str, Json] = {"to": to, "text": text, "precedence": precedence, "kind": kind}
        optional = {"channel": channel, "translation": translation, "notice": notice}
        body.update({k: v for k, v in optional.items() if v is not None})
        if position is not None:
            body["position"] = {"lat": position[0], "lon": position[1]}
        return self._post("/v1/messages", body)

    def messages(self, *, open_only: bool = False) -> Json:
        return self._get("/v1/messages", open="true" if open_only else None)

    def inbox(self, *, open_only: bool = False, receipt: bool = True) -> Json:
        """Messages to the caller's party (newest last); with ``receipt`` the service is told
        that this client now has the ones it had not yet confirmed."""
        party = self.me()["party"]
        found = [m for m in self.messages(open_only=open_only) if m["to"] == party]
        fresh = [m["id"] for m in found if m["status"] == "sent"]
        if receipt and fresh:
            self._post("/v1/receipts", {"ids": fresh})
            received = {m["id"] for m in self.messages(open_only=open_only) if m["to"] == party}
            found = [m for m in self.messages(open_only=open_only) if m["id"] in received]
        return found

    def ack(self, message_id: int, reply: str, comment: str | None = None) -> Json:
        body: dict[str, Json] = {"reply": reply}
        if comment is not None:
            body["comment"] = comment
        return self._post(f"/v1/messages/{message_id}/ack", body)

    def channels(self) -> Json:
        return self._get("/v1/channels")

    def suspend(self, party: str, channel: str) -> Json:
        return self._post(f"/v1/channels/{party}/{channel}/suspend")

    def resume(self, party: str, channel: str) -> Json:
        return self._post(f"/v1/channels/{party}/{channel}/resume")

    # ---- tracks ----

    def report_tracks(self, reports: list[Json], *, own: bool = True) -> Json:
        """Report live tracks (the party's own assets, or observed ones with ``own=False``);
        answers ``{"stored": n, "skipped": [{"index", "field", "reason"}, ...]}``."""
        return self._post("/v1/tracks", {"own": own, "reports": reports})

    def encounters(self) -> Json:
        return self._get("/v1/encounters")

    # ---- keys and the ledger ----

    def register_key(self, public_key: str) -> Json:
        return self._post("/v1/keys", {"public_key": public_key})

    def events(self, after: int = 0, limit: int = 1000) -> Json:
        return self._get("/v1/events", after=after, limit=limit)

    def all_events(self) -> list[Json]:
        """The party's whole view of the ledger, page by page."""
        out: list[Json] = []
        while page := self.events(after=out[-1]["seq"] if out else 0):
            out.extend(page)
        return out

    def feed(self, after: int = 0) -> Iterator[Json]:
        """The live feed from ``after`` on, one entry or stub at a time, forever."""
        with self._http.stream("GET", "/v1/feed", params={"after": after}, timeout=None) as r:
            if not r.is_success:
                r.read()
                self._answer(r)
            for line in r.iter_lines():
                if line.startswith("data:"):
                    yield orjson.loads(line[5:].strip())
