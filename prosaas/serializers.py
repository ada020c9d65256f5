"""Serializers whose fields are worked out once per class, not on every request.

DRF builds a serializer's ``fields`` afresh for every instance: a ``ModelSerializer``
inspects its model, maps each model field to a serializer field and instantiates it
(1-3 ms for the project's serializers, on every request; docs/performance.md). The
result depends only on the class, so ``FieldsBuiltOnceMixin`` keeps the unbound
fields ``get_fields()`` returned the first time and gives each instance copies to
bind. Plain fields are copied shallowly (their state is their constructor arguments,
read-only afterwards); fields that hold other fields (nested serializers, list and
many-related fields) are deep-copied, since binding a child would otherwise make it
point at another request's parent.

Only for serializers whose ``get_fields()`` does not look at ``self.context`` or the
instance (true of every serializer in this project; a serializer that picks fields per
request must not use this mixin). ``settings.API_FAST_PATH = False`` builds the
fields DRF's way (the benchmark's "before").
"""

from __future__ import annotations

import copy
import threading

from django.utils.functional import cached_property
from rest_framework.fields import Field
from rest_framework.serializers import BaseSerializer
from rest_framework.utils.serializer_helpers import BindingDict

from prosaas.renderers import fast_path_enabled

_prototypes: dict[type, dict[str, Field]] = {}
_lock = threading.Lock()


def _fresh_copy(field: Field) -> Field:
    if (
        isinstance(field, BaseSerializer)
        or hasattr(field, "child")
        or hasattr(field, "child_relation")
    ):
        return copy.deepcopy(field)
    return copy.copy(field)


class FieldsBuiltOnceMixin:
    # See the module docstring. Put it first among the bases. (No docstring here: the
    # OpenAPI schema would show it as the description of every serializer using it.)

    @cached_property
    def fields(self) -> BindingDict:
        if not fast_path_enabled():
            return super().fields  # type: ignore[misc]
        cls = type(self)
        prototypes = _prototypes.get(cls)
        if prototypes is None:
            with _lock:
                prototypes = _prototypes.get(cls)
                if prototypes is None:
                    prototypes = dict(self.get_fields())  # type: ignore[attr-defined]
                    _prototypes[cls] = prototypes
        fields = BindingDict(self)
        for name, field in prototypes.items():
            fields[name] = _fresh_copy(field)
        return fields
