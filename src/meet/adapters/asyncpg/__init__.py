"""Hot read paths straight on asyncpg: the lookups nearly every request makes, without the ORM's cost."""
