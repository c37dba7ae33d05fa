"""An in-tree PEP 517 build backend (`backend-path`, `requires = []`), so uv runs a repository's own code."""

from __future__ import annotations

from pathlib import Path

# Stdlib only: it runs in uv's build environment, which has nothing installed. `on_build()` is where a
# test puts what the repository's code does while uv builds it.
BACKEND = '''\
"""A minimal build backend with dynamic metadata."""
import base64, hashlib, os, zipfile

NAME, VERSION = {name!r}, {version!r}


def on_build():
{hook}


def _metadata():
    return f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n"


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    on_build()
    info = f"{{NAME.replace('-', '_')}}-{{VERSION}}.dist-info"
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    with open(os.path.join(metadata_directory, info, "METADATA"), "w") as handle:
        handle.write(_metadata())
    return info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    on_build()
    dist = NAME.replace("-", "_")
    info = f"{{dist}}-{{VERSION}}.dist-info"
    name = f"{{dist}}-{{VERSION}}-py3-none-any.whl"
    entries = {{f"{{dist}}/__init__.py": b"", f"{{info}}/METADATA": _metadata().encode(),
               f"{{info}}/WHEEL": b"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}}
    def digest(data):
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = [f"{{path}},sha256={{digest(data)}},{{len(data)}}" for path, data in entries.items()]
    entries[f"{{info}}/RECORD"] = ("\\n".join(record) + f"\\n{{info}}/RECORD,,\\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in entries.items():
            archive.writestr(path, data)
    return name


build_editable = build_wheel
prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel
get_requires_for_build_editable = get_requires_for_build_wheel
'''

PYPROJECT = """\
[build-system]
requires = []
build-backend = "backend"
backend-path = ["_backend"]

[project]
name = "{name}"
dynamic = ["version"]
requires-python = ">=3.11"
"""


def write_backend_package(folder: Path, name: str, version: str, hook: str = "pass") -> Path:
    """A buildable project at `folder` whose metadata only its own backend can give (uv must run it)."""
    (folder / "_backend").mkdir(parents=True, exist_ok=True)
    body = "\n".join(f"    {line}" for line in hook.splitlines()) or "    pass"
    (folder / "_backend" / "backend.py").write_text(BACKEND.format(name=name, version=version, hook=body))
    (folder / "pyproject.toml").write_text(PYPROJECT.format(name=name))
    return folder
