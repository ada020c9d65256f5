"""Token authentication that costs its one indexed lookup and little else.

DRF's ``TokenAuthentication`` runs ``Token.objects.select_related("user").get(key=...)``
on every request: a queryset built, cloned and compiled to the same SQL each time,
then two model instances made through the generic iterator. Compiling is most of it
(the profile in docs/performance.md: half of ``GET /api/business/``). Here the ORM
compiles that same query once per database alias; each request executes it with its
key and makes the two instances from the row. Same SQL, same single query (counted
by Server-Timing like any other, since it runs on Django's cursor), same errors.

``settings.API_FAST_PATH = False`` runs DRF's own method (the benchmark's "before").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from prosaas.renderers import fast_path_enabled

_KEY_PLACEHOLDER = "\x01token-key-placeholder\x01"


@dataclass(frozen=True)
class _CompiledTokenQuery:
    sql: str
    token_fields: tuple[str, ...]  # attnames, in select order
    user_fields: tuple[str, ...]


class CompiledTokenAuthentication(TokenAuthentication):
    """``TokenAuthentication`` with its query compiled once per database alias."""

    _compiled: dict[str, _CompiledTokenQuery] = {}
    _lock = threading.Lock()

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        if not fast_path_enabled():
            return super().authenticate_credentials(key)
        model = self.get_model()
        user_model = model._meta.get_field("user").related_model
        alias = router.db_for_read(model)
        compiled = self._compiled_for(model, alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        split = len(compiled.token_fields)
        token = model.from_db(alias, compiled.token_fields, row[:split])
        user = user_model.from_db(alias, compiled.user_fields, row[split:])
        token.user = user  # what select_related would have cached
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user, token)

    @classmethod
    def _compiled_for(cls, model: Any, alias: str) -> _CompiledTokenQuery:
        compiled = cls._compiled.get(alias)
        if compiled is None:
            with cls._lock:
                compiled = cls._compiled.get(alias) or cls._compile(model, alias)
                cls._compiled[alias] = compiled
        return compiled

    @staticmethod
    def _compile(model: Any, alias: str) -> _CompiledTokenQuery:
        """DRF's query, compiled by the ORM with a placeholder for the key."""
        user_model = model._meta.get_field("user").related_model
        token_fields = tuple(f.attname for f in model._meta.concrete_fields)
        user_fields = tuple(f.attname for f in user_model._meta.concrete_fields)
        queryset = (
            model.objects.using(alias)
            .select_related("user")
            .filter(key=_KEY_PLACEHOLDER)
            .order_by()
        )
        compiler = queryset.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        # The select list must be the token's columns, then the user's, as from_db reads them.
        selected = [col.target.attname for col, _sql, _alias in compiler.select]
        if tuple(params) != (_KEY_PLACEHOLDER,) or selected != [*token_fields, *user_fields]:
            raise RuntimeError(f"Unexpected shape of the token query: {sql} {params}")
        return _CompiledTokenQuery(sql=sql, token_fields=token_fields, user_fields=user_fields)
