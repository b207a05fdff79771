from __future__ import annotations

from typing import Any

from dishka.integrations.litestar import FromDishka
from litestar import Controller, Request, post

from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.domain.conference.webhooks import ReceiveSfuEvent, SfuDelivery
from meet.entrypoints.http.bearer import OWN_CREDENTIAL, needs


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post(
        "/livekit",
        status_code=200,
        summary="LiveKit webhook (signed JWT in Authorization, over the raw body)",
        **needs(OWN_CREDENTIAL),
    )
    async def livekit(
        self,
        request: Request[Any, Any, Any],
        receive: FromDishka[ReceiveSfuEvent],
        metrics: FromDishka[PrometheusMetrics],
    ) -> dict[str, str]:
        with metrics.webhook_delivery("livekit") as delivery:
            [event] = await receive.execute(
                SfuDelivery(await request.body(), request.headers.get("authorization"), provider="livekit")
            )
            delivery.events = [event.kind]
        return {"status": "ok", "event": event.kind}

    @post(
        "/janus",
        status_code=200,
        summary="Janus HTTP event handler (basic auth; one event or an array)",
        **needs(OWN_CREDENTIAL),
    )
    async def janus(
        self,
        request: Request[Any, Any, Any],
        receive: FromDishka[ReceiveSfuEvent],
        metrics: FromDishka[PrometheusMetrics],
    ) -> dict[str, Any]:
        with metrics.webhook_delivery("janus") as delivery:
            events = await receive.execute(
                SfuDelivery(await request.body(), request.headers.get("authorization"), provider="janus")
            )
            delivery.events = [event.kind for event in events]
        return {"status": "ok", "events": [event.kind for event in events]}
