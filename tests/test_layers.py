"""The imports between the apps point one way, down to the kernel.

``photostudio`` (settings, urls, the shared kernel) imports no app, and ``events`` (the event
store, the outbox, webhooks) knows neither bookings nor employees: an app that needs the layer
below it registers a hook there (a subscriber, a dataset, a prunable, a health probe, a metrics
collector) in its ``AppConfig.ready``. Read from the source with ``ast``, so an import inside a
function counts as much as one at the top. Tests and migrations may reach anywhere.
"""

import ast
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
# What each package must never import.
FORBIDDEN = {
    "photostudio": {"events", "employees", "bookings"},
    "events": {"employees", "bookings"},
}
LEFT_OUT = {"tests", "migrations"}


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def forbidden_imports(package_dir: Path, forbidden: set[str]) -> list[str]:
    """``path:line imports module`` for each import of a ``forbidden`` package under ``package_dir``."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        if LEFT_OUT & set(path.relative_to(package_dir).parts):
            continue
        for line, module in imported_modules(path.read_text()):
            if module.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(package_dir.parent)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_nothing_above_it(package):
    assert forbidden_imports(PROJECT_DIR / package, FORBIDDEN[package]) == []


def test_an_upward_import_is_found_wherever_it_hides(tmp_path):
    kernel = tmp_path / "photostudio"
    (kernel / "management" / "commands").mkdir(parents=True)
    (kernel / "tests").mkdir()
    (kernel / "health.py").write_text("def probe():\n    from events.selectors import dispatch_backlog\n")
    (kernel / "management" / "commands" / "seed.py").write_text("import bookings.demo\n")
    (kernel / "tests" / "test_health.py").write_text("from events.models import Event\n")

    assert forbidden_imports(kernel, FORBIDDEN["photostudio"]) == [
        "photostudio/health.py:2 imports events.selectors",
        "photostudio/management/commands/seed.py:1 imports bookings.demo",
    ]
