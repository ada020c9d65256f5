"""API representations of the CRM records, and the validation of what clients send.

Two kinds of input are resolved against the request's tenant here, at the boundary:
phone numbers (read with the tenant's default country, stored in E.164) and related
ids (a customer of another tenant reads as "does not exist", exactly like a missing
one, so ids reveal nothing).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import CallLog, Customer, Lead, LeadStatusHistory, WhatsAppMessage
from crm.phones import InvalidPhoneNumber, to_e164
from crm.selectors import phone_region
from prosaas.serializer_fields import StrictCharField, StrictTextModelSerializer
from prosaas.serializers import FieldsBuiltOnceMixin

# Provider timestamps may run slightly ahead of our clock; further ahead is a bug.
ALLOWED_CLOCK_SKEW = timedelta(minutes=5)


@extend_schema_field(OpenApiTypes.STR)
class PhoneNumberField(StrictCharField):
    """A phone number in any common format, stored and shown in E.164."""

    default_error_messages = {"invalid_phone": "{reason}"}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)  # raw input; E.164 itself is at most 16
        kwargs.setdefault(
            "help_text",
            "Any common format; numbers without a country code are read with the "
            "business's default country. Returned in E.164.",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        raw = super().to_internal_value(data)
        if raw == "":
            return raw  # only reachable with allow_blank=True
        region = phone_region(self.context["request"].business)
        try:
            return to_e164(raw, default_region=region)
        except InvalidPhoneNumber as error:
            self.fail("invalid_phone", reason=str(error))


class TenantCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id of the request's tenant; any other id is 'does not exist'."""

    def __init__(self, **kwargs: Any) -> None:
        # The browsable API would otherwise render a <select> of (up to 1000) customers.
        kwargs.setdefault("style", {"base_template": "input.html", "input_type": "number"})
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Customer]:
        return Customer.objects.for_business(self.context["request"].business)


class NotInFutureDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> Any:
        moment = super().to_internal_value(value)
        if moment > timezone.now() + ALLOWED_CLOCK_SKEW:
            raise serializers.ValidationError("Must not be in the future.")
        return moment


class CustomerSerializer(FieldsBuiltOnceMixin, StrictTextModelSerializer):
    phone_e164 = PhoneNumberField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "phone_e164",
            "email",
            "source",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class LeadSerializer(FieldsBuiltOnceMixin, StrictTextModelSerializer):
    customer = TenantCustomerField(
        required=False,
        allow_null=True,
        help_text="The tenant's customer. Omitted on creation: the customer with the "
        "lead's phone number, if any.",
    )
    phone_e164 = PhoneNumberField(required=False, allow_blank=True)
    status_reason = StrictCharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="Why the status changes; kept in the lead's status history.",
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "customer",
            "name",
            "phone_e164",
            "email",
            "source",
            "status",
            "status_reason",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("status_reason") and "status" not in attrs:
            raise serializers.ValidationError(
                {"status_reason": ["Only with a status change: send status too."]}
            )
        if self.instance is None and not (
            attrs.get("phone_e164") or attrs.get("email") or attrs.get("customer")
        ):
            raise serializers.ValidationError(
                "A lead needs a way to reach it: phone_e164, email or customer."
            )
        return attrs


class UserSummarySerializer(FieldsBuiltOnceMixin, StrictTextModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]
        read_only_fields = fields


class LeadStatusHistorySerializer(FieldsBuiltOnceMixin, StrictTextModelSerializer):
    changed_by = UserSummarySerializer(read_only=True, allow_null=True)
    # Declared so that the schema admits "" (a lead's first status has no old one).
    old_status = serializers.ChoiceField(
        choices=Lead.Status.choices,
        allow_blank=True,
        read_only=True,
        help_text="The status before the change; empty for the lead's first status.",
    )

    class Meta:
        model = LeadStatusHistory
        fields = ["id", "old_status", "new_status", "changed_by", "channel", "reason", "created_at"]
        read_only_fields = fields


class CallLogSerializer(FieldsBuiltOnceMixin, StrictTextModelSerializer):
    # Declared, not generated: the generated field would carry a uniqueness check, and
    # a repeated call_sid is a retry (answered with the stored call), not an error.
    call_sid = StrictCharField(
        max_length=64, help_text=CallLog._meta.get_field("call_sid").help_text
    )
    customer = TenantCustomerField(
        required=False,
        allow_null=True,
        help_text="The tenant's customer. Omitted: the customer with the other party's "
        "number (from_number inbound, to_number outbound), if any.",
    )
    from_number = PhoneNumberField()
    to_number = PhoneNumberField()
    created_at = NotInFutureDateTimeField(
        required=False, help_text="When the call started, per the provider. Default: now."
    )

    class Meta:
        model = CallLog
        fields = [
            "id",
            "call_sid",
            "customer",
            "from_number",
            "to_number",
            "direction",
            "status",
            "duration",
            "summary",
            "transcript",
            "recording_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]


class WhatsAppMessageSerializer(FieldsBuiltOnceMixin, StrictTextModelSerializer):
    customer = TenantCustomerField(
        required=False,
        allow_null=True,
        help_text="The tenant's customer. Omitted: the customer with to_number, if any.",
    )
    to_number = PhoneNumberField(
        help_text="The customer's WhatsApp number (the conversation), any common format."
    )
    created_at = NotInFutureDateTimeField(
        required=False, help_text="When the message was sent, per the provider. Default: now."
    )

    class Meta:
        model = WhatsAppMessage
        fields = [
            "id",
            "provider_message_id",
            "customer",
            "to_number",
            "direction",
            "status",
            "body",
            "ai_generated",
            "created_at",
        ]
        read_only_fields = ["id"]
