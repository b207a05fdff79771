from tests.unit.rooms.conftest import world  # noqa: F401 - re-exported fixture
