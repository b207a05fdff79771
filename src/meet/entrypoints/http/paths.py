"""Where meet's own API lives: every path of it is under this prefix, spelt here only."""

API_PREFIX = "/api/v1"
