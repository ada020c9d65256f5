"""The Prometheus side of a request: the middleware that records it, and ``/metrics``.

``/metrics`` answers a client that sends ``Authorization: Bearer <METRICS_TOKEN>``
or connects from one of ``METRICS_ALLOWED_NETWORKS`` (default: loopback only), and
nobody else. Under gunicorn with ``PROMETHEUS_MULTIPROC_DIR`` set it adds up the
series of every worker (prosaas/metrics.py).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from prosaas import metrics
from prosaas.query_metrics import view_name


class PrometheusMiddleware:
    """Observes each request's latency by view and status, and its SQL by view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        try:
            counter = getattr(request, "query_counter", None)
            metrics.observe_request(
                view=view_name_for_metrics(request),
                status=response.status_code,
                seconds=time.perf_counter() - start,
                queries=counter.count if counter is not None else None,
                sql_seconds=counter.seconds if counter is not None else None,
            )
            if response.status_code == 503:
                metrics.record_503(metrics.cause_of_503(response))
            metrics.sample_state()
        except Exception:  # never let a metric break an answer
            metrics.logger.exception("Recording the request's metrics failed")
        return response


def view_name_for_metrics(request: HttpRequest) -> str:
    # view_name() puts the path in when no view matched; a label must stay bounded.
    if getattr(request, "resolver_match", None) is None:
        return "(no view)"
    return view_name(request)


def _client_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").strip(), token)
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Every series in Prometheus' text format (GET /metrics)."""
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"detail": "Use GET."}, status=405, headers={"Allow": "GET, HEAD"})
    if not _client_allowed(request):
        return JsonResponse(
            {
                "detail": "Send Authorization: Bearer <METRICS_TOKEN>, or scrape from a "
                "network in METRICS_ALLOWED_NETWORKS.",
                "code": "metrics_forbidden",
            },
            status=403,
        )
    metrics.sample_state(force=True)
    metrics.sample_index_validity()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
