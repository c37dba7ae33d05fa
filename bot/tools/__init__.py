"""Drivers of outside programs: subprocesses, the bubblewrap sandbox, uv (and the swap), git."""
