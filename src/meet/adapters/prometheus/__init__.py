"""Prometheus metrics (prometheus-client): the families meet exposes at ``/metrics``, and port wrappers."""
