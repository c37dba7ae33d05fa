"""Modules the lint hook mocks, so it collects the tests without sglang installed."""

_MOCK_MODULES = [
    "sglang",
    "sglang.srt",
]
