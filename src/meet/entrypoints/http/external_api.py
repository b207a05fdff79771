"""La Suite Meet's external API (``/external-api/v1.0``), shaped as that project documents it, on meet's
machinery: the same applications, token use case, bearer guard, scopes and room use cases.

- ``POST application/token/`` (JSON or form): ``client_id``, ``client_secret``,
  ``grant_type=client_credentials`` and ``scope`` = the user's email; answers ``access_token``,
  ``token_type``, ``expires_in`` and ``scope`` (every scope of the application). Refusals are
  ``{"error": "..."}``: 401 bad credentials or a disabled application, 403 an email outside the
  application's domains, 400 an unknown user or a malformed request.
- ``rooms`` (list: ``page``, ``page_size``), ``rooms/`` (create: optional ``access_level`` and
  ``configuration``; the name is drawn, the default access level is ``trusted``, ``public`` is refused),
  ``rooms/{id}`` (retrieve, ``PATCH`` update). Bearer tokens only (an application's, or the identity
  provider's when meet is a resource server); errors are ``{"detail": "..."}``.
"""

from __future__ import annotations

import secrets
import string
import uuid
from typing import Annotated, Any, Literal

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, MediaType, Request, Response, get, patch, post
from litestar.params import Parameter
from litestar.types import ExceptionHandlersMap

from meet.domain.applications.bearer import InvalidToken
from meet.domain.applications.errors import InvalidRequest
from meet.domain.applications.use_cases import ClientSecretRequest, IssueApplicationToken
from meet.domain.conference.use_cases import OpenRoom, OpenRoomRequest
from meet.domain.rooms.lookup import RoomVisit
from meet.domain.rooms.model import AccessLevel, RoomRef
from meet.domain.rooms.use_cases import (
    CreateRoom,
    CreateRoomRequest,
    ListMyRooms,
    ListMyRoomsRequest,
    UpdateRoom,
    UpdateRoomRequest,
)
from meet.domain.shared.errors import DomainError, ServiceUnavailable
from meet.domain.users.model import Viewer
from meet.domain.users.scopes import ApiScope, MissingScope
from meet.entrypoints.http.bearer import BEARER_ONLY, OWN_CREDENTIAL, needs
from meet.entrypoints.http.errors import status_for
from meet.entrypoints.http.oauth import CLIENT_CREDENTIALS, NO_STORE, TokenOut, oauth_error, token_out
from meet.entrypoints.http.schemas import LaSuiteConfigurationBody
from meet.entrypoints.settings import Settings

EXTERNAL_API_PREFIX = "/external-api/v1.0"
ExternalAccessLevel = Literal["trusted", "restricted"]


class ExternalTokenRequest(msgspec.Struct):
    client_id: str = ""
    client_secret: str = ""
    grant_type: str = ""
    scope: str = ""


class ExternalRoomCreate(msgspec.Struct, forbid_unknown_fields=True):
    access_level: ExternalAccessLevel = "trusted"
    configuration: LaSuiteConfigurationBody | None = None


class ExternalRoomUpdate(msgspec.Struct):
    """Only these two change; every other field sent (``id``, ``name``, ``slug``...) is ignored."""

    access_level: ExternalAccessLevel | None = None
    configuration: LaSuiteConfigurationBody | None = None


class ExternalRoom(msgspec.Struct):
    id: uuid.UUID | None
    slug: str
    access_level: str
    url: str
    configuration: LaSuiteConfigurationBody


class ExternalRoomPage(msgspec.Struct):
    count: int
    next: str | None
    previous: str | None
    results: list[ExternalRoom]


class Detail(msgspec.Struct):
    detail: str


def _room(view: RoomVisit, settings: Settings, request: Request[Any, Any, Any]) -> ExternalRoom:
    base = settings.public_url.rstrip("/") if settings.public_url else str(request.base_url).rstrip("/")
    room = view.room
    return ExternalRoom(
        id=None if room.is_temporary else room.id,
        slug=room.slug,
        access_level=room.access_level.value,
        url=f"{base}/{room.slug}",
        configuration=LaSuiteConfigurationBody.of(room.configuration),
    )


def _drawn_name() -> str:
    """A name like La Suite's (three groups of letters), whose slug is the name itself."""
    letters = string.ascii_lowercase
    return "-".join("".join(secrets.choice(letters) for _ in range(size)) for size in (3, 4, 3))


def detail_error(_: Request[Any, Any, Any], error: DomainError) -> Response[Detail]:
    headers = dict(NO_STORE)
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = "5"
    if isinstance(error, InvalidToken):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    message = error.message
    if isinstance(error, MissingScope):
        message = f"Insufficient permissions. Required scope: '{error.scope.value}'"
    return Response(Detail(message), status_code=status_for(error), headers=headers, media_type=MediaType.JSON)


class LaSuiteTokenError(msgspec.Struct):
    error: str


def _token_form(data: dict[str, Any]) -> ExternalTokenRequest:
    try:
        return msgspec.convert({k: v for k, v in data.items() if isinstance(v, str)}, ExternalTokenRequest)
    except msgspec.ValidationError as error:
        raise InvalidRequest(str(error)) from error


async def _read_token_request(request: Request[Any, Any, Any]) -> ExternalTokenRequest:
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            data = msgspec.json.decode(await request.body())
        except msgspec.DecodeError as error:
            raise InvalidRequest("The request body is not valid JSON.") from error
        if not isinstance(data, dict):
            raise InvalidRequest("The request body must be a JSON object.")
        return _token_form(data)
    if content_type == "application/x-www-form-urlencoded":
        return _token_form(dict((await request.form()).items()))
    raise InvalidRequest("Send the request as application/json or application/x-www-form-urlencoded.")


class ExternalApplicationController(Controller):
    path = "/application"
    tags = ["external API (La Suite)"]

    @post(
        "/token/",
        status_code=200,
        summary="La Suite: exchange an application's credentials for a token acting for the user named in 'scope'",
        **needs(OWN_CREDENTIAL),
    )
    async def token(
        self, request: Request[Any, Any, Any], issue: FromDishka[IssueApplicationToken]
    ) -> Response[TokenOut | LaSuiteTokenError]:
        metrics = request.app.state.metrics
        try:
            form = await _read_token_request(request)
            if form.grant_type != CLIENT_CREDENTIALS:
                raise InvalidRequest("grant_type must be 'client_credentials'.")
            if not form.scope:
                raise InvalidRequest("scope must be the email address of the user to act for.")
            issued = await issue.execute(
                ClientSecretRequest(client_id=form.client_id, client_secret=form.client_secret, subject=form.scope)
            )
        except DomainError as error:
            metrics.token_request("lasuite", error.code)
            if isinstance(error, ServiceUnavailable):
                return oauth_error(error, basic=False)  # type: ignore[return-value]
            body = LaSuiteTokenError(error.message)
            return Response(body, status_code=status_for(error), headers=NO_STORE, media_type=MediaType.JSON)
        metrics.token_request("lasuite", "issued")
        return Response(token_out(issued), headers=NO_STORE)


class ExternalRoomController(Controller):
    path = "/rooms"
    tags = ["external API (La Suite)"]
    opt = {BEARER_ONLY: True}
    exception_handlers: ExceptionHandlersMap = {DomainError: detail_error}

    @get(["/", ""], summary="La Suite: the rooms the user holds a role in", **needs(ApiScope.ROOMS_LIST))
    async def list_rooms(
        self,
        request: Request[Any, Any, Any],
        viewer: FromDishka[Viewer],
        list_mine: FromDishka[ListMyRooms],
        settings: FromDishka[Settings],
        page: Annotated[int, Parameter(ge=1, le=2**20)] = 1,
        page_size: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> ExternalRoomPage:
        offset = (page - 1) * page_size
        result = await list_mine.execute(ListMyRoomsRequest(viewer, limit=page_size, offset=offset))
        url = str(request.url).partition("?")[0]

        def at(number: int) -> str:
            return f"{url}?page={number}&page_size={page_size}"

        return ExternalRoomPage(
            count=result.total,
            next=at(page + 1) if offset + page_size < result.total else None,
            previous=at(page - 1) if page > 1 else None,
            results=[_room(view, settings, request) for view in result.items],
        )

    @post(
        "/", status_code=201, summary="La Suite: create a room; the user is its owner", **needs(ApiScope.ROOMS_CREATE)
    )
    async def create_room(
        self,
        request: Request[Any, Any, Any],
        viewer: FromDishka[Viewer],
        create: FromDishka[CreateRoom],
        settings: FromDishka[Settings],
    ) -> ExternalRoom:
        body = await request.body()
        try:
            data = msgspec.json.decode(body, type=ExternalRoomCreate) if body.strip() else ExternalRoomCreate()
        except msgspec.ValidationError as error:
            raise InvalidRequest(str(error)) from error
        except msgspec.DecodeError as error:
            raise InvalidRequest("The request body is not valid JSON.") from error
        view = await create.execute(
            CreateRoomRequest(
                viewer,
                _drawn_name(),
                AccessLevel(data.access_level),
                data.configuration.to_domain() if data.configuration else None,
            )
        )
        return _room(view, settings, request)

    @get("/{room_id:uuid}", summary="La Suite: one room", **needs(ApiScope.ROOMS_RETRIEVE))
    async def retrieve_room(
        self,
        request: Request[Any, Any, Any],
        room_id: uuid.UUID,
        viewer: FromDishka[Viewer],
        open_room: FromDishka[OpenRoom],
        settings: FromDishka[Settings],
    ) -> ExternalRoom:
        opened = await open_room.execute(OpenRoomRequest(viewer, RoomRef(str(room_id))))
        return _room(opened.visit, settings, request)

    @patch("/{room_id:uuid}", summary="La Suite: change a room's access level or configuration",
           **needs(ApiScope.ROOMS_UPDATE))  # fmt: skip
    async def update_room(
        self,
        request: Request[Any, Any, Any],
        room_id: uuid.UUID,
        viewer: FromDishka[Viewer],
        update: FromDishka[UpdateRoom],
        settings: FromDishka[Settings],
    ) -> ExternalRoom:
        try:
            data = msgspec.json.decode(await request.body(), type=ExternalRoomUpdate)
        except msgspec.ValidationError as error:
            raise InvalidRequest(str(error)) from error
        except msgspec.DecodeError as error:
            raise InvalidRequest("The request body is not valid JSON.") from error
        changes = UpdateRoomRequest(
            viewer,
            RoomRef(str(room_id)),
            access_level=AccessLevel(data.access_level) if data.access_level else None,
            configuration=data.configuration.to_domain() if data.configuration else None,
        )
        return _room(await update.execute(changes), settings, request)
