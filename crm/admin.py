"""Admin for the CRM records.

The tables grow to millions of rows: foreign keys are raw ids (no giant dropdowns),
the changelists skip the exact total count, and each selects its related rows.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from crm.models import CallLog, Customer, Lead, LeadStatusHistory, WhatsAppMessage


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
