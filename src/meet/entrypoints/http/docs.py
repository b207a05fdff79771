"""The interactive API docs: Swagger UI from the ``swagger-ui-py`` package, served by the service itself
(no CDN), with no inline script so its Content-Security-Policy can stay strict."""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router

from meet.entrypoints.http.paths import API_PREFIX

DOCS_PATH = f"{API_PREFIX}/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
_OWN_ASSETS = Path(__file__).with_name("docs_assets")


def _swagger_dist() -> Path:
    return Path(str(files("swagger_ui") / "static"))


class SelfHostedSwagger(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path="/swagger")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema["info"]["title"]))
        spec_url = html.escape(self.get_openapi_json_route(request), quote=True)
        return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    <link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
    <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui" data-spec-url="{spec_url}"></div>
    <script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
    <script src="{ASSETS_PATH}/swagger-ui-standalone-preset.js"></script>
    <script src="{ASSETS_PATH}/swagger-init.js"></script>
  </body>
</html>""".encode()


def docs_assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[_OWN_ASSETS, _swagger_dist()],
        include_in_schema=False,
        name="docs-assets",
    )
