"""The public API service."""
