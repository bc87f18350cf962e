"""The key a create was sent with, and the answer kept under it.

A route that creates asks `replay_or_reserve` first: a stored answer for this key (and this very
request) comes back as it was, and the route does nothing; otherwise a row is reserved for the key
in the request's own transaction, and `keep` stores the answer in it before the commit. So the
key is committed exactly when the effect is: a create that rolled back (or never reached COMMIT)
leaves no key, and its retry does the work; a create that committed but whose answer was lost
leaves the key, and its retry gets the answer.

Two requests with one key at once: the second one's reservation waits on the first's row (a
unique key), and is refused with 409 when the first commits; had the first rolled back, the
second goes on and does the work. Keys are forgotten after `IDEMPOTENCY_KEY_TTL_SECONDS`.
"""

import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bookly.core.context import AppContext, ContextDep
from bookly.core.db import SessionDep
from bookly.idempotency.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from bookly.models import IdempotencyRecord

HEADER = "Idempotency-Key"
# Set on an answer that was replayed from a key, not made anew.
REPLAYED_HEADER = "Idempotent-Replayed"
ANONYMOUS = "anonymous"
# The headers of an answer that are part of it, and come back with a replay.
_KEPT_HEADERS = ("location", "etag")
# A structured-field string (`"…"`, as the draft writes it) or the same characters bare.
_KEY_PATTERN = r'^"?[\x21\x23-\x7e]{1,255}"?$'


class IdempotencyKey:
    """The request's `Idempotency-Key` (None when it sent none), and what it is bound to."""

    def __init__(self, context: AppContext, db: AsyncSession, request: Request, key: str | None):
        self._context = context
        self._db = db
        self._request = request
        self._key = key
        self._principal = ANONYMOUS
        self._digest = ""

    async def replay_or_reserve(self, principal: uuid.UUID | None = None) -> Response | None:
        """The answer kept for this key, or None after reserving the key for this request (also
        None when no key was sent). `principal` is the signed-in caller, whose keys are theirs."""
        if self._key is None:
            return None
        self._principal = principal.hex if principal else ANONYMOUS
        self._digest = await self._request_digest()
        now = self._context.clock()
        cutoff = now - timedelta(seconds=self._context.settings.idempotency_key_ttl_seconds)
        await self._db.execute(
            delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
        )
        kept = await self._db.scalar(select(IdempotencyRecord).where(*self._this_key()))
        if kept is not None:
            return self._replay(kept)
        self._db.add(
            IdempotencyRecord(
                principal=self._principal,
                key=self._key,
                request_digest=self._digest,
                status_code=0,  # reserved: no answer yet (only this transaction sees it)
                body="",
                created_at=now,
            )
        )
        try:
            await self._db.flush()
        except IntegrityError as error:
            raise IdempotencyKeyInUse(
                "A request with this Idempotency-Key was being processed; retry it to get its "
                "answer."
            ) from error
        return None

    async def keep(self, response: Response) -> Response:
        """Store `response` under the reserved key (in this transaction), and return it."""
        if self._key is not None:
            await self._db.execute(
                update(IdempotencyRecord)
                .where(*self._this_key())
                .values(
                    status_code=response.status_code,
                    body=bytes(response.body).decode(),
                    headers={
                        name: response.headers[name]
                        for name in _KEPT_HEADERS
                        if name in response.headers
                    },
                )
            )
        return response

    def _this_key(self) -> tuple[ColumnElement[bool], ...]:
        return (
            col(IdempotencyRecord.principal) == self._principal,
            col(IdempotencyRecord.key) == self._key,
        )

    def _replay(self, kept: IdempotencyRecord) -> Response:
        if not hmac.compare_digest(kept.request_digest, self._digest):
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for another request; use a new key for it."
            )
        headers = {**kept.headers, REPLAYED_HEADER: "true"}
        return Response(kept.body, kept.status_code, headers=headers, media_type="application/json")

    async def _request_digest(self) -> str:
        """Keyed (a body may hold a password), over what makes the request this request."""
        body = await self._request.body()
        try:
            canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
        except ValueError:
            canonical = body.decode("latin-1")
        subject = f"{self._request.method} {self._request.url.path}\n{canonical}"
        secret = self._context.settings.jwt_secret.get_secret_value().encode()
        return hmac.new(secret, subject.encode(), hashlib.sha256).hexdigest()


async def _idempotency_key(
    request: Request,
    context: ContextDep,
    db: SessionDep,
    sent: Annotated[
        str | None,
        Header(
            alias=HEADER,
            pattern=_KEY_PATTERN,
            description="A key of the client's choosing (a UUID, say) that makes a retry of this "
            "create safe: the same key with the same request answers what the first answered "
            f"(with `{REPLAYED_HEADER}: true`) and creates nothing more; with another request, "
            "422 `idempotency_key_reused`; while the first is still running, 409 "
            "`idempotency_key_in_use`. Keys are kept for `IDEMPOTENCY_KEY_TTL_SECONDS` (24 h).",
        ),
    ] = None,
) -> IdempotencyKey:
    key = sent.strip('"') if sent is not None else None
    return IdempotencyKey(context, db, request, key)


IdempotencyKeyDep = Annotated[IdempotencyKey, Depends(_idempotency_key)]
