from __future__ import annotations

from rest_framework import serializers

from businesses.models import Business, BusinessSettings
from prosaas.serializer_fields import StrictTextModelSerializer
from prosaas.serializers import FieldsBuiltOnceMixin


class BusinessSerializer(FieldsBuiltOnceMixin, StrictTextModelSerializer):
    role = serializers.SerializerMethodField(help_text="The requesting user's role here.")

    class Meta:
        model = Business
        fields = ["id", "name", "slug", "is_active", "created_at", "updated_at", "role"]
        read_only_fields = fields

    def get_role(self, business: Business) -> str:
        return self.context["request"].role


class BusinessSettingsSerializer(FieldsBuiltOnceMixin, StrictTextModelSerializer):
    class Meta:
        model = BusinessSettings
        fields = [
            "time_zone",
            "default_country",
            "language",
            "ai_assistant_enabled",
            "working_hours_start",
            "working_hours_end",
            "whatsapp_greeting",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def validate(self, attrs: dict) -> dict:
        start = attrs.get(
            "working_hours_start", getattr(self.instance, "working_hours_start", None)
        )
        end = attrs.get("working_hours_end", getattr(self.instance, "working_hours_end", None))
        if (start is None) != (end is None):
            raise serializers.ValidationError("Set both working hours or neither.")
        return attrs


class CacheStatisticsSerializer(serializers.Serializer):
    """One cache's statistics, as ``Keyspace.stats()`` reports them."""

    hits = serializers.IntegerField()
    misses = serializers.IntegerField()
    hit_rate = serializers.FloatField(allow_null=True, help_text="null before any lookup.")
    sets = serializers.IntegerField()
    invalidations = serializers.IntegerField()
    clears = serializers.IntegerField()
    errors = serializers.IntegerField(help_text="Backend calls that failed (read as misses).")
    evictions = serializers.IntegerField(
        allow_null=True, help_text="null where the backend cannot tell (Redis)."
    )
    entries = serializers.IntegerField(
        allow_null=True, help_text="null where the backend cannot tell (Redis)."
    )
    max_entries = serializers.IntegerField(
        allow_null=True, help_text="null where the backend sets no entry limit (Redis)."
    )
    ttl = serializers.FloatField(help_text="Seconds an entry lives.")
    backend = serializers.CharField()
    shared = serializers.BooleanField(help_text="Whether every process reads the same entries.")
    since = serializers.DateTimeField(help_text="When these counters started.")


class CacheScopeSerializer(serializers.Serializer):
    pid = serializers.IntegerField()
    host = serializers.CharField()
    description = serializers.CharField(help_text="Whose numbers these are.")


class CacheBroadcastSerializer(serializers.Serializer):
    wanted = serializers.BooleanField(help_text="Whether this process should be listening.")
    listening = serializers.BooleanField()
    channel = serializers.CharField()
    received = serializers.IntegerField(help_text="Invalidations heard from other processes.")
    connection_failures = serializers.IntegerField()


class CacheReportSerializer(serializers.Serializer):
    scope = CacheScopeSerializer()
    business_settings = CacheStatisticsSerializer()
    memberships = CacheStatisticsSerializer()
    broadcast = CacheBroadcastSerializer(
        allow_null=True, help_text="null when invalidations are not broadcast."
    )
