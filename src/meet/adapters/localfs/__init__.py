"""Object storage in a local folder, for the embedded default."""
