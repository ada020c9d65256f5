"""Serializer fields that read JSON types as the schema states them.

DRF's ``CharField`` turns a JSON number into text (``{"notes": 5}`` stores ``"5"``),
although the schema says the field is a string. A client sending a number has a bug
(often a field swapped with another); it gets a 400 like any other type mismatch.
Form and multipart bodies carry only text, so nothing changes for them.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"not_text": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


class StrictTextModelSerializer(serializers.ModelSerializer):
    # A ModelSerializer whose generated text fields refuse non-strings. (No docstring:
    # the OpenAPI schema would show it as the description of every subclass.)

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }
