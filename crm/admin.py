"""Admin for the CRM records.

The tables grow to millions of rows: foreign keys are raw ids (no giant dropdowns),
the changelists skip the exact total count, and each selects its related rows.
Leads are written through ``crm.services`` like everywhere else, so a status set in
the admin is recorded in the lead's history (channel ``admin``); the history itself
is an audit trail and read-only here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from crm.models import CallLog, Customer, Lead, LeadStatusHistory, WhatsAppMessage
from crm.services import customer_delete, lead_change_status, lead_create


class LargeTableAdmin(admin.ModelAdmin):
    show_full_result_count = False
    list_per_page = 50
    date_hierarchy = "created_at"


@admin.register(Customer)
class CustomerAdmin(LargeTableAdmin):
    list_display = ["name", "phone_e164", "email", "source", "business", "created_at"]
    list_filter = ["source", "business"]
    search_fields = ["name", "phone_e164", "email"]
    list_select_related = ["business"]
    raw_id_fields = ["business"]

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> Any:
        # A customer never moves to another business: its leads, calls and messages
        # (and their counts) would stay behind. The database refuses it as well.
        return ["business"] if obj is not None else []

    def delete_model(self, request: HttpRequest, obj: Customer) -> None:
        # Serialised with concurrent ingestion (see customer_delete).
        customer_delete(customer=obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[Customer]) -> None:
        for customer in queryset.order_by("pk"):
            customer_delete(customer=customer)


class SameTenantCustomerForm(forms.ModelForm):
    """Refuses linking a record to another business's customer (raw ids allow any)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # On a change form of a lead the business is read-only, so not in cleaned_data.
        business_id = getattr(cleaned.get("business"), "pk", None) or self.instance.business_id
        customer = cleaned.get("customer")
        if customer is not None and business_id and customer.business_id != business_id:
            self.add_error("customer", "This customer belongs to another business.")
        return cleaned


class LeadStatusHistoryInline(admin.TabularInline):
    model = LeadStatusHistory
    extra = 0
    can_delete = False
    fields = ["created_at", "old_status", "new_status", "channel", "changed_by", "reason"]
    readonly_fields = fields
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("changed_by")


@admin.register(Lead)
class LeadAdmin(LargeTableAdmin):
    list_display = [
        "id",
        "name",
        "phone_e164",
        "status",
        "source",
        "business",
        "customer",
        "created_at",
    ]
    list_filter = ["status", "source", "business"]
    search_fields = ["name", "phone_e164", "email"]
    list_select_related = ["business", "customer"]
    raw_id_fields = ["business", "customer"]
    inlines = [LeadStatusHistoryInline]
    form = SameTenantCustomerForm

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> Any:
        # A lead never moves to another business: its history and customer would not follow.
        return ["business"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Lead, form: Any, change: bool) -> None:
        # The admin wraps this in a transaction, which the row lock below relies on.
        if not change:
            lead = lead_create(
                business=obj.business,
                by=request.user,
                channel=LeadStatusHistory.Channel.ADMIN,
                customer=obj.customer,
                name=obj.name,
                phone_e164=obj.phone_e164,
                email=obj.email,
                source=obj.source,
                status=obj.status,
                notes=obj.notes,
                created_at=obj.created_at,
            )
            for field in Lead._meta.concrete_fields:  # the admin goes on with ``obj``
                setattr(obj, field.attname, getattr(lead, field.attname))
            return
        requested_status = obj.status
        # Save the other fields with the status the row has now (locked, so nobody
        # changes it meanwhile); the status itself changes only through the service.
        obj.status = (
            Lead.objects.select_for_update().values_list("status", flat=True).get(pk=obj.pk)
        )
        super().save_model(request, obj, form, change)
        if "status" in form.changed_data:
            lead_change_status(
                lead=obj,
                status=requested_status,
                by=request.user,
                channel=LeadStatusHistory.Channel.ADMIN,
            )


@admin.register(LeadStatusHistory)
class LeadStatusHistoryAdmin(LargeTableAdmin):
    list_display = [
        "lead",
        "old_status",
        "new_status",
        "channel",
        "changed_by",
        "business",
        "created_at",
    ]
    list_filter = ["new_status", "channel", "business"]
    search_fields = ["lead__name", "lead__phone_e164", "reason"]
    list_select_related = ["lead", "changed_by", "business"]
    raw_id_fields = ["lead", "changed_by", "business"]

    # An audit trail: rows are written by crm.services.lead_change_status only.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CallLog)
class CallLogAdmin(LargeTableAdmin):
    # Django 6's default, chosen now: a recording URL typed without a scheme is https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "call_sid",
        "from_number",
        "to_number",
        "direction",
        "status",
        "duration",
        "business",
        "customer",
        "created_at",
    ]
    list_filter = ["status", "direction", "business"]
    search_fields = ["call_sid", "from_number", "to_number"]
    list_select_related = ["business", "customer"]
    raw_id_fields = ["business", "customer"]
    form = SameTenantCustomerForm


@admin.register(WhatsAppMessage)
class WhatsAppMessageAdmin(LargeTableAdmin):
    list_display = [
        "provider_message_id",
        "to_number",
        "direction",
        "status",
        "ai_generated",
        "business",
        "customer",
        "created_at",
    ]
    list_filter = ["status", "direction", "ai_generated", "business"]
    search_fields = ["provider_message_id", "to_number", "body"]
    list_select_related = ["business", "customer"]
    raw_id_fields = ["business", "customer"]
    form = SameTenantCustomerForm
