"""Who is kept out of a room has one port and one set of adapters: these checks fail when a second bars
port appears in the domain, or when code outside the bars adapters reads the bars' storage (the Redis
key, the Lua ``bars`` key, the SQL table)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "meet"

# The only modules allowed to name the bars' storage: the three adapters, the key schema that names every
# key of a room, the migration that made the table, and the Lua programs that read or write the cache (the
# prelude holds the knock's gate, which checks the bars in the knock's own atomic step).
BARS_ADAPTERS = {
    "adapters/memory/bars.py",
    "adapters/redis/lobby/bars.py",
    "adapters/redis/lobby/keys.py",
    "adapters/sqlalchemy/bars.py",
    "adapters/sqlalchemy/migrations/versions/0004_room_bars.py",
    "adapters/redis/lobby/lua/prelude.lua",
    "adapters/redis/lobby/lua/load_bars.lua",
    "adapters/redis/lobby/lua/barred.lua",
}
LUA_READS = re.compile(r"redis\.call\([^)]*\bbars\b")
BAR_METHODS = re.compile(r"(^|_)(bar|barred|bars|unbar|kept_out)($|_)")


def _relative(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _names_bars_storage(node: ast.AST) -> bool:
    """``x.bars`` (the Redis key of ``LobbyKeys``), the ``room_bar`` table, or either spelt out as text."""
    if isinstance(node, ast.Attribute):
        return node.attr == "bars"
    if isinstance(node, ast.Name):
        return node.id == "room_bar"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ":bars" in node.value or "meet_room_bar" in node.value
    return False


def storage_readers() -> set[str]:
    readers = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(_names_bars_storage(node) for node in ast.walk(tree)):
            readers.add(_relative(path))
    for path in SRC.rglob("*.lua"):
        if LUA_READS.search(path.read_text(encoding="utf-8")):
            readers.add(_relative(path))
    return readers


def bars_ports() -> set[str]:
    """Protocols of the domain with a method about bars, as ``module:Class``."""
    found = set()
    for path in (SRC / "domain").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            if not any(isinstance(base, ast.Name) and base.id == "Protocol" for base in node.bases):
                continue
            methods = [item.name for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)]
            if any(BAR_METHODS.search(name) for name in methods):
                found.add(f"{_relative(path)}:{node.name}")
    return found


def test_only_the_bars_adapters_read_the_bars_storage() -> None:
    readers = storage_readers()
    assert readers, "the check finds nothing at all: it would prove nothing"
    assert readers <= BARS_ADAPTERS, sorted(readers - BARS_ADAPTERS)


def test_the_domain_has_one_bars_port() -> None:
    assert bars_ports() == {"domain/conference/bars.py:RoomBars"}
