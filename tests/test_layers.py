"""The floors of `src/bookly` (README, "Internals"): `core` at the bottom imports only `core`;
`models` import only `core` and `models`; the domain packages (every other package) import
`core`, `models` and each other, never in a circle, and never the top-level modules (`main`,
`cli`, `seed`, ...), which may import anything.

Every `bookly` import counts, wherever it is: at the top, inside a function, under
`if TYPE_CHECKING`; relative imports are resolved.
"""

import ast
import itertools
from collections import defaultdict
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "bookly"
CORE, MODELS = "core", "models"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. bookly.core.context
    line: int
    target: str  # the imported module (or package), e.g. bookly.auth.revocation

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def module_name(path: str) -> tuple[str, bool]:
    """`bookly/books/service.py` -> (`bookly.books.service`, False); an `__init__.py` names its
    package (True)."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imports_of(path: str, source: str) -> list[Import]:
    module, is_package = module_name(path)
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source, path)):  # every node: function bodies and ifs too
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `from .x import y` in bookly.books.router is bookly.books.x
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from bookly import books` imports the package it names.
            targets = [f"{base}.{a.name}" for a in node.names] if base == PACKAGE else [base]
        else:
            continue
        found += [
            Import(module, node.lineno, target)
            for target in targets
            if target.split(".")[0] == PACKAGE
        ]
    return found


@dataclass
class Layout:
    """What a tree of sources imports, by the package (or top-level module) of each side."""

    packages: set[str]  # core, models, auth, ...
    imports: list[Import]

    @classmethod
    def of(cls, sources: dict[str, str]) -> "Layout":
        """`sources` maps paths relative to src/ (`bookly/core/db.py`) to their text."""
        packages = {path.split("/")[1] for path in sources if path.count("/") >= 2}
        imports = [found for path, text in sources.items() for found in imports_of(path, text)]
        return cls(packages, imports)

    def unit(self, module: str) -> str:
        """`bookly.books.service` -> `books`; `bookly.main` -> `main`; `bookly` -> `bookly`."""
        parts = module.split(".")
        return parts[1] if len(parts) > 1 else parts[0]

    def is_top_level(self, unit: str) -> bool:
        return unit not in self.packages

    def floor_violations(self) -> list[str]:
        wrong = []
        for found in self.imports:
            source, target = self.unit(found.module), self.unit(found.target)
            if self.is_top_level(source) or target == PACKAGE:
                continue
            if source == CORE and target != CORE:
                wrong.append(f"{found}: core imports only core")
            elif source == MODELS and target not in {CORE, MODELS}:
                wrong.append(f"{found}: models import only core and models")
            elif self.is_top_level(target):
                wrong.append(f"{found}: a package never imports a top-level module")
        return wrong

    def domain_arrows(self) -> dict[tuple[str, str], Import]:
        """One import as evidence for each arrow between two domain packages."""
        arrows: dict[tuple[str, str], Import] = {}
        for found in self.imports:
            arrow = self.unit(found.module), self.unit(found.target)
            if arrow[0] != arrow[1] and all(self.is_domain(unit) for unit in arrow):
                arrows.setdefault(arrow, found)
        return arrows

    def is_domain(self, unit: str) -> bool:
        return unit in self.packages and unit not in {CORE, MODELS}

    def domain_cycles(self) -> list[str]:
        """Each cycle found, as `a -> b -> a` with the imports behind its arrows; a cycle's first
        arrow is set aside before looking again, so every loop is reported, not just one."""
        arrows = self.domain_arrows()
        remaining = set(arrows)
        cycles = []
        while True:
            imported_by: dict[str, set[str]] = defaultdict(set)
            for importer, imported in remaining:
                imported_by[importer].add(imported)
            try:
                TopologicalSorter(imported_by).prepare()
            except CycleError as error:
                # graphlib lists each node before the nodes that depend on it: reversed, each
                # node imports the next. Started at its first package by name, to read the same
                # in every run (where graphlib enters a cycle depends on the sets' order).
                loop = list(reversed(error.args[1]))[:-1]
                start = loop.index(min(loop))
                cycle = [*loop[start:], *loop[:start], loop[start]]
                steps = list(itertools.pairwise(cycle))
                evidence = "; ".join(str(arrows[step]) for step in steps)
                cycles.append(f"{' -> '.join(cycle)} ({evidence})")
                remaining.discard(steps[0])
            else:
                return cycles


def bookly_sources() -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((ROOT / PACKAGE).rglob("*.py"))
    }


def test_the_walk_sees_every_package_and_their_imports() -> None:
    # The checks below pass on nothing if the walk finds nothing: every package is reached from
    # main, directly (the routers it mounts) or through the packages it wires.
    layout = Layout.of(bookly_sources())
    assert {CORE, MODELS, "auth", "books", "mail", "pages", "reviews", "tags", "users"} <= (
        layout.packages
    )
    reached, frontier = set(), {"main"}
    while frontier:
        reached |= frontier
        frontier = {
            layout.unit(found.target)
            for found in layout.imports
            if layout.unit(found.module) in frontier
        } - reached
    assert layout.packages <= reached


def test_core_and_models_import_only_the_floors_below_them() -> None:
    assert Layout.of(bookly_sources()).floor_violations() == []


def test_no_two_domain_packages_import_each_other_in_a_circle() -> None:
    assert Layout.of(bookly_sources()).domain_cycles() == []


# The checker itself, on synthetic trees -------------------------------------------------------


def test_the_checker_reports_a_cycle_hidden_in_a_function_and_under_type_checking() -> None:
    layout = Layout.of(
        {
            "bookly/books/__init__.py": "",
            "bookly/books/service.py": "from bookly.tags.service import tag_names\n",
            "bookly/tags/__init__.py": "",
            "bookly/tags/service.py": "def f():\n    from bookly.users import service\n",
            "bookly/users/__init__.py": "",
            "bookly/users/router.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from ..books.service import BookOut\n"
            ),
            "bookly/mail/__init__.py": "from bookly import books\n",
        }
    )
    [cycle] = layout.domain_cycles()
    assert cycle.startswith("books -> tags -> users -> books (")
    assert "bookly.tags.service:2 imports bookly.users" in cycle
    assert "bookly.users.router:3 imports bookly.books.service" in cycle
    assert ("mail", "books") in layout.domain_arrows()


def test_the_checker_reports_every_separate_cycle() -> None:
    layout = Layout.of(
        {
            "bookly/auth/service.py": "import bookly.users.schemas\n",
            "bookly/users/service.py": "from bookly.auth import service\n",
            "bookly/books/service.py": "from bookly.tags import service\n",
            "bookly/tags/service.py": "from bookly.books.objects import x\n",
        }
    )
    cycles = sorted(cycle.split(" (")[0] for cycle in layout.domain_cycles())
    assert cycles == ["auth -> users -> auth", "books -> tags -> books"]


def test_the_checker_reports_a_floor_imported_from_below() -> None:
    layout = Layout.of(
        {
            "bookly/core/context.py": "def f():\n    from bookly.auth.revocation import Denylist\n",
            "bookly/core/db.py": "from bookly.models import Book\n",
            "bookly/models/book.py": "import bookly.core.db\nfrom bookly.books import x\n",
            "bookly/auth/revocation.py": "from bookly.main import create_app\n",
            "bookly/books/objects.py": "from bookly.models import Book\n",
            "bookly/main.py": "from bookly.core.db import x\nfrom bookly.books import objects\n",
        }
    )
    assert layout.floor_violations() == [
        "bookly.core.context:2 imports bookly.auth.revocation: core imports only core",
        "bookly.core.db:1 imports bookly.models: core imports only core",
        "bookly.models.book:2 imports bookly.books: models import only core and models",
        "bookly.auth.revocation:1 imports bookly.main: a package never imports a top-level module",
    ]
