"""Prometheus metrics, one registry per app so several services can share a process."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests handled", ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds", "HTTP request latency", ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.events_published = Counter(
            "events_published_total", "Events published from the outbox", ["type"],
            registry=self.registry,
        )
        self.events_consumed = Counter(
            "events_consumed_total", "Events handled by this service's consumer",
            ["type", "outcome"], registry=self.registry,
        )
        self.events_failed = Counter(
            "events_failed_total", "Event handler failures (each retry counts)", ["type"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "outbox_backlog", "Outbox rows not yet published", registry=self.registry
        )
        self.outbox_oldest_age = Gauge(
            "outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router
