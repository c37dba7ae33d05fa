"""The environment for a process of ours that a test starts with an environment of its own: measured too."""

from __future__ import annotations

import os
from collections.abc import Mapping

# What coverage's .pth reads at start-up (set when the suite runs under `coverage run`; see pyproject.toml).
COVERAGE_VARIABLES = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START", "COVERAGE_FILE")


def measured(env: Mapping[str, str]) -> dict[str, str]:
    """`env` plus the test run's coverage variables, so the process reports what it ran; else `env`."""
    return {**env, **{key: os.environ[key] for key in COVERAGE_VARIABLES if key in os.environ}}
