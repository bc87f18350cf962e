"""Book field types: ISBN (checksum, normal form), ISO 639-1 language, `YYYY-MM-DD` dates,
and the normal form of the tag names a book carries."""

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from bookly.core.text import Storable, StorableText

# One string reads better than 184 quoted pairs.
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy
    hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li
    ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa
    pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th
    ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split()  # noqa: SIM905
)

_ISBN_SEPARATORS = re.compile(r"[\s-]")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def compact_isbn(value: str) -> str:
    """The ISBN without separators, checksum verified (ValueError otherwise)."""
    digits = _ISBN_SEPARATORS.sub("", value).upper()
    if re.fullmatch(r"\d{9}[\dX]", digits):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
        if total % 11 == 0:
            return digits
    elif re.fullmatch(r"97[89]\d{10}", digits) and _isbn13_sum(digits) % 10 == 0:
        return digits
    raise ValueError("must be a valid ISBN-10 or ISBN-13 (check digit included)")


def isbn13(compact: str) -> str:
    """The ISBN-13 form of a compact ISBN: an ISBN-10 and its ISBN-13 are the same book."""
    if len(compact) == 13:
        return compact
    body = "978" + compact[:9]
    return body + isbn13_check_digit(body)


def isbn13_check_digit(body: str) -> str:
    """The 13th digit that completes these 12."""
    return str((10 - _isbn13_sum(body) % 10) % 10)


def _isbn13_sum(digits: str) -> int:
    return sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits))


def _language(value: str) -> str:
    code = value.strip().lower()
    if code not in ISO_639_1:
        raise ValueError("must be an ISO 639-1 language code such as 'en'")
    return code


def _iso_date(value: Any) -> Any:
    # Pydantic would also take timestamps and datetimes; the contract says YYYY-MM-DD only.
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return date.fromisoformat(value)


Isbn = Annotated[
    StorableText,
    StringConstraints(min_length=10, max_length=17),
    AfterValidator(compact_isbn),
    Field(examples=["978-0-306-40615-7"]),
]
Language = Annotated[
    StorableText,
    StringConstraints(min_length=2, max_length=2),
    AfterValidator(_language),
    Field(examples=["en"], json_schema_extra={"enum": sorted(ISO_639_1)}),
]
IsoDate = Annotated[date, BeforeValidator(_iso_date), Field(examples=["1954-07-29"])]


def normalise_tag(name: str) -> str:
    """Trimmed, lower-cased, inner whitespace collapsed: how names are stored and compared."""
    normal = " ".join(name.split()).lower()
    if not 1 <= len(normal) <= 40:
        raise ValueError("a tag name is 1-40 characters (after trimming)")
    return normal


TagName = Annotated[
    str,
    # At most 40 characters as sent, something besides spaces, and no NUL.
    StringConstraints(max_length=40, pattern=r"^[^\u0000]*\S[^\u0000]*$"),
    Storable,
    AfterValidator(normalise_tag),
    Field(examples=["science fiction"]),
]
