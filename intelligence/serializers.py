"""The intelligence screen's JSON: one customer with its activity, and tenant totals."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import CallLog, Customer, Lead, Source
from intelligence.timeline import last_interaction, recent_activity


class LatestLeadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Lead.Status.choices)
    source = serializers.ChoiceField(choices=Source.choices)
    notes = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LastCallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=CallLog.Status.choices)
    direction = serializers.ChoiceField(choices=CallLog.Direction.choices)
    duration = serializers.IntegerField(help_text="Seconds.")
    summary = serializers.CharField(help_text="AI summary of the call; empty until processed.")
    created_at = serializers.DateTimeField()


class ActivitySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["lead", "call", "whatsapp"])
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="The status of the lead, call or message.")
    timestamp = serializers.DateTimeField(help_text="When it was created.")


class CustomerIntelligenceSerializer(serializers.ModelSerializer):
    """A customer with counts and latest rows (annotated by the selector).

    Nested timestamps arrive as datetimes (intelligence.expressions.JSONRowField), so the
    same DRF field renders them as the top-level ones.
    """

    leads_count = serializers.IntegerField(read_only=True)
    calls_count = serializers.IntegerField(read_only=True)
    whatsapp_count = serializers.IntegerField(read_only=True)
    last_interaction = serializers.SerializerMethodField(
        help_text="The newest lead, call or WhatsApp message; null if none."
    )
    latest_lead = LatestLeadSerializer(read_only=True, allow_null=True)
    last_call = LastCallSerializer(read_only=True, allow_null=True)
    recent_activity = serializers.SerializerMethodField(
        help_text="The latest lead, call and WhatsApp message, newest first (at most 3)."
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "phone_e164",
            "email",
            "source",
            "created_at",
            "leads_count",
            "calls_count",
            "whatsapp_count",
            "last_interaction",
            "latest_lead",
            "last_call",
            "recent_activity",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_interaction(self, customer: Customer) -> str | None:
        moment = last_interaction(**_latest_rows(customer))
        return serializers.DateTimeField().to_representation(moment)

    @extend_schema_field(ActivitySerializer(many=True))
    def get_recent_activity(self, customer: Customer) -> list[dict[str, Any]]:
        return ActivitySerializer(recent_activity(**_latest_rows(customer)), many=True).data


def _latest_rows(customer: Customer) -> dict[str, Any]:
    return {
        "latest_lead": customer.latest_lead,  # type: ignore[attr-defined]
        "last_call": customer.last_call,  # type: ignore[attr-defined]
        "last_whatsapp": customer.last_whatsapp,  # type: ignore[attr-defined]
    }


class TenantStatsSerializer(serializers.Serializer):
    total_customers = serializers.IntegerField()
    new_customers_today = serializers.IntegerField(
        help_text="Created since midnight in the business's time zone."
    )
    total_leads = serializers.IntegerField()
    new_leads_today = serializers.IntegerField(
        help_text="Created since midnight in the business's time zone."
    )
    total_calls = serializers.IntegerField()
    total_whatsapp = serializers.IntegerField(help_text="WhatsApp messages, both directions.")
    call_conversion_rate = serializers.FloatField(
        help_text="Of the leads that came from a call, the share now qualified or won "
        "(0 to 1; 0 when there are none)."
    )
    whatsapp_conversion_rate = serializers.FloatField(
        help_text="Of the leads that came from WhatsApp, the share now qualified or won "
        "(0 to 1; 0 when there are none)."
    )
    meeting_ready_leads = serializers.IntegerField(help_text="Leads now in status qualified.")
    ai_processed_interactions = serializers.IntegerField(
        help_text="Calls with an AI summary plus WhatsApp messages written by the AI."
    )
