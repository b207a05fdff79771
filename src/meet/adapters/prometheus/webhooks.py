"""Webhook attempts in the logs and the metrics (never a secret, a signature or a payload)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from prometheus_client import Counter, Histogram

from meet.domain.webhooks.model import Delivery, WebhookEndpoint

logger = logging.getLogger("meet.webhooks")


class PrometheusWebhookReporter:
    def __init__(self, attempts: Counter, delay: Histogram, disabled: Counter) -> None:
        self._attempts = attempts
        self._delay = delay
        self._disabled = disabled

    def attempted(self, delivery: Delivery, outcome: str, delay_seconds: float) -> None:
        self._attempts.labels(outcome=outcome).inc()
        if outcome == "delivered":
            self._delay.observe(max(0.0, delay_seconds))
        else:
            logger.info(
                "webhook %s (%s) to endpoint %s: attempt %d failed",
                delivery.event_id,
                delivery.event_type,
                delivery.endpoint_id,
                delivery.attempts,
            )

    def endpoint_disabled(self, endpoint: WebhookEndpoint, reason: str) -> None:
        self._disabled.inc()
        # The host only: an operator's URL may carry a token in its path or query.
        host = urlsplit(endpoint.url).hostname
        logger.error("webhook endpoint %s (host %s) disabled: %s", endpoint.id, host, reason)
