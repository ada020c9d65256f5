"""JSON rendering with orjson, byte for byte what DRF's ``JSONRenderer`` writes.

DRF's renderer runs ``json.dumps`` with its own encoder class: for a page of 50
intelligence rows that is a pure-Python ``default`` hook plus the C encoder, several
hundred microseconds. orjson writes the same compact, non-ASCII-escaping JSON in a
fraction of that. Where the two would differ, this renderer hands the data to DRF's:

- indented output (``Accept: application/json; indent=4``, the browsable API's panel);
- anything orjson refuses (integers beyond 64 bits, non-string dict keys);
- floats in the ranges where the two format differently (exponents, and values below
  1e-4 that orjson writes in full): such output is re-rendered by DRF, so the bytes
  never change.

Datetimes, decimals, UUIDs, lazy strings and the like go through DRF's own encoder
(``OPT_PASSTHROUGH_DATETIME`` keeps orjson from formatting datetimes its own way).
Like DRF, U+2028 and U+2029 are escaped so the output is also valid JavaScript.

``settings.API_FAST_PATH = False`` renders with DRF's renderer: the previous
implementation, kept for the benchmark's side-by-side comparison.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from django.conf import settings
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils import encoders

_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME
# Floats the two libraries write differently: any exponent form (orjson 1e-7, Python
# 1e-07) and the tiny ones orjson writes in full where Python switches to an exponent
# (orjson 0.00001, Python 1e-05). Matching text inside a string only costs a fallback.
_FLOAT_FORMS_THAT_DIFFER = re.compile(rb"[0-9][eE][-+]?[0-9]|0\.0000[0-9]")
_LINE_SEPARATORS = b"\xe2\x80"  # the first two bytes of U+2028 and U+2029 in UTF-8


class PreRenderedJSON(bytes):
    """A response body that is already the JSON the renderer would write (e.g. built by
    PostgreSQL); the renderer passes it through untouched."""


def fast_path_enabled() -> bool:
    return getattr(settings, "API_FAST_PATH", True)


class ORJSONRenderer(JSONRenderer):
    """DRF's ``JSONRenderer`` output, written by orjson. See the module docstring."""

    _default = staticmethod(encoders.JSONEncoder().default)

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, PreRenderedJSON):
            return bytes(data)
        if data is None:
            return b""
        if not fast_path_enabled() or self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        if self.ensure_ascii or not self.compact:  # settings DRF's output depends on
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=self._default, option=_ORJSON_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: too big an int, a non-str key...
            return super().render(data, accepted_media_type, renderer_context)
        if _FLOAT_FORMS_THAT_DIFFER.search(body):
            return super().render(data, accepted_media_type, renderer_context)
        if _LINE_SEPARATORS in body:
            body = body.replace("\u2028".encode(), b"\\u2028").replace(
                "\u2029".encode(), b"\\u2029"
            )
        return body


class PreRenderedResponse(Response):
    """A DRF response whose body is already rendered JSON (``PreRenderedJSON``).

    The renderer passes the bytes through. Code that reads ``response.data`` (tests,
    DRF's test client, anything after the view) gets the parsed document, as it would
    from a response built from Python data.
    """

    def __init__(self, body: PreRenderedJSON, **kwargs: Any) -> None:
        self._rendering = False
        self._parsed: Any = None
        super().__init__(data=body, **kwargs)

    @property  # type: ignore[override]
    def data(self) -> Any:
        if self._rendering:
            return self._body
        if self._parsed is None:
            self._parsed = orjson.loads(bytes(self._body))
        return self._parsed

    @data.setter
    def data(self, value: Any) -> None:
        self._body = value
        self._parsed = None

    @property
    def rendered_content(self) -> bytes:
        self._rendering = True
        try:
            return super().rendered_content
        finally:
            self._rendering = False
