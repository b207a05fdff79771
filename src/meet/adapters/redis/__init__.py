"""Redis adapters: the lobby, its push channel, rate limits and webhook de-duplication."""
