"""Slow SQL statements: logged once each, with the view, duration and normalised SQL.

A statement slower than ``SLOW_QUERY_MS`` (default 100 ms, the original change's
threshold) is logged as a warning on ``prosaas.slow_queries`` and counted in
``prosaas_db_slow_queries_total{view}``. The SQL is normalised (literals and
parameter lists collapsed) so that log lines of the same statement group together
and no customer data is written to the logs.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger("prosaas.slow_queries")

MAX_SQL_CHARS = 2000

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w$.])-?\d+(?:\.\d+)?\b")
_LIST = re.compile(r"\(\s*(?:%s|\?)(?:\s*,\s*(?:%s|\?))+\s*\)")
_SPACE = re.compile(r"\s+")


def normalise_sql(sql: str) -> str:
    """``... WHERE id IN (%s, %s, %s) AND name = 'Bob'`` -> ``... IN (...) AND name = ?``."""
    text = _STRING.sub("?", sql)
    text = _NUMBER.sub("?", text)
    text = _LIST.sub("(...)", text)
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= MAX_SQL_CHARS else text[:MAX_SQL_CHARS] + " …"


def report_slow_query(*, view: str, seconds: float, sql: str, threshold_ms: int) -> None:
    from prosaas.metrics import SLOW_QUERIES

    SLOW_QUERIES.labels(view=view).inc()
    logger.warning(
        "Slow SQL (%.1f ms, over SLOW_QUERY_MS=%d) in view %s: %s",
        seconds * 1000,
        threshold_ms,
        view,
        normalise_sql(sql),
    )
