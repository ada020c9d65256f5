"""The product's URLs plus the bench-only baselines (used by ``bench.settings``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from bench.baselines.aggregated import aggregated_unavailable_reason, aggregated_view
from bench.baselines.n_plus_one import NPlusOneCustomerIntelligenceView
from bench.baselines.slow_request import HoldConnectionView
from prosaas.urls import urlpatterns as product_urlpatterns

N_PLUS_ONE_PATH = "/bench/baselines/n-plus-one/customers/"
AGGREGATED_PATH = "/bench/baselines/aggregated/customers/"
HOLD_CONNECTION_PATH = "/bench/hold-connection/"

urlpatterns: list[URLPattern | URLResolver] = [
    *product_urlpatterns,
    path(N_PLUS_ONE_PATH.lstrip("/"), NPlusOneCustomerIntelligenceView.as_view()),
    path(HOLD_CONNECTION_PATH.lstrip("/"), HoldConnectionView.as_view()),
]
if aggregated_unavailable_reason() is None:
    urlpatterns.append(path(AGGREGATED_PATH.lstrip("/"), aggregated_view()))
