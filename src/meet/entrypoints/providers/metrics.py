"""Metrics around the ports, whichever adapters were chosen: the lobby store is counted on its way out."""

from __future__ import annotations

from dishka import Provider, decorate

from meet.adapters.prometheus.door import MeteredRoomDoor
from meet.adapters.prometheus.lobby import MeteredLobbyStore
from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.domain.conference.door import RoomDoor
from meet.domain.lobby.ports import LobbyStore


class MetricsProvider(Provider):
    @decorate
    def lobby(self, store: LobbyStore, metrics: PrometheusMetrics) -> LobbyStore:
        return MeteredLobbyStore(store, metrics)

    @decorate
    def door(self, door: RoomDoor, metrics: PrometheusMetrics) -> RoomDoor:
        return MeteredRoomDoor(door, metrics)
