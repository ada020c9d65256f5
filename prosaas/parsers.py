"""Request body parsers that refuse what the rest of the stack cannot handle.

Every check here runs while DRF parses the body, before a serializer or a view sees
the data, and answers 400 (413 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``).

JSON bodies are refused when they

* nest objects and arrays deeper than ``MAX_JSON_DEPTH`` (32) levels. No request of
  this API nests more than three; Python's parser would otherwise recurse until
  ``RecursionError`` at about a thousand levels.
* contain a string that is not valid Unicode text: a lone surrogate (``"\\ud800"``) is
  legal JSON but cannot be encoded as UTF-8, neither by PostgreSQL nor by the JSON
  renderer echoing it back in an error message. Checked once here for every field,
  key and nested value.
* repeat a key in one object. ``json.loads`` keeps the last value, other parsers
  (proxies, WAFs, audit logs) keep the first; refusing the body removes the doubt
  about which value a record was written with.

Form and multipart bodies need none of this: Django decodes them with replacement
characters and caps their size and field count itself. Multipart is capped by
``Content-Length`` here as well, so that an unrequested file upload is not spooled
to disk.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable
from itertools import accumulate
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser, MultiPartParser, get_encoding

MAX_JSON_DEPTH = 32

# A JSON string (with its escapes): its brackets do not count towards the depth.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(r"[\[\]{}]")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def json_depth(text: str) -> int:
    """The deepest nesting of objects and arrays in ``text``, without parsing it.

    Linear and non-recursive, so it is safe on any input; on malformed JSON the
    number may be off, but the parser refuses such a body anyway.
    """
    brackets = _JSON_BRACKETS.findall(_JSON_STRING.sub("", text))
    return max(accumulate(1 if b in "[{" else -1 for b in brackets), default=0)


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ParseError(f"JSON parse error - duplicate key {_printable(duplicate)!r}.")
    return result


def _printable(text: str) -> str:
    """``text`` safe to put in an error message (lone surrogates escaped)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _unencodable_text(value: Any, path: str = "$") -> str | None:
    """The JSON path of the first string (key or value) that is not valid Unicode."""
    if isinstance(value, str):
        return None if _encodable(value) else path
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str):
            if not _encodable(key):
                return f"{path}.{_printable(key)}"
            child = f"{path}.{key}"
        else:
            child = f"{path}[{key}]"
        found = _unencodable_text(item, child)
        if found is not None:
            return found
    return None


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class StrictJSONParser(JSONParser):
    """DRF's JSON parser with a depth limit, Unicode checks and no duplicate keys."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - the body is not valid {encoding}.") from exc
        if json_depth(text) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            data = json.loads(
                text,
                object_pairs_hook=_pairs_without_duplicates,
                parse_constant=_refuse_constant,
            )
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        where = _unencodable_text(data)
        if where is not None:
            raise ParseError(
                f"JSON parse error - {where} is not valid Unicode text (a lone surrogate)."
            )
        return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


class StrictMultiPartParser(MultiPartParser):
    """Multipart bodies over the upload limit are refused before any part is read."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise RequestTooLarge()
        return super().parse(stream, media_type, parser_context)
