from tests.unit.rooms.conftest import world  # noqa: F401 - the rooms fixture, shared
