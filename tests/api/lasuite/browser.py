"""A browser, as far as these tests need one: a cookie jar (every cookie the API sets, sent back by name,
several of one name included) in front of a real ``meet serve`` process, so polls can be held while
other requests run."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.janus import until


@dataclass
class Browser:
    http: httpx.AsyncClient
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)

    async def sign_in(self, sub: str) -> dict[str, Any]:
        response = await self.request("POST", "/api/v1/auth/dev-login", json={"sub": sub, "full_name": sub.title()})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        jar = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        headers = {**({"Cookie": jar} if jar else {}), **kwargs.pop("headers", {})}
        response = await self.http.request(method, url, headers=headers, **kwargs)
        self.http.cookies.clear()
        for line in response.headers.get_list("set-cookie"):
            self.set_cookies.append(line)
            name, _, rest = line.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response


async def held_polls(http: httpx.AsyncClient, audience: str) -> float:
    text = (await http.get("/metrics")).text
    match = re.search(rf'^meet_lasuite_held_polls{{audience="{audience}"}} (\S+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def until_held(http: httpx.AsyncClient, audience: str, count: int = 1) -> None:
    """Wait (bounded) until ``count`` polls of ``audience`` are held by the server."""

    async def held() -> bool:
        return await held_polls(http, audience) >= count

    await until(held, within=15)
