"""core/ is pure: it imports nothing that talks to Kafka, Redis or HTTP (STYLE.md)."""

import ast
import subprocess
import sys
from pathlib import Path

import eventwire.core

FORBIDDEN = ("faust", "mode", "aiokafka", "kafka", "redis", "aiohttp", "requests", "httpx")
CORE = Path(eventwire.core.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_modules_import_no_io_library():
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 10
    offenders = {
        str(path.relative_to(CORE)): sorted(imported_roots(path) & set(FORBIDDEN))
        for path in modules
        if imported_roots(path) & set(FORBIDDEN)
    }
    assert offenders == {}


def test_importing_the_whole_core_loads_no_io_library():
    names = [
        "eventwire.core." + ".".join(p.relative_to(CORE).with_suffix("").parts)
        for p in CORE.rglob("*.py")
        if p.name != "__init__.py"
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
