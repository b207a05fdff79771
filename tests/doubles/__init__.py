"""Test doubles: in-memory implementations of the domain's ports, for fast unit tests of the use cases."""
