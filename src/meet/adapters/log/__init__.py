"""Adapters that only write to the log: what runs when a service is not configured."""
