"""Canonical JSON (RFC 8785) and the flattening of a record into addressable fields.

Invariants:
    * ``canonical_bytes`` is RFC 8785 (JSON Canonicalization Scheme) as produced by the
      ``rfc8785`` package: keys sorted by UTF-16 code units, no whitespace, strings
      escaped minimally, integers in decimal. Floats are refused outright (money and
      quantities are never floats), and so are integers outside the I-JSON safe range
      +-(2**53 - 1), which RFC 8785 cannot represent exactly.
    * ``scalar_json`` is a fast path for one field value; it is byte-identical to
      ``rfc8785.dumps`` for str, int, bool, null, ``{}`` and ``[]`` (a property test
      holds it to that).
    * ``flatten`` addresses every scalar by its RFC 6901 JSON Pointer (``~`` escaped as
      ``~0``, ``/`` as ``~1``); an empty object or array is one field whose value is
      ``{}`` or ``[]``. Paths are unique because object keys are.
    * ``content_hash`` is keccak256 of the canonical bytes of a record's normalised
      form: unsalted, so the same invoice sent twice (keys reordered, whitespace,
      ``"1234.50"`` vs ``"1234.5"``) gives the same hash. Changing any of these rules
      changes every content hash and every document root; bump the hashing version
      (docs/hashing.md) if you must.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import rfc8785

from registry.errors import RecordError
from registry.hashing import keccak256

if TYPE_CHECKING:
    from registry.records import Record

JsonScalar: TypeAlias = str | int | bool | None
JsonValue: TypeAlias = (
    str | int | bool | list["JsonValue"] | dict[str, "JsonValue"] | None
)

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer RFC 8785 (I-JSON) represents exactly; larger ones are refused."""

_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def escape_pointer_token(token: str) -> str:
    """Escape a JSON Pointer token (RFC 6901: ``~`` -> ``~0``, ``/`` -> ``~1``)."""
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


def unescape_pointer_token(token: str) -> str:
    """Undo :func:`escape_pointer_token`."""
    return token.replace("~1", "/").replace("~0", "~")


def scalar_json(value: object) -> bytes:
    """RFC 8785 bytes of one field value: a scalar, ``{}`` or ``[]``.

    Args:
        value: a str, int (not bool), bool, None, empty dict or empty list.

    Returns:
        The canonical UTF-8 bytes, identical to ``rfc8785.dumps(value)``.

    Raises:
        RecordError: a float, an integer beyond +-(2**53 - 1), a string holding a lone
            surrogate, a non-empty container, or any other type.
    """
    kind = type(value)
    if kind is str:
        try:
            return _encode_string(value).encode()
        except UnicodeEncodeError as err:
            raise RecordError("", "string is not valid Unicode text") from err
    if kind is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:  # type: ignore[operator]
            return str(value).encode()
        raise RecordError("", "integer is outside the RFC 8785 safe range +-(2**53-1)")
    if value is None:
        return b"null"
    if value is True:
        return b"true"
    if value is False:
        return b"false"
    if kind is dict and not value:
        return b"{}"
    if kind is list and not value:
        return b"[]"
    raise RecordError("", f"{kind.__name__} is not a JSON field value")


def _check_json(value: object, path: str) -> bool:
    """Refuse what canonical JSON cannot hold; True when every key is ASCII."""
    kind = type(value)
    ascii_keys = True
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                raise RecordError(path, "object keys must be strings")
            ascii_keys &= key.isascii()
            ascii_keys &= _check_json(item, f"{path}/{escape_pointer_token(key)}")
    elif kind is list or kind is tuple:
        for index, item in enumerate(value):  # type: ignore[arg-type]
            ascii_keys &= _check_json(item, f"{path}/{index}")
    elif kind is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:  # type: ignore[operator]
            raise RecordError(path, "integer is outside the safe range +-(2**53-1)")
    elif not (kind is str or kind is bool or value is None):
        raise RecordError(path, f"{kind.__name__} is not allowed in canonical JSON")
    return ascii_keys


_dump_sorted = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


def canonical_bytes(obj: object) -> bytes:
    """RFC 8785 canonical bytes of a JSON value.

    Args:
        obj: dicts with str keys, lists, str, int, bool, None. No floats.

    Returns:
        The canonical UTF-8 bytes.

    Raises:
        RecordError: a float or other non-JSON type, an unsafe integer, or text that is
            not valid Unicode; ``field`` is the JSON Pointer of the offending value.
    """
    if _check_json(obj, ""):
        # NOTE: with ASCII keys, safe integers and no floats (checked above), the
        # standard library's compact, key-sorted encoder writes exactly the RFC 8785
        # bytes (code-point order equals UTF-16 order for ASCII; both escape only
        # '"', '\\' and control characters, the same way) and is ~10x faster. A
        # property test holds the two to byte equality.
        try:
            return _dump_sorted(obj).encode()
        except UnicodeEncodeError as err:
            raise RecordError("", "string is not valid Unicode text") from err
    try:
        return rfc8785.dumps(obj)  # type: ignore[arg-type]
    except rfc8785.CanonicalizationError as err:
        raise RecordError("", f"cannot canonicalise: {err}") from err


def flatten(obj: Mapping[str, Any] | Sequence[Any]) -> list[tuple[str, JsonValue]]:
    """Flatten a JSON object into (JSON Pointer, value) fields.

    Args:
        obj: a JSON object (or array). Values must be JSON types; containers nest.

    Returns:
        One ``(path, value)`` per scalar, and one per empty object or array (value
        ``{}`` or ``[]``), in document order. Paths are unique.

    Raises:
        RecordError: a value that is not a JSON type (floats included).
    """
    fields: list[tuple[str, JsonValue]] = []
    _flatten_into(obj, "", fields)
    return fields


def _flatten_into(value: Any, path: str, out: list[tuple[str, JsonValue]]) -> None:
    kind = type(value)
    if kind is dict:
        if not value:
            out.append((path, {}))
            return
        for key, item in value.items():
            if type(key) is not str:
                raise RecordError(path, "object keys must be strings")
            if "~" in key or "/" in key:
                key = escape_pointer_token(key)
            item_kind = type(item)
            if (
                item_kind is str
                or item_kind is int
                or item_kind is bool
                or item is None
            ):
                out.append((f"{path}/{key}", item))
            else:
                _flatten_into(item, f"{path}/{key}", out)
    elif kind is list or kind is tuple:
        if not value:
            out.append((path, []))
            return
        for index, item in enumerate(value):
            _flatten_into(item, f"{path}/{index}", out)
    elif kind is str or kind is int or kind is bool or value is None:
        out.append((path, value))
    else:
        raise RecordError(path, f"{kind.__name__} is not allowed in a record")


class NonIntegerNumber:
    """Stands in for a JSON number with a fraction or exponent (or NaN, Infinity).

    :func:`loads_strict` puts one where ``json`` would have made a float, so that a
    validator can name the field instead of failing on the whole text.
    """

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def __repr__(self) -> str:
        return f"NonIntegerNumber({self.literal!r})"


class JsonObject(dict[str, Any]):
    """An object from :func:`loads_strict`; ``duplicate_keys`` lists repeated keys."""

    duplicate_keys: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> JsonObject:
    obj = JsonObject(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        duplicates: list[str] = []
        for key, _ in pairs:
            if key in seen:
                duplicates.append(key)
            seen.add(key)
        obj.duplicate_keys = tuple(duplicates)
    return obj


def loads_strict(text: str | bytes) -> Any:
    """Parse JSON text without ever making a float.

    Numbers with a fraction or exponent, NaN and Infinity become
    :class:`NonIntegerNumber`; objects become :class:`JsonObject`, which remembers
    duplicate keys. Validators then refuse both, naming the field.

    Raises:
        ValueError: the text is not UTF-8 or not JSON.
    """
    source = text.decode("utf-8") if isinstance(text, bytes) else text
    return json.loads(
        source,
        parse_float=NonIntegerNumber,
        parse_constant=NonIntegerNumber,
        object_pairs_hook=_object_pairs,
    )


def content_hash(record: Record | Mapping[str, Any]) -> bytes:
    """Unsalted keccak256 of a record's canonical bytes.

    Args:
        record: a parsed :class:`~registry.records.Record`, or raw record data, which is
            validated and normalised first (so equivalent inputs hash alike).

    Returns:
        32 bytes: keccak256(RFC 8785 bytes of the normalised record dict).

    Raises:
        RecordValidationError: raw data that is not a valid record.
    """
    from registry.records import parse_record, record_to_canonical_dict

    parsed = parse_record(record) if isinstance(record, Mapping) else record
    return keccak256(canonical_bytes(record_to_canonical_dict(parsed)))
