"""Offline jobs beside the server: evaluation, tuning and their quality metrics."""
