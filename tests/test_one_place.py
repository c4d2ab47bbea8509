"""Project constants live in one module each; every other module imports them instead of typing a copy.

A copy drifts silently: a card reading a misspelt artifact path shows "not measured", a gate checking a
differently spelt tag refuses a model whose card was written, a module with its own small-group floor
publishes what another withholds. These tests read the package's source (string literals outside
docstrings, module-level integer assignments) so a new copy fails here, naming the file and line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from retention_ml import artifacts

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(REPO / "retention_ml").rglob("*.py"), *(REPO / "benchmarks").glob("*.py")])
WRITER_SPELLS: dict = {}  # no module is exempt: the writer spells the names through artifacts too


def _names() -> dict[str, str]:
    """Every artifact path, its file name, and every tag, mapped to the constant that holds it."""
    names = {}
    for const in artifacts.__all__:
        value = getattr(artifacts, const)
        if not isinstance(value, str) or const.endswith("_DIR"):
            continue  # folder names ("evaluation", "model_card") are ordinary words elsewhere
        names[value] = const
        names.setdefault(artifacts.file_name(value), const)
    return names


def _literals(path: Path):
    """(line, text) of each string constant in ``path`` that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_artifact_paths_and_tags_are_spelt_only_in_artifacts():
    names = _names()
    copies = [f"{p.relative_to(REPO)}:{line}: {text!r} (use artifacts.{names[text]})"
              for p in SOURCES if p.name != "artifacts.py"
              for line, text in _literals(p)
              if text in names and text not in WRITER_SPELLS.get(p, ())]
    assert not copies, "artifact names typed outside retention_ml/artifacts.py:\n" + "\n".join(copies)


def test_what_the_gate_reads_is_what_the_card_writes():
    from retention_ml import promotion
    from retention_ml.reports import model_card

    assert promotion.CARD_TAG == model_card.CARD_TAG == artifacts.CARD_TAG
    assert artifacts.folder(promotion.CARD_ARTIFACT) == model_card.CARD_DIR
    assert artifacts.file_name(promotion.CARD_ARTIFACT) == "model_card.md"


@pytest.mark.parametrize("path, folder, name", [("evaluation/metrics.json", "evaluation", "metrics.json"),
                                                ("feature_catalogue.csv", None, "feature_catalogue.csv")])
def test_folder_and_file_name(path, folder, name):
    assert artifacts.folder(path) == folder and artifacts.file_name(path) == name


# Integer MIN_* constants that are not a publication floor (each says why).
NOT_FLOORS = {
    ("fairness.py", "MIN_CLASS"): "leavers and stayers a group needs for ROC-AUC to mean anything (statistics)",
    ("validation.py", "MIN_NAME_CHARS"): "shortest column name the header check compares",
}


def _int_constants(path: Path):
    """(line, name) of each module-level ``MIN_* = <integer literal>`` in ``path``."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and type(node.value.value) is int):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.startswith("MIN_"):
                    yield node.lineno, target.id


def test_small_group_floors_are_defined_only_in_disclosure():
    copies = [f"{p.relative_to(REPO)}:{line}: {name} (import it from retention_ml.disclosure)"
              for p in SOURCES if p.name != "disclosure.py"
              for line, name in _int_constants(p) if (p.name, name) not in NOT_FLOORS]
    assert not copies, "a small-group floor typed outside retention_ml/disclosure.py:\n" + "\n".join(copies)


def test_every_publisher_uses_the_one_floor():
    from retention_ml import disclosure, evaluate, fairness
    from retention_ml.explain import alignment
    from retention_ml.reports import risk_list

    assert alignment.MIN_GROUP == risk_list.MIN_GROUP == disclosure.MIN_PEOPLE
    assert evaluate.expected_vs_observed.__kwdefaults__["min_people"] == disclosure.MIN_PEOPLE
    assert fairness.MIN_GROUP == disclosure.MIN_FAIRNESS_GROUP


def test_band_defaults_are_written_once_in_the_shipped_bands_file(tmp_path):
    from retention_ml.reports.risk_list import BandConfig, load_band_config

    assert BandConfig() == load_band_config()  # every field (the source is not compared)
    own = tmp_path / "bands.toml"
    own.write_text("[bands]\nmedium = 0.2\nhigh = 0.4\n", encoding="utf-8")
    # a council's file that states only its cut-offs gets every other setting from the shipped file
    assert load_band_config(own) == BandConfig(medium=0.2, high=0.4)


def test_code_cites_only_documents_in_the_repository():
    # The project's guide and contracts are not shipped with the repository, so a maintainer reading
    # "see CONTRACTS section 4" has nothing to open: cite a module, a docstring or a README section instead.
    cited = re.compile(r"\b(CONTRACTS|STANDARDS)(\.md)?\b")
    roots = [REPO / d for d in ("retention_ml", "tests", "benchmarks", "data_schema", "experiments", "docs")]
    files = [p for r in roots if r.exists() for p in r.rglob("*")
             if p.suffix in (".py", ".yaml", ".toml", ".md", ".j2", ".txt") and p != Path(__file__).resolve()]
    files += [REPO / "README.md"]
    hits = [f"{p.relative_to(REPO)}:{i}: {line.strip()}" for p in files
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if cited.search(line) and not (REPO / f"{cited.search(line)[1]}.md").exists()]
    assert not hits, "cites a document that is not in the repository:\n" + "\n".join(hits)


def test_only_tracking_imports_mlflow():
    """tracking.py is the one door to MLflow (and pyfunc_model.py, the script MLflow runs to load a model)."""
    doors = {REPO / "retention_ml" / "tracking.py", REPO / "retention_ml" / "pyfunc_model.py"}
    imports = re.compile(r"^\s*(import mlflow|from mlflow[\s.])", re.M)
    found = [str(p.relative_to(REPO)) for p in (REPO / "retention_ml").rglob("*.py")
             if p not in doors and imports.search(p.read_text(encoding="utf-8"))]
    assert not found, f"modules importing mlflow directly (ask retention_ml.tracking instead): {found}"


def test_an_option_several_commands_share_is_declared_once():
    """Two ``typer.Option`` calls with the same flag and the same help are one option typed twice: its help
    drifts when one copy is edited. Declare it once in retention_ml/commands/__init__.py (``run: RunOption``)."""
    sites: dict[tuple, list[str]] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Option":
                flags = tuple(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
                helps = [ast.unparse(k.value) for k in node.keywords if k.arg == "help"]
                if flags and helps:
                    sites.setdefault((flags, helps[0]), []).append(f"{path.relative_to(REPO)}:{node.lineno}")
    copies = [f"{' '.join(flags)}: {', '.join(where)}" for (flags, _), where in sites.items() if len(where) > 1]
    assert not copies, "the same option declared more than once (use one Annotated alias):\n" + "\n".join(copies)
