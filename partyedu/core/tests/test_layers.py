"""Apps import only downward (``partyedu.core.layers.LAYERS``, docs/architecture.md).

Every module under ``partyedu/`` except migrations is parsed (not imported) and each import of a
``partyedu.<app>`` module — at module level, inside a function, absolute or relative — is checked
against the layer of the app it sits in. Imports inside ``if TYPE_CHECKING:`` create no runtime
dependency and are allowed upward only where ``layers.TYPE_ONLY_IMPORTS`` lists them.

Test code is exempt, since tests may build whatever world they need: every ``tests/`` package,
``conftest.py`` files and the test-support packages in ``layers.TEST_PACKAGES``
(``partyedu/testsupport``). Generic test helpers that live beside production code
(``core/testing.py``) are checked like it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings

from partyedu.accounts.choices import RoleCode
from partyedu.core.hooks import HOOKS, hooks
from partyedu.core.layers import LAYERS, TEST_PACKAGES, TYPE_ONLY_IMPORTS
from partyedu.core.maintenance import MAINTAINER_ROLE

PACKAGE = "partyedu"
ROOT = Path(settings.BASE_DIR) / PACKAGE


@dataclass(frozen=True)
class Import:
    path: str  # under partyedu/, e.g. "members/services.py"
    line: int
    module: str  # absolute, e.g. "partyedu.learning.services"
    type_only: bool

    @property
    def source_app(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def target_app(self) -> str:
        return self.module.split(".")[1]


def _is_test_code(relative: Path) -> bool:
    parts = relative.parts
    return "tests" in parts[:-1] or relative.name == "conftest.py" or parts[0] in TEST_PACKAGES


def production_modules() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts and not _is_test_code(path.relative_to(ROOT))
    )


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """The ids of every node inside an ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``) block."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}:
            for child in node.body:
                inside.update(id(n) for n in ast.walk(child))
    return inside


def _package_of(relative: Path) -> list[str]:
    """The dotted package a module belongs to, as a list (``members/api/views.py`` →
    ``["partyedu", "members", "api"]``), for resolving relative imports."""
    return [PACKAGE, *relative.parts[:-1]]


def imports_of(path: Path, relative: Path | None = None) -> list[Import]:
    """The ``partyedu`` imports of one module; ``relative`` is where it sits under partyedu/."""
    relative = relative or path.relative_to(ROOT)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    type_only = _type_checking_nodes(tree)
    found: list[Import] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(relative)
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # ``from partyedu import members`` and ``from . import services`` name modules too.
            modules = (
                [module] if module.count(".") >= 1 else [f"{module}.{alias.name}" for alias in node.names]
            )
        for module in modules:
            parts = module.split(".")
            if parts[0] == PACKAGE and len(parts) > 1:
                found.append(Import(str(relative.as_posix()), node.lineno, module, id(node) in type_only))
    return found


def all_imports() -> list[Import]:
    return [found for path in production_modules() for found in imports_of(path)]


def _upward(found: Import) -> bool:
    return (
        found.source_app in LAYERS
        and found.target_app in LAYERS
        and LAYERS.index(found.target_app) > LAYERS.index(found.source_app)
    )


def test_apps_import_only_from_the_layers_below() -> None:
    upward = [
        found
        for found in all_imports()
        if _upward(found) and not (found.type_only and found.module in TYPE_ONLY_IMPORTS.get(found.path, ()))
    ]
    report = "\n".join(
        f"  partyedu/{f.path}:{f.line} imports {f.module}: {f.source_app} (layer {LAYERS.index(f.source_app)}) "
        f"→ {f.target_app} (layer {LAYERS.index(f.target_app)})"
        + (" [TYPE_CHECKING, not listed]" if f.type_only else "")
        for f in upward
    )
    assert not upward, (
        f"{len(upward)} import(s) of a higher layer (order: {' → '.join(LAYERS)}). Move the code to the "
        f"app it belongs to, pass the value in, or call a hook (partyedu.core.hooks):\n{report}"
    )


def test_every_listed_type_only_import_still_exists() -> None:
    present = {(f.path, f.module) for f in all_imports() if f.type_only and _upward(f)}
    listed = {(path, module) for path, modules in TYPE_ONLY_IMPORTS.items() for module in modules}
    assert listed <= present, f"stale entries in layers.TYPE_ONLY_IMPORTS: {sorted(listed - present)}"


def test_every_app_has_a_layer() -> None:
    installed = {
        config.name.split(".")[1]
        for config in apps.get_app_configs()
        if config.name.startswith(f"{PACKAGE}.")
    }
    packages = {
        path.name
        for path in ROOT.iterdir()
        if path.is_dir() and (path / "__init__.py").exists() and path.name not in TEST_PACKAGES
    }
    missing = sorted((installed | packages) - set(LAYERS))
    assert not missing, f"add these apps to partyedu.core.layers.LAYERS at their place: {missing}"
    assert sorted(set(LAYERS) - installed) == [], "LAYERS names an app that is not installed"


def test_the_check_sees_function_level_relative_and_type_only_imports(tmp_path: Path) -> None:
    # given: a module of a low app that imports a higher one in every way the parser must see
    module = tmp_path / "probe.py"
    module.write_text(
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "import partyedu.members.models\n"
        "from partyedu import learning\n"
        "from ..study import services\n"
        "if TYPE_CHECKING:\n"
        "    from partyedu.lectures.models import Lecture\n"
        "def f():\n"
        "    from partyedu.competitions.models import Competition\n",
        encoding="utf-8",
    )
    # when
    found = {
        (f.line, f.module, f.type_only)
        for f in imports_of(module, Path("organizations/probe.py"))
        if _upward(f)
    }
    # then
    assert found == {
        (3, "partyedu.members.models", False),
        (4, "partyedu.learning", False),
        (5, "partyedu.study", False),
        (7, "partyedu.lectures.models", True),
        (9, "partyedu.competitions.models", False),
    }


def test_every_declared_hook_has_a_registrant() -> None:
    # A hook nobody registers is a cross-layer call that silently does nothing.
    unregistered = sorted(name for name in HOOKS if not hooks.registered(name))
    assert not unregistered, f"declared in core.hooks.HOOKS but registered by no app: {unregistered}"


def test_role_codes_core_names_are_the_accounts_codes() -> None:
    # core names the roles it checks without importing accounts (see core.maintenance).
    assert MAINTAINER_ROLE == RoleCode.SYSADMIN
