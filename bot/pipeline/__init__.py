"""The upgrade steps and their orchestration, the summary, requests derived from bot pull requests."""
