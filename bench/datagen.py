"""Benchmark data, generated inside PostgreSQL.

Rows are made by ``INSERT ... SELECT`` over ``generate_series``: the server builds
them without a round trip per row, about a hundred times faster than ORM saves. The
data is deterministic in shape (sizes, densities, the whale) and seeded for the rest.

Each tenant is recorded in the ``bench_dataset`` table (the bench's own, outside the
app's migrations) once it is complete, with a fingerprint of its spec. A later run
reuses a tenant whose fingerprint matches and whose business still exists, and
reloads one that changed or was interrupted half-way.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token
from tqdm import tqdm

from bench.database import check_is_bench_database
from bench.scales import Scale, TenantSpec
from businesses.models import Business, Membership
from businesses.services import business_create

logger = logging.getLogger("bench")


def _quiet(line: str) -> None:
    pass


# Bump when the generated rows change shape, so that old data is reloaded.
GENERATOR_VERSION = 2
CHUNK_ROWS = 50_000
# Loads at least this big drop the plain indexes first and rebuild them at the end.
BULK_LOAD_ROWS = 1_000_000
HISTORY_SPAN = timedelta(days=730)

INDEX_BACKUP_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_index_backup (name text PRIMARY KEY, definition text NOT NULL)
"""

MARKER_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_dataset (
    slug text PRIMARY KEY,
    fingerprint text NOT NULL,
    business_id bigint NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    load_seconds double precision NOT NULL,
    sort_keys_recomputed boolean NOT NULL DEFAULT false
)
"""

# The tables a tenant's rows live in, children first (the order to delete them in).
TENANT_TABLES = (
    ("lead_status_history", "tenant_id"),
    ("leads", "tenant_id"),
    ("call_log", "business_id"),
    ("whatsapp_message", "business_id"),
    ("customer", "business_id"),
)
CRM_TABLES = ("customer", "leads", "lead_status_history", "call_log", "whatsapp_message")


@dataclass(frozen=True)
class Tenant:
    """A loaded tenant: what the scenarios need to make requests as its owner."""

    spec: TenantSpec
    business_id: int
    token: str
    whale_customer_id: int | None

    @property
    def slug(self) -> str:
        return self.spec.slug


@dataclass(frozen=True)
class Dataset:
    scale: Scale
    tenants: dict[str, Tenant]
    generated: list[str]  # slugs loaded by this run (the others were reused)
    load_seconds: float

    @property
    def main(self) -> Tenant:
        return self.tenants[self.scale.main.slug]


def fingerprint(spec: TenantSpec) -> str:
    text = f"v{GENERATOR_VERSION}:{sorted(asdict(spec).items())}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_dataset(
    scale: Scale,
    *,
    progress: bool = True,
    regenerate: bool = False,
    log: Callable[[str], None] = _quiet,
) -> Dataset:
    """Load every tenant of ``scale`` that is not already there, then ANALYZE.

    ``progress`` draws progress bars (for a terminal); ``log`` gets a line per step.
    """
    check_is_bench_database()
    with connection.cursor() as cursor:
        cursor.execute(MARKER_TABLE_SQL)
    restore_secondary_indexes()  # after a load that was killed half-way
    started = timezone.now()
    business_ids = {spec.slug: None if regenerate else _reusable(spec) for spec in scale.tenants}
    missing = [spec for spec in scale.tenants if business_ids[spec.slug] is None]
    if regenerate and _only_these_tenants_loaded(scale):
        _truncate_all()  # the fast way, when no other scale's tenants would go with them
    else:
        for spec in missing:  # while the indexes are there to find their rows
            _drop_tenant(spec.slug)
    bulk = sum(spec.approximate_rows for spec in missing) >= BULK_LOAD_ROWS
    with secondary_indexes_dropped(enabled=bulk, progress=progress):
        for spec in missing:
            log(f"loading {spec.slug} (~{spec.approximate_rows:,} rows)")
            index = scale.tenants.index(spec)
            business_ids[spec.slug] = _load_tenant(spec, tenant_index=index, progress=progress)
        if bulk:
            log("rebuilding the indexes")
    tenants: dict[str, Tenant] = {}
    for spec in scale.tenants:
        business_id = business_ids[spec.slug]
        assert business_id is not None
        tenants[spec.slug] = Tenant(
            spec=spec,
            business_id=business_id,
            token=_owner_token(spec.slug, business_id),
            whale_customer_id=_whale_id(business_id) if spec.whale_calls else None,
        )
    if recompute_sort_keys(tenants.values()) or missing:
        log("VACUUM ANALYZE")
        vacuum_analyze()
    seconds = (timezone.now() - started).total_seconds()
    generated = [spec.slug for spec in missing]
    return Dataset(scale=scale, tenants=tenants, generated=generated, load_seconds=seconds)


@contextmanager
def secondary_indexes_dropped(*, enabled: bool, progress: bool) -> Iterator[None]:
    """Drop the CRM tables' plain indexes for a big load and rebuild them afterwards.

    Building an index once over the loaded table is several times faster than keeping
    it current row by row. The definitions are saved in ``bench_index_backup`` first,
    so a load that is killed half-way is repaired by the next run (see
    ``restore_secondary_indexes``). Indexes behind constraints (primary keys, unique
    constraints) stay: the load relies on them.
    """
    if not enabled:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INDEX_BACKUP_TABLE_SQL)
        cursor.execute(
            """
            INSERT INTO bench_index_backup (name, definition)
            SELECT i.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ON CONFLICT (name) DO NOTHING
            RETURNING name
            """,
            [list(CRM_TABLES)],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        restore_secondary_indexes(progress=progress)


def restore_secondary_indexes(*, progress: bool = False) -> None:
    """Rebuild every index saved by ``secondary_indexes_dropped`` that is missing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_index_backup') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return
        cursor.execute("SELECT name, definition FROM bench_index_backup ORDER BY name")
        saved = cursor.fetchall()
    for name, definition in tqdm(saved, desc="rebuilding indexes", disable=not progress):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NULL", [f'"{name}"'])
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                cursor.execute(definition)
            cursor.execute("DELETE FROM bench_index_backup WHERE name = %s", [name])


def vacuum_analyze() -> None:
    """Fresh statistics for the planner, and a visibility map for index-only scans.

    Production tables are vacuumed by autovacuum; freshly loaded ones are not yet, and
    without it every count would visit the heap and every plan would be guessed.
    """
    with connection.cursor() as cursor:
        for table in CRM_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")


def _reusable(spec: TenantSpec) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.business_id FROM bench_dataset d JOIN business b ON b.id = d.business_id "
            "WHERE d.slug = %s AND d.fingerprint = %s AND b.slug = %s "
            "AND (SELECT count(*) FROM customer c WHERE c.business_id = d.business_id) = %s",
            [spec.slug, fingerprint(spec), spec.slug, spec.customers],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _drop_tenant(slug: str) -> None:
    """Remove a tenant left by an older or interrupted load, rows first (faster than CASCADE)."""
    business = Business.objects.filter(slug=slug).first()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_dataset WHERE slug = %s", [slug])
        if business is None:
            return
        for table, column in TENANT_TABLES:
            cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [business.pk])
        business.delete()


def _only_these_tenants_loaded(scale: Scale) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT slug FROM business")
        slugs = {slug for (slug,) in cursor.fetchall()}
    return slugs <= {spec.slug for spec in scale.tenants}


def _truncate_all() -> None:
    """Empty the bench database's tenants and CRM rows (users and tokens stay)."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE bench_dataset")
        cursor.execute("TRUNCATE business CASCADE")
        # The statistics counters have no foreign key to business (crm/models.py), and
        # TRUNCATE fires no trigger: empty them with it, where this checkout has them.
        cursor.execute(
            "SELECT to_regclass('tenant_stats_counter') IS NOT NULL"
            " AND to_regclass('tenant_stats_bucket') IS NOT NULL"
        )
        if cursor.fetchone()[0]:
            cursor.execute("TRUNCATE tenant_stats_counter, tenant_stats_bucket")


def _owner_token(slug: str, business_id: int) -> str:
    """The tenant owner's API token (the user is created once and kept)."""
    user, _ = get_user_model().objects.get_or_create(
        username=f"{slug}-owner", defaults={"email": f"owner@{slug}.example"}
    )
    Membership.objects.get_or_create(
        user=user, business_id=business_id, defaults={"role": Membership.Role.OWNER}
    )
    return Token.objects.get_or_create(user=user)[0].key


def _whale_id(business_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_id FROM call_log WHERE business_id = %s "
            "GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1",
            [business_id],
        )
        return cursor.fetchone()[0]


def recompute_sort_keys(tenants: Iterable[Tenant]) -> int:
    """Bring the customers' stored sort keys up to date after a bulk load.

    The product keeps ``leads_count`` and the last interaction on each customer row
    (``crm.activity``) through signals, which raw INSERTs bypass. Each tenant is
    recomputed once, and marked so in ``bench_dataset``; a tenant loaded before the
    product had sort keys is caught up on the next run. Returns how many tenants were
    recomputed (0 as well when this checkout has no sort keys).
    """
    try:
        from crm.activity import recompute_sort_keys as recompute
    except ImportError:
        return 0
    recomputed = 0
    for tenant in tenants:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sort_keys_recomputed FROM bench_dataset WHERE slug = %s", [tenant.slug]
            )
            row = cursor.fetchone()
        if row and row[0]:
            continue
        recompute(business_id=tenant.business_id)
        recomputed += 1
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE bench_dataset SET sort_keys_recomputed = true WHERE slug = %s",
                [tenant.slug],
            )
    return recomputed


# --- loading one tenant -------------------------------------------------------------------


def _load_tenant(spec: TenantSpec, *, tenant_index: int, progress: bool) -> int:
    started = timezone.now()
    business = business_create(name=f"Bench {spec.slug}", slug=spec.slug, time_zone="UTC")
    now = timezone.now().replace(microsecond=0)
    bar = tqdm(
        total=spec.approximate_rows,
        desc=f"{spec.slug:>20}",
        unit=" rows",
        unit_scale=True,
        disable=not progress,
        leave=True,
    )
    loader = _TenantLoader(spec, business.pk, tenant_index, now, bar)
    loader.load()
    bar.total = bar.n
    bar.close()
    seconds = (timezone.now() - started).total_seconds()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_dataset (slug, fingerprint, business_id, load_seconds) "
            "VALUES (%s, %s, %s, %s)",
            [spec.slug, fingerprint(spec), business.pk, seconds],
        )
    logger.info("loaded %s in %.1fs", spec.slug, seconds)
    return business.pk


def _chunks(total: int, size: int = CHUNK_ROWS) -> Iterator[tuple[int, int]]:
    for start in range(1, total + 1, size):
        yield start, min(start + size - 1, total)


class _TenantLoader:
    """Writes one tenant's rows, table by table, in chunks (one transaction each)."""

    def __init__(
        self, spec: TenantSpec, business_id: int, tenant_index: int, now: datetime, bar: tqdm
    ) -> None:
        self.spec = spec
        self.params = {
            "b": business_id,
            "slug": spec.slug,
            "n": spec.customers,
            "now": now,
            "span": HISTORY_SPAN.total_seconds(),
            # A block of a million numbers per tenant: unique within the tenant (the
            # constraint) and distinct across tenants (more like real data).
            "phone_base": 2_125_000_000 + tenant_index * 1_000_000,
            "line": f"+1212555{tenant_index:04d}",
            "seed": (tenant_index + 1) / 1000,
        }
        self.bar = bar

    def load(self) -> None:
        self._run(CUSTOMERS_SQL, self.spec.customers)
        if self.spec.whale_calls:
            self._place_whale()
        self._build_customer_map()
        try:
            self._run(LEADS_SQL, self.spec.leads)
            self._history()
            self._run(CALLS_SQL, self.spec.customers * self.spec.calls_per_customer)
            if self.spec.whale_calls:
                offset = self.spec.customers * self.spec.calls_per_customer
                self._run(WHALE_CALLS_SQL, self.spec.whale_calls, offset=offset)
            self._run(MESSAGES_SQL, self.spec.messages)
        finally:
            # The connection goes back to the pool: leave nothing of ours in its session.
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS bench_customer_map")

    def _run(self, sql: str, total: int, *, offset: int = 0) -> None:
        params = dict(self.params)
        for first, last in _chunks(total):
            with transaction.atomic(), connection.cursor() as cursor:
                # Only this transaction's commit waits less; a lost load is simply redone.
                cursor.execute("SET LOCAL synchronous_commit = off")
                cursor.execute("SELECT setseed(%s)", [(self.params["seed"] + first / 1e7) % 1])
                cursor.execute(
                    with_unlisted_defaults(sql, params),
                    {**params, "first": first + offset, "last": last + offset},
                )
                self.bar.update(cursor.rowcount)

    def _place_whale(self) -> None:
        # The whale becomes the customer at whale_position in the newest-first order.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE customer SET name = 'Whale Wholesale Ltd', source = 'import' "
                "WHERE id = (SELECT id FROM customer WHERE business_id = %s "
                "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1)",
                [self.params["b"], self.spec.whale_position - 1],
            )

    def _build_customer_map(self) -> None:
        # Numbered customers, so that generated rows can pick one by number with a join.
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_customer_map")
            cursor.execute(
                "CREATE TEMP TABLE bench_customer_map AS "
                "SELECT row_number() OVER (ORDER BY id) AS rn, id, phone_e164, created_at "
                "FROM customer WHERE business_id = %s",
                [self.params["b"]],
            )
            cursor.execute("CREATE UNIQUE INDEX ON bench_customer_map (rn)")
            cursor.execute("ANALYZE bench_customer_map")

    def _history(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT min(id), max(id) FROM leads WHERE tenant_id = %s", [self.params["b"]]
            )
            low, high = cursor.fetchone()
        if low is None:
            return
        step = CHUNK_ROWS // 2  # about 2.3 history rows per lead
        for first in range(low, high + 1, step):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
                params = {**self.params, "first": first, "last": first + step - 1}
                cursor.execute(with_unlisted_defaults(HISTORY_SQL, params), params)
                self.bar.update(cursor.rowcount)


def with_unlisted_defaults(sql: str, params: dict[str, Any]) -> str:
    """Fill ``{extra_columns}``/``{extra_values}`` with the columns the SQL does not name.

    The generator names the columns it makes up; a column the product adds later (the
    customers' sort keys, say) is NOT NULL with a Python-side default that the
    database does not know. Such columns get their model default here, as a parameter,
    so the generator keeps working as the schema grows. (Sort keys are recomputed
    after the load.)
    """
    match = re.search(r"INSERT INTO (\w+) \(([^)]*?)\{extra_columns\}\)", sql, re.S)
    if match is None:
        raise ValueError("generator SQL without an {extra_columns} placeholder")
    table, listed = match[1], {c.strip() for c in match[2].split(",") if c.strip()}
    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in listed:
            continue
        if not field.has_default():
            if field.null:
                continue
            raise ValueError(f"The bench generator does not fill {table}.{field.column}.")
        name = f"default_{field.column}"
        params[name] = field.get_default()
        columns.append(field.column)
        values.append(f"%({name})s")
    return sql.format(
        extra_columns="".join(f", {c}" for c in columns),
        extra_values="".join(f", {v}" for v in values),
    )


# --- the SQL --------------------------------------------------------------------------------
#
# Customers are spread evenly over the last two years, newer ids newer. Each generated
# lead, call and message picks a customer by number: random()^1.6 skews the choice so a
# few customers have many rows and many have few, and multiplying by a prime larger than
# any tenant scatters the busy customers over the id range instead of the oldest ones.
# Timestamps fall between the customer's creation and now. Provider ids (call_sid,
# provider_message_id) count up within a tenant: their unique indexes then grow at the
# right edge, where random ids (md5) made every insert a random index page write.

CUSTOMERS_SQL = """
INSERT INTO customer (business_id, name, phone_e164, email, source, notes, created_at, updated_at
                      {extra_columns})
SELECT %(b)s,
       (ARRAY['Noa','Yossi','Maya','Amir','Tamar','Daniel','Shira','Omer','Lior','Roni',
              'Emma','Oliver','Amelia','George','Isla','Harry','Ava','Jack','Mia','Leo'])[1 + i %% 20]
       || ' ' ||
       (ARRAY['Cohen','Levi','Mizrahi','Peretz','Katz','Smith','Jones','Taylor','Brown',
              'Wilson','Evans','Garcia','Miller','Davis','Clark','Lewis','Walker'])[1 + (i * 7) %% 17],
       '+1' || (%(phone_base)s + i)::text,
       CASE WHEN i %% 10 < 7 THEN 'customer' || i || '@' || %(slug)s || '.example' ELSE '' END,
       (ARRAY['call','whatsapp','web','referral','manual','import'])[1 + (i * 31) %% 6],
       '',
       ts, ts
       {extra_values}
FROM generate_series(%(first)s, %(last)s) AS i
CROSS JOIN LATERAL (
    SELECT %(now)s::timestamptz
           - make_interval(secs => (%(n)s - i + random()) * %(span)s / %(n)s) AS ts
) t
"""

_PICK_CUSTOMER = """
FROM (
    SELECT g, random() AS r1, random() AS r2, random() AS r3,
           1 + (floor(%(n)s * power(random(), 1.6))::bigint * 1000003) %% %(n)s AS rn
    FROM generate_series(%(first)s, %(last)s) AS g
) s
JOIN bench_customer_map m USING (rn)
CROSS JOIN LATERAL (SELECT m.created_at + (%(now)s::timestamptz - m.created_at) * s.r1 AS ts) t
"""

LEADS_SQL = (
    """
INSERT INTO leads (tenant_id, customer_id, name, phone_e164, email, source, status, notes,
                   created_at, updated_at {extra_columns})
SELECT %(b)s, m.id, 'Lead ' || s.g, m.phone_e164, '',
       (ARRAY['call','whatsapp','web','referral','manual','import'])[1 + floor(s.r3 * 6)::int],
       CASE WHEN s.r2 < 0.30 THEN 'new'
            WHEN s.r2 < 0.45 THEN 'attempting'
            WHEN s.r2 < 0.65 THEN 'contacted'
            WHEN s.r2 < 0.75 THEN 'qualified'
            WHEN s.r2 < 0.80 THEN 'won'
            WHEN s.r2 < 0.92 THEN 'lost'
            ELSE 'unqualified' END,
       CASE WHEN s.r3 < 0.3 THEN 'Prefers mornings.' ELSE '' END,
       t.ts, t.ts
       {extra_values}
"""
    + _PICK_CUSTOMER
)

# The status walk that ends in each lead's status, one row per step, a few hours apart.
HISTORY_SQL = """
INSERT INTO lead_status_history (tenant_id, lead_id, old_status, new_status, channel, reason,
                                 created_at {extra_columns})
SELECT l.tenant_id, l.id, coalesce(p.walk[k - 1], ''), p.walk[k],
       CASE WHEN k = 1 THEN 'system' ELSE (ARRAY['call','whatsapp','api'])[1 + (l.id + k) %% 3] END,
       '', l.created_at + make_interval(hours => 5 * (k - 1))
       {extra_values}
FROM leads l
CROSS JOIN LATERAL (
    SELECT CASE l.status
        WHEN 'new' THEN ARRAY['new']
        WHEN 'attempting' THEN ARRAY['new','attempting']
        WHEN 'contacted' THEN ARRAY['new','contacted']
        WHEN 'qualified' THEN ARRAY['new','contacted','qualified']
        WHEN 'won' THEN ARRAY['new','contacted','qualified','won']
        WHEN 'lost' THEN ARRAY['new','attempting','lost']
        ELSE ARRAY['new','contacted','unqualified'] END AS walk
) p
CROSS JOIN LATERAL generate_series(1, cardinality(p.walk)) AS k
WHERE l.tenant_id = %(b)s AND l.id BETWEEN %(first)s AND %(last)s
"""

_CALL_COLUMNS = """
INSERT INTO call_log (business_id, customer_id, call_sid, from_number, to_number, direction,
                      status, duration, summary, transcript, recording_url, created_at, updated_at
                      {extra_columns})
"""

# 70% completed, 15% no answer, 7% busy, 3% failed, the rest spread over the others.
_CALL_VALUES = """
SELECT %(b)s, m.id, 'CA' || left(md5(%(slug)s), 8) || lpad(s.g::text, 24, '0'),
       CASE WHEN s.r3 < 0.6 THEN m.phone_e164 ELSE %(line)s END,
       CASE WHEN s.r3 < 0.6 THEN %(line)s ELSE m.phone_e164 END,
       CASE WHEN s.r3 < 0.6 THEN 'inbound' ELSE 'outbound' END,
       st.status,
       CASE WHEN st.status = 'completed' THEN 20 + floor(s.r3 * 880)::int ELSE 0 END,
       CASE WHEN st.status = 'completed' AND s.r3 < 0.5 THEN 'Customer asked for a quote.'
            ELSE '' END,
       '', '', t.ts, t.ts
       {extra_values}
"""

_CALL_STATUS = """
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.r2 < 0.70 THEN 'completed'
                WHEN s.r2 < 0.85 THEN 'no_answer'
                WHEN s.r2 < 0.92 THEN 'busy'
                WHEN s.r2 < 0.95 THEN 'failed'
                WHEN s.r2 < 0.97 THEN 'canceled'
                WHEN s.r2 < 0.98 THEN 'queued'
                WHEN s.r2 < 0.99 THEN 'ringing'
                ELSE 'in_progress' END AS status
) st
"""

CALLS_SQL = _CALL_COLUMNS + _CALL_VALUES + _PICK_CUSTOMER + _CALL_STATUS

# The whale's calls: the same rows, all for one customer.
WHALE_CALLS_SQL = (
    _CALL_COLUMNS
    + _CALL_VALUES
    + """
FROM (
    SELECT g, random() AS r1, random() AS r2, random() AS r3
    FROM generate_series(%(first)s, %(last)s) AS g
) s
CROSS JOIN (
    SELECT id, phone_e164, created_at FROM customer
    WHERE business_id = %(b)s AND name = 'Whale Wholesale Ltd'
) m
-- An imported account: its calls go back over the whole history, not just its own age.
CROSS JOIN LATERAL (SELECT %(now)s::timestamptz - make_interval(secs => %(span)s * s.r1) AS ts) t
"""
    + _CALL_STATUS
)

MESSAGES_SQL = (
    """
INSERT INTO whatsapp_message (business_id, customer_id, provider_message_id, to_number,
                              direction, status, body, ai_generated, created_at {extra_columns})
SELECT %(b)s, m.id, 'wamid.' || %(slug)s || '.' || lpad(s.g::text, 12, '0'), m.phone_e164,
       CASE WHEN s.r2 < 0.5 THEN 'inbound' ELSE 'outbound' END,
       CASE WHEN s.r2 < 0.5 THEN 'received'
            WHEN s.r2 < 0.7 THEN 'read'
            WHEN s.r2 < 0.9 THEN 'delivered'
            WHEN s.r2 < 0.98 THEN 'sent'
            ELSE 'failed' END,
       (ARRAY['Hi, is anyone available today?','Thanks, see you then!',
              'Can you send the price?','What time works for you?',
              'Great, booked.','Our technician will call you shortly.'])[1 + floor(s.r3 * 6)::int],
       s.r2 >= 0.5 AND s.r3 < 0.6,
       t.ts
       {extra_values}
"""
    + _PICK_CUSTOMER
)
