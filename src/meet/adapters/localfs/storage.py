"""``ObjectStorage`` in a local folder (``{data_dir}/media/{key}``), for the embedded default.

Nothing needs signing there: nginx (or any static file server) serves the folder itself after the
same ``auth_request``, so ``signed_get_headers`` answers no headers and the media authorisation is
the whole guard. The egress must write its files into this folder (a shared volume).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from meet.domain.recordings.errors import StorageRequestFailed


class LocalFolderStorage:
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def path_of(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root):
            raise StorageRequestFailed("The object key leaves the storage folder.")
        return path

    async def delete(self, key: str) -> None:
        path = self.path_of(key)
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as error:
            raise StorageRequestFailed(f"The object could not be deleted ({type(error).__name__}).") from error

    def signed_get_headers(self, key: str) -> dict[str, str]:
        self.path_of(key)
        return {}
