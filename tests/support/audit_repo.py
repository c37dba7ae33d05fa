"""Builds the audit fixture: two real versions of `demo-lib` that differ, and a uv repository using them."""
# ruff: noqa: E501  (fixture files reproduce long Markdown table rows verbatim)

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

from tests.support.wheels import WheelSpec, build_wheelhouse

V1_INIT = """\
__version__ = "1.0"
from demo_lib.core import Client, Session, build, configure, connect, fetch, spawn, stable
from demo_lib.models import Model

__all__ = ["Client", "Model", "Session", "build", "configure", "connect", "fetch", "spawn", "stable"]
"""
V1_CORE = """\
ROUTES = ["/v1/generate"]


class Client:
    def __init__(self, url, timeout=10, **options):
        self.url = url

    def send(self, payload, retries=3):
        return payload


class Session:
    def open(self, x):
        return x


def connect(host, port=80, *, secure=False):
    return host


def configure(path, mode="fast", **extra):
    return path


def legacy_helper(x):
    return x


def stable(a, b=1):
    return a


def build(items, strict=False):
    return items


def spawn(name, workers):
    return name


def fetch(url, timeout):
    return url


def unused_changed(a):
    return a
"""
V1_MODELS = """\
class Model:
    registry = {}

    def __init__(self, name):
        self.name = name


class Layer:
    pass


class OldBase:
    pass
"""
V2_INIT = """\
__version__ = "2.0"
from typing import TYPE_CHECKING

from demo_lib.core import build, configure, connect, fetch, spawn, stable
from demo_lib.models import Model

if TYPE_CHECKING:
    from demo_lib.core import Client

__all__ = ["Client", "Model", "Session", "build", "configure", "connect", "fetch", "spawn", "stable"]


def __getattr__(name):
    # Lazy exports: Client is also visible statically (TYPE_CHECKING), Session only at run time.
    if name in ("Client", "Session"):
        from demo_lib import core

        return getattr(core, name)
    raise AttributeError(name)
"""
V2_CORE = """\
ROUTES = ["/v2/generate"]


class Client:
    def __init__(self, url, timeout=10, **options):
        self.url = url

    def send(self, payload, attempts=3):
        return payload


class Session:
    def open(self, x, y):
        return x


def connect(host, port=80, *, tls=False):
    return host


def configure(path, **extra):
    return path


def stable(a, b=1):
    return a


def build(items, strict=True):
    return items


def spawn(name, workers, device):
    return name


def fetch(url, *, timeout):
    return url
"""
V2_MODELS = """\
class Model:
    def __init__(self, name):
        self.name = name
"""
V2_LAYERS = """\
class Layer:
    pass
"""

MAIN = '''\
"""Uses demo_lib the way a real service would."""
import demo_lib.models as dm
from demo_lib import Client, Model, Session, configure, connect, stable
from demo_lib.core import build, fetch, legacy_helper, spawn
from demo_lib.models import Layer


class MyLayer(Layer):
    pass


class Old(dm.OldBase):
    pass


def run(payload, options):
    client = Client("http://x", timeout=5)
    client.send(payload, retries=2)
    connect("h", 8080, secure=True)
    configure("p", mode="slow")
    legacy_helper(1)
    stable(1, b=2)
    build([1])
    spawn("w", 4)
    fetch("u", 5)
    session = Session()
    session.open(1)
    note = "demo_lib.core.legacy_helper is gone"  # demo_lib.stable(1, 2, 3, 4)
    configure("q", **options)
    return Model.registry, note
'''
GUARDS = """\
from importlib.metadata import version

import demo_lib
from packaging.version import Version

if Version(demo_lib.__version__) < Version("2.0"):
    OLD = True
if version("demo-lib") >= "3.0":
    NEW = True
"""
COMPAT = '''\
"""Compat shim for demo-lib."""
import demo_lib

try:
    from demo_lib.layers import Layer  # 2.0+
except ImportError:
    # Fallback for demo-lib <2.0. Remove when min supported version is 2.0+
    from demo_lib.models import Layer  # noqa: F401

try:
    from demo_lib.fast import speedup
except ImportError:
    # Fallback for demo-lib <1.0. Remove when min supported version is 1.0+
    from demo_lib.core import stable as speedup  # noqa: F401

try:
    from demo_lib.core import build
except ImportError:
    from demo_lib import build  # noqa: F401

LEGACY = demo_lib.__version__.startswith("1.")
'''
HTTP = """\
import json
ENDPOINT = "/v1/generate"
"""
STUBS = """\
_MOCK_MODULES = ["demo_lib.core", "demo_lib.models"]
"""
CONFIG = """\
[package.demo-lib]
family = "demo"

[[compat.shim]]
package = "demo-lib"
files = ["app/_compat.py"]
stub_lists = ["tests/stubs.py"]
"""
CHECKLIST = """\
---
package: demo-lib
github: example/demo-lib
branch_template: "v${VERSION}"
upstream_paths:
  - demo_lib/core.py
---

## Affected Files

### Primary (most likely to break)

| File | Imports / Usage |
| ---- | --------------- |
| `app/main.py` | `Client`, `Model`, `Session`, `configure`, `connect`, `stable`, `build`, `fetch`, `legacy_helper`, `spawn`, `Layer`, `demo_lib.models` |

### Secondary

| File | Imports / Usage |
| ---- | --------------- |
| `app/http.py` | HTTP-only: `POST /v1/generate` |
| `app/_compat.py` | `demo_lib`, `Layer`, `speedup`, `stable`, `build` |
| `app/compat_checks.py` | `demo_lib` (version guard) |

### Tertiary (tests, infra)

| File | Imports / Usage |
| ---- | --------------- |

## API Usage Catalog

### 1. `demo_lib.connect`

**Source:** `demo_lib/core.py`

Called in `app/main.py:19`:

```python
connect("h", 8080, secure=True)
```

**Check:** keyword names

### 2. `POST /v1/generate`

**Source:** `demo_lib/core.py`

Called in `app/http.py:2`:

**Check:** the endpoint still exists

## Version-Guarded Code (if any)

- [app/compat_checks.py:6] demo-lib < 2.0
"""
CHECKLIST_PATH = ".github/upgrade-deps/checklists/demo-lib.md"


def pyproject(pin: str) -> str:
    return dedent(
        f"""\
        [project]
        name = "service"
        version = "0.1.0"
        requires-python = ">=3.11"
        dependencies = ["demo-lib=={pin}"]

        [tool.uv]
        package = false
        find-links = ["wheelhouse"]
        no-index = true
        """
    )


@dataclass(frozen=True)
class AuditRepo:
    root: Path
    old_lock: str
    new_lock: str


def demo_specs() -> list[WheelSpec]:
    v1 = {"demo_lib/__init__.py": V1_INIT, "demo_lib/core.py": V1_CORE, "demo_lib/models.py": V1_MODELS}
    v2 = {
        "demo_lib/__init__.py": V2_INIT,
        "demo_lib/core.py": V2_CORE,
        "demo_lib/models.py": V2_MODELS,
        "demo_lib/layers.py": V2_LAYERS,
    }
    return [WheelSpec("demo-lib", "1.0", files=v1), WheelSpec("demo-lib", "2.0", files=v2)]


def _lock(root: Path, uv: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR")}
    env |= {"UV_PYTHON_DOWNLOADS": "never", "UV_CACHE_DIR": str(root.parent / "uv-cache")}
    subprocess.run([str(uv), "lock", "--quiet"], cwd=root, env=env, check=True, timeout=120)
    return (root / "uv.lock").read_text(encoding="utf-8")


def build_audit_repo(root: Path, *, uv: Path) -> AuditRepo:
    """A repository locked at demo-lib 1.0 (committed state) plus the lock text for 2.0."""
    build_wheelhouse(demo_specs(), root / "wheelhouse")
    files = {
        "app/__init__.py": "",
        "app/main.py": MAIN,
        "app/compat_checks.py": GUARDS,
        "app/_compat.py": COMPAT,
        "app/http.py": HTTP,
        "tests/stubs.py": STUBS,
        ".github/upgrade-deps.toml": CONFIG,
        CHECKLIST_PATH: CHECKLIST,
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    (root / "pyproject.toml").write_text(pyproject("2.0"), encoding="utf-8")
    new_lock = _lock(root, uv)
    (root / "pyproject.toml").write_text(pyproject("1.0"), encoding="utf-8")
    old_lock = _lock(root, uv)
    return AuditRepo(root, old_lock, new_lock)
