from __future__ import annotations

from rest_framework import serializers

from businesses.models import Business, BusinessSettings


class BusinessSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="The requesting user's role here.")

    class Meta:
        model = Business
        fields = ["id", "name", "slug", "is_active", "created_at", "updated_at", "role"]
        read_only_fields = fields

    def get_role(self, business: Business) -> str:
        return self.context["request"].role


class BusinessSettingsSerializer(serializers.ModelSerializer):
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
