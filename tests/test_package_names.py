"""No production function or class is named like a test: pytest collects any ``test*`` function (``Test*`` class)
a test module imports, so such a name turns into a phantom failing test and steers maintainers away from testing it."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "retention_ml"


def test_no_module_level_function_or_class_in_the_package_is_named_like_a_test():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"))
        or (isinstance(node, ast.ClassDef) and node.name.startswith("Test"))
    ]
    assert offenders == [], "rename these (pytest would collect them when imported into a test module)"
