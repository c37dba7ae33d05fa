"""Shared model code."""
