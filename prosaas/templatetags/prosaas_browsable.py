"""Template tags of the browsable API: the business switcher."""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from businesses.tenancy import SESSION_BUSINESS_KEY, member_businesses

register = template.Library()


@register.simple_tag(takes_context=True)
def business_switcher(context: dict[str, Any]) -> str:
    """A form to pick the business of this browser session; only for several businesses."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    businesses = member_businesses(user)
    if len(businesses) < 2:
        return ""
    current = getattr(request, "business", None)
    chosen = current.pk if current is not None else request.session.get(SESSION_BUSINESS_KEY)
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (business.pk, " selected" if business.pk == chosen else "", business.name)
            for business, _role in businesses
        ),
    )
    return format_html(
        '<li><form class="navbar-form" method="post" action="{}" id="business-switcher">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="next" value="{}">'
        '<select name="business_id" class="form-control input-sm" aria-label="Business">'
        '{}{}</select> <button type="submit" class="btn btn-default btn-sm">Switch</button>'
        "</form></li>",
        reverse("business-switch"),
        get_token(request),
        request.get_full_path(),
        format_html('<option value=""{}>Pick a business…</option>', "" if chosen else " selected"),
        options,
    )
