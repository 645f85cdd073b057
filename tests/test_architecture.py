"""The layering of DESIGN.md § 4 and docs/architecture.md: pure layers import no I/O and
no shell, pbxsim shares only the codec with the server, and the shells reach the core
through its front modules only (never the model's or the handlers' insides)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ctiserver"
PURE = [
    "csta",
    "tlib",
    "model",
    "tserver",
    "scxml",
    "supervision",
    "iscc/protocol.py",
    "iscc/settings.py",
    "iscc/transactions.py",
    "ids.py",
    "errors.py",
    "immutable.py",
    "lines.py",
    "safexml.py",
    "security",
]
SHELLS = [
    "link",
    "server",
    "http",
    "client",
    "app",
    "cli.py",
    "iscc/peering.py",
    "orchestration",
    "pbxsim/listener.py",
    "pbxsim/command.py",
    "jetstream",
]
SHELL_PACKAGES = tuple("ctiserver." + part.removesuffix(".py").replace("/", ".") for part in SHELLS)
# What a shell may import of the model and of the T-Server core: their front modules.
CORE_FRONT = {
    "ctiserver.model.states",
    "ctiserver.model.values",
    "ctiserver.model.changes",
    "ctiserver.model.encoding",
    "ctiserver.model.resync",
    "ctiserver.tserver.core",
    "ctiserver.tserver.port",
    "ctiserver.tserver.view",
}
# The modules TServerCore is written in besides tserver/core.py (its parts: the core's own
# methods, written apart).  Only the core imports them: handlers see the core through
# tserver/port.py alone, the shells through the front modules.
CORE_PARTS = {
    "ctiserver.tserver.pair",
    "ctiserver.tserver.iscc.entries",
    "ctiserver.tserver.switch_requests",
    "ctiserver.tserver.verbs",
}
PUBLIC_FACES = {"client"}  # packages whose __init__.py names their public interface
FORBIDDEN_IN_PURE = {"asyncio", "socket", "time", "selectors", "aiohttp", "subprocess", "threading"}
PBXSIM_MAY_IMPORT = {
    "ctiserver.csta",
    "ctiserver.errors",
    "ctiserver.ids",
    "ctiserver.clock",
    "ctiserver.doors",  # TLS contexts, connection caps, rate-limited logs: no model
    "ctiserver.pbxsim",
}


def modules(*parts: str) -> list[Path]:
    found: list[Path] = []
    for part in parts:
        path = PACKAGE / part
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", modules(*PURE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_layers_import_no_io(path: Path) -> None:
    used = {name.split(".")[0] for name in imports(path)}
    assert not used & FORBIDDEN_IN_PURE


@pytest.mark.parametrize("path", modules(*PURE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_layers_import_no_shell(path: Path) -> None:
    shells = {name for name in imports(path) if name.startswith(SHELL_PACKAGES)}
    assert not shells


@pytest.mark.parametrize("path", modules(*SHELLS), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_shells_reach_the_core_through_its_front_modules(path: Path) -> None:
    core = {n for n in imports(path) if n.startswith(("ctiserver.model", "ctiserver.tserver"))}
    assert core <= CORE_FRONT, core - CORE_FRONT


@pytest.mark.parametrize("path", modules("."), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_core_imports_the_parts_it_is_written_in(path: Path) -> None:
    if _module(path) == "ctiserver.tserver.core":
        return
    assert not imports(path) & CORE_PARTS, imports(path) & CORE_PARTS


def test_the_core_is_written_in_its_parts() -> None:
    """Each part is a base of TServerCore (a part nobody uses would pass the rule above)."""
    from ctiserver.tserver.core import TServerCore

    assert {base.__module__ for base in TServerCore.__mro__} >= CORE_PARTS


@pytest.mark.parametrize("path", modules("pbxsim"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pbxsim_shares_only_the_codec(path: Path) -> None:
    ours = {name for name in imports(path) if name.startswith("ctiserver")}
    assert all(
        any(name == allowed or name.startswith(allowed + ".") for allowed in PBXSIM_MAY_IMPORT)
        for name in ours
    ), ours


@pytest.mark.parametrize("path", modules("."), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_says_its_job(path: Path) -> None:
    if path.name == "__init__.py" and path.parent.name not in PUBLIC_FACES:
        assert path.read_text() == "", "__init__.py files stay empty"
        return
    assert ast.get_docstring(ast.parse(path.read_text())), f"{path} has no module docstring"


@pytest.mark.parametrize("package", sorted(PUBLIC_FACES))
def test_a_public_face_only_names_what_its_modules_define(package: str) -> None:
    """The SDK's `ctiserver.client`: a docstring, imports from its own modules, __all__."""
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text())
    docstring, *body = tree.body
    assert isinstance(docstring, ast.Expr)
    assert isinstance(docstring.value, ast.Constant)
    for node in body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").startswith(f"ctiserver.{package}."), node.module
        else:
            assert isinstance(node, ast.Assign)
            assert ast.unparse(node.targets[0]) == "__all__"


def test_no_utils_module() -> None:
    assert not [p for p in PACKAGE.rglob("*.py") if p.stem in {"utils", "util", "helpers", "misc"}]


def test_no_module_imports_itself_through_others() -> None:
    """No import circle between modules (typing-only imports included): each module
    stands above what it imports."""
    graph = {_module(path): _ours(path) for path in modules(".")}
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == 1:
                cycle = [*path[path.index(imported) :], imported]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if imported in graph and imported not in state:
                walk(imported, [*path, imported])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _ours(path: Path) -> set[str]:
    """The package's modules *path* imports (a name from a module counts as the module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ctiserver"):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ctiserver")}
    return found
