"""The old fix of the intelligence page: counts by GROUP BY, latest rows by ROW_NUMBER.

The queries themselves live with the product (``intelligence.aggregated``), which keeps
them as the reference the one-query version is checked against; this view only serves
them under the bench's URLs so they can be timed through the same stack.
"""

from __future__ import annotations

import importlib.util


def aggregated_unavailable_reason() -> str | None:
    """None when the aggregated formulation can be measured, else why it cannot."""
    if importlib.util.find_spec("intelligence.aggregated") is None:
        return "intelligence.aggregated (the 5–7-query formulation) is not in this checkout yet."
    return "the bench view over intelligence.aggregated is not wired yet."
