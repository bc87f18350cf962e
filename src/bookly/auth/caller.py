"""Who is calling: the account behind an access token, read on every authenticated request.

One hot read (core/reads.py) loads the account through its session row: the token's session
must still exist, belong to this user, and be live in the database too. Routes get the account as
this snapshot; the few that change the account load its row into their session.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import ColumnElement, bindparam, select
from sqlmodel import col

from bookly.auth.errors import AccountDisabled, InvalidToken, TokenRevoked
from bookly.auth.schemas import UserOut
from bookly.core.reads import Prepared, Reader
from bookly.models import AuthSession, User


class Account(UserOut):
    """The caller's account as authentication read it: the user object, frozen."""

    model_config = ConfigDict(frozen=True)


@dataclass(frozen=True, slots=True)
class Caller:
    account: Account
    sid: uuid.UUID


_ACCOUNT_FIELDS = tuple(Account.model_fields)


def caller_query(*extra: ColumnElement[Any]) -> Prepared:
    """The statement `load_caller` runs; `extra` columns (which may refer to `users`) are read
    in the same round trip, for a route that needs more of the caller than the account."""
    return Prepared(
        select(
            *(getattr(User, name) for name in _ACCOUNT_FIELDS),
            col(AuthSession.revoked_at),
            *extra,
        )
        .join(AuthSession, col(AuthSession.user_uid) == col(User.uid))
        .where(col(AuthSession.sid) == bindparam("sid"), col(User.uid) == bindparam("uid")),
        # A session just started, or revoked anywhere, counts at once: never a replica's view.
        on_primary=True,
    )


async def load_caller(
    reader: Reader, query: Prepared, sid: uuid.UUID, user_uid: uuid.UUID
) -> tuple[Caller, Sequence[Any]]:
    """The caller of a verified token, and the values of `query`'s extra columns; 401 unless
    its session is live and its account active."""
    rows = await reader.rows(query, {"sid": sid, "uid": user_uid})
    if not rows:
        raise InvalidToken("The token's account no longer exists.")
    row = rows[0]
    count = len(_ACCOUNT_FIELDS)
    if row[count] is not None:  # the session's revoked_at
        raise TokenRevoked("This session has been signed out.")
    account = Account.model_validate(dict(zip(_ACCOUNT_FIELDS, row[:count], strict=True)))
    if not account.is_active:
        raise AccountDisabled("This account has been disabled.")
    return Caller(account=account, sid=sid), row[count + 1 :]
