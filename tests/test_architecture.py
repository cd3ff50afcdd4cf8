"""The import rule of `geo/`: a core and six wings, every import pointing down the list.

The README's "Architecture" section states the rule; this test keeps it true. A wing may import
the core, its own modules and the wings listed after it; nothing in `geo/` imports Streamlit,
`ui` or `pages`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GEO = Path(__file__).resolve().parents[1] / "geo"

# Top to bottom: a wing may import only itself, the wings after it and the core.
WINGS = ["curation", "drafting", "io", "views", "store", "places"]
CORE = {"schema", "errors", "validation", "filters", "settings", "admin1"}
FORBIDDEN_ROOTS = {"streamlit", "streamlit_folium", "ui", "pages"}
MAX_LINES = 600


def _layer(module: str) -> int:
    """Height of a `geo.` module: 0 for the CLI, 1.. for the wings, len(WINGS)+1 for the core."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in {"cli", "__init__"}:
        return 0
    if parts[1] in WINGS:
        return 1 + WINGS.index(parts[1])
    assert parts[1] in CORE, f"geo.{parts[1]} is neither a wing nor a core module"
    return len(WINGS) + 1


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(GEO.rglob("*.py")):
        rel = path.relative_to(GEO.parent).with_suffix("")
        out.append((".".join(rel.parts).removesuffix(".__init__"), path))
    return out


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "geo":
                found += [(node.lineno, f"geo.{alias.name}") for alias in node.names]
    return found


@pytest.mark.parametrize(("module", "path"), _modules(), ids=lambda v: str(v))
def test_imports_point_down(module: str, path: Path) -> None:
    own = _layer(module)
    bad = []
    for line, name in _imports(path):
        root = name.split(".")[0]
        if root in FORBIDDEN_ROOTS:
            bad.append(f"line {line}: imports {name} (geo/ never imports Streamlit, ui or pages)")
        if root == "geo" and name != "geo" and own > 0 and _layer(name) < own:
            bad.append(f"line {line}: imports {name}, a wing listed above its own")
    assert not bad, f"{module}:\n" + "\n".join(bad)


def test_layer_rule_catches_an_upward_import() -> None:
    # The rule itself: places sits below views, so places importing views is refused.
    assert _layer("geo.places.regions") > _layer("geo.views.mapview")
    assert _layer("geo.schema") > _layer("geo.places.regions")
    assert _layer("geo.cli") == 0


@pytest.mark.parametrize(("module", "path"), _modules(), ids=lambda v: str(v))
def test_modules_stay_small(module: str, path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it along its concerns"
