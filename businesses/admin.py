from __future__ import annotations

from django.contrib import admin

from businesses.models import Business, BusinessSettings, Membership


class BusinessSettingsInline(admin.StackedInline):
    model = BusinessSettings
    can_delete = False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("user")


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [BusinessSettingsInline, MembershipInline]


@admin.register(BusinessSettings)
class BusinessSettingsAdmin(admin.ModelAdmin):
    list_display = ["business", "time_zone", "default_country", "language", "ai_assistant_enabled"]
    list_filter = ["time_zone", "default_country", "ai_assistant_enabled"]
    search_fields = ["business__name"]
    list_select_related = ["business"]
    raw_id_fields = ["business"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "business", "role", "created_at"]
    list_filter = ["role", "business"]
    search_fields = ["user__username", "user__email", "business__name"]
    list_select_related = ["user", "business"]
    raw_id_fields = ["user", "business"]
