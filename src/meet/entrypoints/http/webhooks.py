from __future__ import annotations

from typing import Any

from dishka.integrations.litestar import FromDishka
from litestar import Controller, Request, post

from meet.domain.conference.webhooks import ReceiveSfuEvent, SfuDelivery


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post("/livekit", status_code=200, summary="LiveKit webhook (signed JWT in Authorization, over the raw body)")
    async def livekit(self, request: Request[Any, Any, Any], receive: FromDishka[ReceiveSfuEvent]) -> dict[str, str]:
        event = await receive.execute(SfuDelivery(await request.body(), request.headers.get("authorization")))
        return {"status": "ok", "event": event.kind}
