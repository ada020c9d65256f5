"""The browsable API for people: an HTML form for PATCH, and descriptions as prose.

DRF renders an HTML form only for PUT. A view that takes PATCH but not PUT (business
settings) gets the same form, sent as PATCH; after a 400 it is rebuilt from the
request's own serializer, so what was typed stays in the fields next to the errors.

View descriptions come from docstrings written for developers; on the page the
reStructuredText backticks go and repository paths are left out.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.safestring import SafeString
from rest_framework import renderers
from rest_framework.utils import formatting
from rest_framework.views import get_view_description

_DOUBLE_BACKTICKS = re.compile(r"``([^`]+)``")
# "(docs/intelligence.md)", "(prosaas/query_metrics.py)": useful in the code only.
_REPOSITORY_PATH = re.compile(r"\s*\(\s*(?:see\s+)?[\w./-]+/[\w.-]+\.(?:md|py)\s*\)")


def prose(text: str) -> str:
    text = _REPOSITORY_PATH.sub("", text)
    return _DOUBLE_BACKTICKS.sub(r"`\1`", text)


def view_description(view: Any, html: bool = False) -> str:
    """``VIEW_DESCRIPTION_FUNCTION``: DRF's description, as prose."""
    text = prose(get_view_description(view, html=False))
    if not html:
        return text
    return SafeString(formatting.markup_description(text))


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def get_context(self, data: Any, accepted_media_type: Any, renderer_context: Any) -> Any:
        context = super().get_context(data, accepted_media_type, renderer_context)
        view, request = renderer_context["view"], renderer_context["request"]
        allowed = getattr(view, "allowed_methods", ())
        if not context.get("put_form") and "PATCH" in allowed and "PUT" not in allowed:
            context["put_form"] = self.get_rendered_html_form(data, view, "PATCH", request)
            context["html_form_method"] = "PATCH"
        return context
