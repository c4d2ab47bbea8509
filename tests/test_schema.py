"""The declarative schemas in data_schema/: they load, and every reference in them resolves."""

import re

import pytest
import yaml

from retention_ml.schema import COLUMN_TYPES, driver_codes, load_drivers, load_schemas, schema_dir, schema_version
from retention_ml.validation import RULES

SCHEMAS = load_schemas()
DRIVER_CODES = {d.code for d in load_drivers()}


def test_every_table_file_loads_and_has_a_version():
    files = sorted(schema_dir().glob("tables/*.yaml"))
    assert len(files) == len(SCHEMAS) >= 10
    for path in files:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(raw["version"], int) and raw["version"] >= 1, path
        assert raw["table"] == path.stem


def test_issue_minimum_tables_are_declared():
    assert {"teams", "workers", "caseload_history", "pay_history", "commute", "housing_costs", "absence",
            "supervision", "exit_interviews"} <= set(SCHEMAS)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_columns_are_fully_described(name):
    table = SCHEMAS[name]
    names = table.column_names
    assert len(names) == len(set(names)), "duplicate column"
    assert set(table.primary_key) <= set(names)
    for col in table.columns:
        assert col.type in COLUMN_TYPES
        assert col.description.strip(), f"{name}.{col.name} has no description"
        if col.min is not None and col.max is not None:
            assert col.min <= col.max
        assert not (col.name in table.primary_key and col.nullable), f"{name}.{col.name}: key columns cannot be empty"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_foreign_keys_and_row_checks_refer_to_real_columns(name):
    table = SCHEMAS[name]
    for fk in table.foreign_keys:
        assert set(fk.columns) <= set(table.column_names)
        assert fk.table in SCHEMAS and fk.column in SCHEMAS[fk.table].column_names
        # an optional parent must declare the rows that stand for it when it is not given (pay_bands)
        assert SCHEMAS[fk.table].required or SCHEMAS[fk.table].default_rows, "references must point at a table that is always there"
    for chk in table.row_checks:
        assert chk.column in table.column_names and chk.other in table.column_names
        assert chk.op in ("<=", ">=", "<", ">", "==", "!=", "not_contains")
        assert chk.rule in RULES  # every rule a report can name is documented
    for col in table.columns:
        for warn in col.warn_if_matches:
            assert warn.rule in RULES


def test_every_allowed_from_resolves_to_driver_codes():
    found = 0
    for table in SCHEMAS.values():
        for col in table.columns:
            if col.allowed_from:
                found += 1
                values = col.allowed_values()
                assert values and set(values) <= DRIVER_CODES
    assert found >= 2
    assert set(SCHEMAS["exit_interviews"].column("primary_reason").allowed_values()) == set(driver_codes(exit_reason=True))


def test_drivers_are_unique_and_cover_the_issue_taxonomy():
    codes = [d.code for d in load_drivers()]
    assert len(codes) == len(set(codes))
    assert {"caseload_workload", "work_life_balance", "pay", "career_progression", "supervision_management",
            "commute", "housing_cost", "team_instability", "personal", "retirement"} <= set(codes)
    raw = yaml.safe_load((schema_dir() / "drivers.yaml").read_text(encoding="utf-8"))
    assert isinstance(raw["version"], int)


def test_every_driver_referenced_in_the_schemas_exists():
    text = "\n".join(p.read_text(encoding="utf-8") for p in schema_dir().glob("tables/*.yaml"))
    for ref in re.findall(r"allowed_from:\s*drivers\.(\w+)", text):
        assert hasattr(load_drivers()[0], ref), f"drivers have no flag {ref}"
    for driver in load_drivers():
        if driver.model_visible and driver.code != "other":
            assert driver.levers, f"{driver.code} has no levers"


def test_schema_version_is_stable_and_reflects_table_versions():
    version = schema_version()
    assert version == schema_version()
    total, digest = version.split("-")
    assert int(total) == sum(t.version for t in SCHEMAS.values()) and len(digest) == 10


def test_protected_columns_are_the_four_characteristics():
    assert SCHEMAS["workers"].protected_columns == ["sex", "age_band", "ethnicity_group", "disability"]


def test_schema_show_prints_declared_patterns_and_flags_as_text_at_any_width():
    # `schema show teams` crashed on the pattern [/\\] (read as rich markup), and the [protected] and
    # [personal] flags vanished from `schema show workers` the same way.
    from typer.testing import CliRunner

    from retention_ml.cli import app

    runner = CliRunner()
    for width in ("200", "80"):
        teams = runner.invoke(app, ["schema", "show", "teams"], env={"COLUMNS": width})
        assert teams.exit_code == 0, teams.output
        assert "[/\\\\]" in teams.output
        workers = runner.invoke(app, ["schema", "show", "workers"], env={"COLUMNS": width})
        assert workers.exit_code == 0 and workers.output.count("[protected]") == 4 and "[personal]" in workers.output
    # On a laptop terminal each column is a block whose description is not folded a few letters wide.
    narrow = runner.invoke(app, ["schema", "show", "workers"], env={"COLUMNS": "80"}).output
    assert "\nfte: float; required; never empty; values: 0.1 to 1; unit: FTE\n    Contracted full-time equivalent now" in narrow


def test_schema_version_follows_content_not_comments(tmp_path, monkeypatch):
    """A comment edit in drivers.yaml (session 18 re-measured the counts its comments quote) changed the version
    every run carries, though no input changed; a changed value still changes it."""
    import shutil

    from retention_ml import schema

    copy = tmp_path / "data_schema"
    shutil.copytree(schema_dir(), copy)
    monkeypatch.setenv("RETENTION_ML_SCHEMA_DIR", str(copy))
    before = schema_version()
    drivers = copy / "drivers.yaml"
    drivers.write_text("# a new comment\n" + drivers.read_text(encoding="utf-8").replace("\n", "\n\n", 3), encoding="utf-8")
    schema._load_schemas.cache_clear()
    assert schema_version() == before
    drivers.write_text(drivers.read_text(encoding="utf-8").replace("code: pay\n", "code: pay_and_grading\n", 1),
                       encoding="utf-8")
    assert "pay_and_grading" in drivers.read_text(encoding="utf-8")
    _clear_schema_caches()
    assert schema_version() != before


def test_schema_version_ignores_a_drivers_words(tmp_path, monkeypatch):
    """A driver's label, description or levers are words on lists and cards; its code and flags decide which
    exit-interview codes are read as allowed."""
    import shutil

    copy = tmp_path / "data_schema"
    shutil.copytree(schema_dir(), copy)
    monkeypatch.setenv("RETENTION_ML_SCHEMA_DIR", str(copy))
    _clear_schema_caches()
    before = schema_version()
    drivers = copy / "drivers.yaml"
    drivers.write_text(drivers.read_text(encoding="utf-8").replace("label: Pay", "label: Pay and grading", 1), encoding="utf-8")
    _clear_schema_caches()
    assert "Pay and grading" in drivers.read_text(encoding="utf-8") and schema_version() == before
    _clear_schema_caches()


def _clear_schema_caches():
    from retention_ml import schema

    for cached in (schema._load_schemas, schema._load_drivers, schema._lever_groups):
        cached.cache_clear()


def _edited_version(tmp_path, monkeypatch, table: str, old: str, new: str) -> tuple[str, str]:
    """schema_version() of a copy of data_schema/ before and after replacing ``old`` by ``new`` in ``table``'s YAML."""
    import shutil

    copy = tmp_path / "data_schema"
    shutil.copytree(schema_dir(), copy)
    monkeypatch.setenv("RETENTION_ML_SCHEMA_DIR", str(copy))
    _clear_schema_caches()
    before = schema_version()
    path = copy / "tables" / f"{table}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    _clear_schema_caches()
    after = schema_version()
    _clear_schema_caches()
    return before, after


@pytest.mark.parametrize("old, new", [
    # words for the reader: a column's or table's description, a fix (hints), the names systems give a column,
    # a unit, a rule's message and a foreign key's hint
    ("description: Job role.", "description: The worker's job role."),
    ("type: a fraction of full time (write 60%", "type: a share of full time (write 60%"),
    ("also_called: [team, team_code]", "also_called: [team, team_code, team_ref]"),
    ("unit: FTE", "unit: full-time equivalent"),
    ("from the HR system. Protected", "from the HR system (or payroll). Protected"),
    ("message: end_date must be on or after start_date", "message: end_date must be on start_date or later"),
    ("message: looks like a person's name", "message: looks like someone's name"),
    ("    give the new spell a new id", "    give the new spell its own new id"),
])
def test_schema_version_ignores_words_for_the_reader(tmp_path, monkeypatch, old, new):
    """A docs-only edit (a description, a hint, another name for a column) reads every extract as before, so a
    run trained before it must carry the same version as one trained after: the version changed with every such
    edit, which made old runs look trained on another schema."""
    before, after = _edited_version(tmp_path, monkeypatch, "workers", old, new)
    assert after == before


@pytest.mark.parametrize("old, new", [
    ("  - name: fte\n    type: float", "  - name: fte\n    type: string"),   # a type
    ("    min: 0.1\n    max: 1.0\n    unit: FTE", "    min: 0.2\n    max: 1.0\n    unit: FTE"),   # a rule's bound
    ("primary_key: [worker_id]", "primary_key: [worker_id, team_id]"),   # a key
    ("    op: \">=\"\n    other: start_date", "    op: \">\"\n    other: start_date"),   # a row check
    ("pattern: '^[0-9]+$'", "pattern: '^[0-9]{6,}$'"),   # a warning's pattern
])
def test_schema_version_follows_what_decides_the_reading(tmp_path, monkeypatch, old, new):
    before, after = _edited_version(tmp_path, monkeypatch, "workers", old, new)
    assert after != before
