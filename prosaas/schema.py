"""The OpenAPI schema says what the API really answers (drf-spectacular).

drf-spectacular documents each operation's success answer from its serializer. This
module adds what it cannot see, in the two places it offers for that:

* ``ErrorDocumentingAutoSchema`` (``DEFAULT_SCHEMA_CLASS``) extends each operation:
  the ``X-Business-Id`` header on tenant views, the error answers every operation can
  give (400, 401, 403, 404 with a path id, 409 where declared, 413/415 with a body,
  429 when throttled, 503) in the JSON shapes of ``prosaas/exceptions.py``, and the
  bounds of ``page_size`` and of ids.
* ``describe_stored_values`` (a postprocessing hook) makes response fields match the
  values stored: phone numbers in E.164, and emails and URLs that may be ``""``.

The Schemathesis run in the suite (tests/test_schemathesis.py) checks every answer
against this schema, so a gap shows up as a failing test.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from businesses.tenancy import BUSINESS_HEADER, IsTenantMember
from crm.filters import MAX_ID
from crm.phones import E164_PATTERN
from prosaas.pagination import KeysetPagination

ERROR = ResolvedComponent(
    name="Error",
    type=ResolvedComponent.SCHEMA,
    object="Error",
    schema={
        "type": "object",
        "description": "An error about the request as a whole.",
        "properties": {
            "detail": {"type": "string", "description": "What went wrong, for people."},
            "code": {"type": "string", "description": "What went wrong, for programs."},
        },
        "required": ["detail"],
    },
)
VALIDATION_ERROR = ResolvedComponent(
    name="ValidationError",
    type=ResolvedComponent.SCHEMA,
    object="ValidationError",
    schema={
        "type": "object",
        "description": "Each invalid field, query parameter, path id or header (by its "
        "name) with its problems; problems of the request as a whole in `detail` "
        "(a body that does not parse) or `non_field_errors`.",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "non_field_errors": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
)

ID_BOUNDS = {"minimum": 1, "maximum": MAX_ID}
# Query parameters that are ids (django-filter's IdFilter).
ID_QUERY_PARAMETERS = {"customer"}

BAD_REQUEST = (
    "Invalid input, nothing written. The body names each invalid field, query "
    "parameter, path id or the X-Business-Id header. A body that is not JSON, nests "
    "deeper than 32 levels, holds a lone surrogate or repeats a key is refused as a "
    "whole (`detail`). Values of the right type can still be refused: a phone number "
    "that is not a possible number (or over 15 digits in E.164), a cursor this API did "
    "not issue, a customer id not of this tenant, a time zone or country code that "
    "does not exist, a provider timestamp in the future, a phone number already used by "
    "another customer, a recording URL Django's URL validator refuses (a host label over "
    "63 characters), wrong credentials, a request that breaks a rule between fields "
    "(`non_field_errors`), text with a NUL character (PostgreSQL cannot store it)."
)


def _error(description: str, component: ResolvedComponent = ERROR) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": component.ref}},
    }


def _retry_after(response: dict[str, Any]) -> dict[str, Any]:
    return {
        **response,
        "headers": {
            "Retry-After": {
                "schema": {"type": "integer", "minimum": 0},
                "description": "Seconds to wait before trying again.",
            }
        },
    }


class ErrorDocumentingAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus headers, errors and bounds (see module doc)."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:  # excluded from the schema
            return None
        registry = args[4] if len(args) > 4 else kwargs["registry"]
        registry.register_on_missing(ERROR)
        registry.register_on_missing(VALIDATION_ERROR)
        parameters = operation.setdefault("parameters", [])
        if self._is_tenant_view():
            parameters.append(self._business_header())
        self._bound_parameters(parameters)
        self._mark_required_filters(parameters)
        if not parameters:
            del operation["parameters"]
        self._json_bodies_only(operation)
        for code, response in self._error_responses(operation).items():
            operation["responses"].setdefault(code, response)
        return operation

    def _is_tenant_view(self) -> bool:
        return any(
            isinstance(p, type) and issubclass(p, IsTenantMember)
            for p in getattr(self.view, "permission_classes", ())
        )

    @staticmethod
    def _business_header() -> dict[str, Any]:
        return {
            "name": BUSINESS_HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "integer", **ID_BOUNDS},
            "description": "The business to act for, by id. Required for a user who "
            "belongs to several businesses (400 without it); a business the user is "
            "not an active member of is a 403. Only ASCII digits, no spaces.",
        }

    @staticmethod
    def _bound_parameters(parameters: list[dict[str, Any]]) -> None:
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if parameter["name"] == KeysetPagination.page_size_query_param:
                schema.update(
                    minimum=1,
                    maximum=KeysetPagination.max_page_size,
                    default=KeysetPagination.page_size,
                )
            elif parameter["in"] == "path" or (
                schema.get("type") == "integer" and parameter["name"] in ID_QUERY_PARAMETERS
            ):
                # Every path parameter is a record id read by parse_id(); the routers'
                # catch-all pattern (TenantScopedViewMixin.lookup_value_regex) exists
                # only so that malformed ids reach it and get a 400.
                parameter["schema"] = {"type": "integer", **ID_BOUNDS}
            elif parameter["name"] == "cursor":
                parameter["description"] = (
                    "Opaque: the value from a previous page's `next` or `previous` link. "
                    "Any other value is a 400."
                )

    def _json_bodies_only(self, operation: dict[str, Any]) -> None:
        """Document JSON request bodies only (form encodings for the token endpoint).

        The views also parse forms, for the browsable API and curl, but a form cannot
        carry ``null`` or a number's type, so a schema listing them would promise what
        the encoding cannot say. tests/test_probe.py sends forms to every endpoint.
        """
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content and not getattr(self.view, "throttle_classes", None):
            for media_type in [m for m in content if m != "application/json"]:
                del content[media_type]

    def _mark_required_filters(self, parameters: list[dict[str, Any]]) -> None:
        """django-filter's schema leaves out ``required=True`` (``to_number``)."""
        filterset = getattr(self.view, "filterset_class", None)
        if filterset is None:
            return
        for parameter in parameters:
            filter_ = filterset.base_filters.get(parameter["name"])
            if parameter["in"] == "query" and filter_ is not None and filter_.extra.get("required"):
                parameter["required"] = True

    def _error_responses(self, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
        responses: dict[str, dict[str, Any]] = {}
        if operation.get("parameters") or "requestBody" in operation:
            responses["400"] = _error(BAD_REQUEST, VALIDATION_ERROR)
        responses |= {
            "401": _error("No credentials, or credentials that are not valid."),
            "403": _error(
                "Not an active member of the business (X-Business-Id), or the role there "
                "does not allow this."
                if self._is_tenant_view()
                else "Not allowed for this user."
            ),
        }
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            responses["404"] = _error("No such record in this business.")
        if "requestBody" in operation:
            responses["413"] = _error("The body is over the upload limit (2.5 MB).")
            responses["415"] = _error(
                "The body is not JSON, form-encoded or multipart (Content-Type)."
            )
        if getattr(self.view, "throttle_classes", None):
            responses["429"] = _retry_after(_error("Too many attempts; retry later."))
        responses["503"] = _retry_after(
            _error("A dependency (database, cache) is unavailable or busy; retry later.")
        )
        return responses


# --- Postprocessing: response fields as they are stored ----------------------------

PHONE_FIELDS = {"phone_e164", "from_number", "to_number"}
# Phone fields that may be empty: a lead without a phone number.
BLANK_PHONE_FIELDS = {("Lead", "phone_e164")}
# Model fields with blank=True: they come back as "" when unset, which their
# format (email, uri) does not admit.
BLANKABLE_FORMATS = {"email", "uri"}
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def describe_stored_values(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: see the module docstring."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        is_request = name.endswith("Request")
        for field, schema in component.get("properties", {}).items():
            if field in PHONE_FIELDS and not is_request and schema.get("type") == "string":
                blank = (name, field) in BLANK_PHONE_FIELDS
                schema["pattern"] = "^(\\+[1-9][0-9]{1,14})?$" if blank else E164_PATTERN
                schema.setdefault("description", "E.164, e.g. +14155550123.")
            if schema.get("format") == "time":
                # DRF reads and writes times without an offset (09:30, 09:30:00.5);
                # "format: time" (RFC 3339) requires one.
                del schema["format"]
                schema["pattern"] = TIME_PATTERN
            if (
                not is_request
                and schema.get("format") in BLANKABLE_FORMATS
                and schema.get("type") == "string"
            ):
                text_format = schema.pop("format")
                schema["description"] = (
                    schema.get("description", "") + f" An {text_format}, or empty when unset."
                ).strip()
    return result
