"""The CRM records of a tenant: customers, leads and their history, calls, WhatsApp.

Table and column names are a contract with operators (see DESIGN.md). In Python the
tenant foreign key is always ``business``; ``db_column`` gives the table its name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils import timezone

from crm import triggers as db_triggers
from crm.indexes import NamedIndex, newest_first_index
from crm.sort_keys import last_interaction_key

if TYPE_CHECKING:
    from businesses.models import Business


class TenantQuerySet(models.QuerySet):
    def for_business(self, business: Business | int) -> TenantQuerySet:
        return self.filter(business=business)


class Source(models.TextChoices):
    CALL = "call", "Phone call"
    WHATSAPP = "whatsapp", "WhatsApp"
    WEB = "web", "Web form"
    REFERRAL = "referral", "Referral"
    MANUAL = "manual", "Entered by hand"
    IMPORT = "import", "Import"


class Customer(models.Model):
    business = models.ForeignKey(
        "businesses.Business",
        on_delete=models.CASCADE,
        related_name="customers",
        # The unique (business_id, phone_e164) index leads with business_id.
        db_index=False,
    )
    name = models.CharField(max_length=200)
    phone_e164 = models.CharField("phone (E.164)", max_length=16)
    email = models.EmailField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept exact by the database's triggers on leads, calls and messages
    # (crm/triggers.py), whatever writes those rows; a save of this model cannot
    # overwrite them (see the guard). The lead count and the last interaction are the
    # sort keys of the intelligence list's activity orderings (crm/sort_keys.py); the
    # three counts are what its fast path shows (intelligence/json_rows.py), instead of
    # counting a customer's rows per page. Plain integers (no >= 0 check), so that drift
    # from a repaired bug can never block a later write.
    sort_leads_count = models.IntegerField(
        default=0, db_default=0, editable=False, help_text="Sort key: number of leads."
    )
    sort_last_interaction_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Sort key: newest lead, call or WhatsApp message.",
    )
    stored_calls_count = models.IntegerField(
        default=0, db_default=0, editable=False, help_text="Number of calls."
    )
    stored_whatsapp_count = models.IntegerField(
        default=0, db_default=0, editable=False, help_text="Number of WhatsApp messages."
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "customer"
        constraints = [
            models.UniqueConstraint(
                fields=["business", "phone_e164"], name="customer_business_phone_uniq"
            )
        ]
        indexes = [
            # The customer lists' default order (newest first) within a tenant.
            newest_first_index("idx_customer_business_created", "business"),
            # The intelligence list's other orderings, read in order and stopped at the page:
            # each ends in the id, the tie-breaker of its keyset (intelligence/ordering.py).
            NamedIndex(fields=["business", "name", "id"], name="idx_customer_business_name"),
            NamedIndex(
                fields=["business", "-sort_leads_count", "-id"],
                name="idx_customer_business_leads_count",
            ),
            NamedIndex(
                F("business"),
                last_interaction_key().desc(),
                F("id").desc(),
                name="idx_customer_business_last_interaction",
            ),
        ]
        triggers = [
            # A customer stays in its tenant, whoever writes: save(), update(), raw SQL.
            # (A check in save() would miss the last two.)
            db_triggers.read_only_column(
                "customer_business_read_only",
                "business_id",
                "customer % cannot move from business % to %",
                "OLD.id, OLD.business_id, NEW.business_id",
            ),
            # A customer keeps its id: the counts and times on its row describe the rows
            # that point at that id, and the foreign keys are deferred, so a renumbering
            # inside one transaction would otherwise pass with the stored values wrong.
            db_triggers.read_only_column(
                "customer_id_read_only",
                "id",
                "customer % cannot change its id to %",
                "OLD.id, NEW.id",
            ),
            *db_triggers.customer_sort_key_triggers(),
            *db_triggers.derived_data_triggers(
                db_triggers.CUSTOMERS,
                "customer",
                row_level_update="(OLD.business_id, OLD.created_at) IS DISTINCT FROM "
                "(NEW.business_id, NEW.created_at)",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone_e164})"


class Lead(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        ATTEMPTING = "attempting", "Attempting"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        UNQUALIFIED = "unqualified", "Unqualified"

    business = models.ForeignKey(
        "businesses.Business",
        on_delete=models.CASCADE,
        related_name="leads",
        db_column="tenant_id",
        # idx_leads_tenant_status_created leads with tenant_id.
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        # idx_leads_customer_created leads with customer_id.
        db_index=False,
    )
    name = models.CharField(max_length=200, blank=True)
    phone_e164 = models.CharField("phone (E.164)", max_length=16, blank=True)
    email = models.EmailField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "leads"
        indexes = [
            NamedIndex(
                fields=["business", "status", "-created_at"], name="idx_leads_tenant_status_created"
            ),
            # The unfiltered lead list, newest first: the status index cannot give that
            # order without sorting every lead of the tenant.
            newest_first_index("idx_leads_tenant_created", "business"),
            newest_first_index("idx_leads_customer_created", "customer"),
        ]
        triggers = db_triggers.derived_data_triggers(db_triggers.LEADS, "leads")

    def __str__(self) -> str:
        return f"Lead {self.pk} ({self.status})"


class LeadStatusHistory(models.Model):
    class Channel(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"
        CALL = "call", "Phone call"
        WHATSAPP = "whatsapp", "WhatsApp"
        SYSTEM = "system", "System"
        IMPORT = "import", "Import"

    business = models.ForeignKey(
        "businesses.Business",
        on_delete=models.CASCADE,
        related_name="+",
        db_column="tenant_id",
        # Read only through a lead; deleting a whole tenant is rare enough to scan.
        db_index=False,
    )
    lead = models.ForeignKey(
        Lead,
        on_delete=models.CASCADE,
        related_name="status_history",
        # idx_lead_status_history_lead_created leads with lead_id.
        db_index=False,
    )
    old_status = models.CharField(max_length=16, choices=Lead.Status.choices, blank=True)
    new_status = models.CharField(max_length=16, choices=Lead.Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # Only deleting a user looks rows up by it; not worth an index on a hot table.
        db_index=False,
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.API)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "lead_status_history"
        verbose_name_plural = "lead status history"
        indexes = [
            NamedIndex(fields=["lead", "-created_at"], name="idx_lead_status_history_lead_created"),
        ]

    def __str__(self) -> str:
        return f"Lead {self.lead_id}: {self.old_status or '-'} -> {self.new_status}"


class Direction(models.TextChoices):
    """Whether the customer (inbound) or the business (outbound) started it."""

    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class CallLog(models.Model):
    Direction = Direction

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RINGING = "ringing", "Ringing"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        BUSY = "busy", "Busy"
        NO_ANSWER = "no_answer", "No answer"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    business = models.ForeignKey(
        "businesses.Business",
        on_delete=models.CASCADE,
        related_name="calls",
        # idx_call_log_business_status_created leads with business_id.
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        db_index=False,  # idx_call_log_customer_created leads with customer_id.
    )
    call_sid = models.CharField(
        max_length=64, help_text="The telephony provider's id for the call."
    )
    from_number = models.CharField(max_length=16)
    to_number = models.CharField(max_length=16)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    duration = models.PositiveIntegerField(default=0, help_text="Seconds.")
    summary = models.TextField(blank=True, help_text="AI summary of the call, when processed.")
    transcript = models.TextField(blank=True)
    recording_url = models.URLField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "call_log"
        constraints = [
            # Unique within the tenant, not across tenants: a tenant must neither learn
            # that another holds an id nor be able to squat one (a provider's ids are
            # only as unique as each tenant's own account makes them). It also keeps
            # the tenant column in every unique key (a distributed, sharded table).
            models.UniqueConstraint(
                fields=["business", "call_sid"], name="call_log_business_call_sid_uniq"
            ),
        ]
        indexes = [
            NamedIndex(
                fields=["business", "status", "-created_at"],
                name="idx_call_log_business_status_created",
            ),
            # The unfiltered call list, newest first (see idx_leads_tenant_created).
            newest_first_index("idx_call_log_business_created", "business"),
            newest_first_index("idx_call_log_customer_created", "customer"),
        ]
        triggers = db_triggers.derived_data_triggers(db_triggers.CALLS, "call_log")

    def __str__(self) -> str:
        return f"Call {self.call_sid}"


class WhatsAppMessage(models.Model):
    Direction = Direction

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"

    business = models.ForeignKey(
        "businesses.Business",
        on_delete=models.CASCADE,
        related_name="whatsapp_messages",
        # idx_whatsapp_message_business_to_created leads with business_id.
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="whatsapp_messages",
        db_index=False,  # idx_whatsapp_message_customer_created leads with customer_id.
    )
    provider_message_id = models.CharField(
        max_length=128, help_text="The WhatsApp provider's id; ingestion is idempotent on it."
    )
    to_number = models.CharField(
        max_length=16,
        help_text="The customer's WhatsApp number in E.164: the conversation key, "
        "for inbound and outbound messages alike.",
    )
    direction = models.CharField(max_length=16, choices=Direction.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    body = models.TextField(blank=True)
    ai_generated = models.BooleanField(
        default=False, help_text="Written or answered by the AI assistant."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "whatsapp_message"
        verbose_name = "WhatsApp message"
        verbose_name_plural = "WhatsApp messages"
        constraints = [
            models.UniqueConstraint(
                fields=["business", "provider_message_id"],
                name="whatsapp_message_business_provider_id_uniq",
            )
        ]
        indexes = [
            NamedIndex(
                fields=["business", "to_number", "-created_at"],
                name="idx_whatsapp_message_business_to_created",
            ),
            newest_first_index("idx_whatsapp_message_customer_created", "customer"),
        ]
        triggers = db_triggers.derived_data_triggers(db_triggers.WHATSAPP, "whatsapp_message")

    def __str__(self) -> str:
        return f"WhatsApp {self.provider_message_id}"


# --- Tenant statistics counters, kept by the triggers of crm/triggers.py ----------------


def _counter() -> models.BigIntegerField:
    return models.BigIntegerField(default=0, db_default=0)


class TenantStatsCounter(models.Model):
    """One of a tenant's ``STATS_SLOTS`` rows of running totals; the totals are the sums.

    Written only by the triggers (and repaired by ``manage.py customer_sort_keys --fix``).
    No foreign-key constraint to ``business``: the triggers add to these rows while a
    business's rows are deleted, in whatever order Django's collector picks, so a
    constraint would fail the deletion; rows of a deleted business are removed by --fix.
    """

    pk = models.CompositePrimaryKey("business", "slot")
    business = models.ForeignKey(
        "businesses.Business",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,  # the primary key leads with business_id
    )
    slot = models.SmallIntegerField()
    customers = _counter()
    leads = _counter()
    leads_from_calls = _counter()
    leads_converted_from_calls = _counter()
    leads_from_whatsapp = _counter()
    leads_converted_from_whatsapp = _counter()
    leads_meeting_ready = _counter()
    calls = _counter()
    calls_ai_processed = _counter()
    whatsapp = _counter()
    whatsapp_ai_processed = _counter()

    class Meta:
        db_table = "tenant_stats_counter"

    def __str__(self) -> str:
        return f"Counters of business {self.business_id}, slot {self.slot}"


class TenantStatsBucket(models.Model):
    """New customers and leads of a tenant per 15 minutes of their ``created_at`` (UTC).

    "Today" in any time zone is a range of these buckets (see crm/triggers.py). Split in
    slots like the totals, so that concurrent inserts of the current quarter hour do not
    queue on one row.
    """

    pk = models.CompositePrimaryKey("business", "bucket_start", "slot")
    business = models.ForeignKey(
        "businesses.Business",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,  # the primary key leads with business_id
    )
    bucket_start = models.DateTimeField()
    slot = models.SmallIntegerField()
    customers = _counter()
    leads = _counter()

    class Meta:
        db_table = "tenant_stats_bucket"

    def __str__(self) -> str:
        return f"New rows of business {self.business_id} from {self.bucket_start}, slot {self.slot}"
