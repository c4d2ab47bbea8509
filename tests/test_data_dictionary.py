"""The generated data dictionary: current with the schema files, and complete."""

import subprocess
import sys

from retention_ml.data_dictionary import dictionary_path, is_stale, render_data_dictionary, write_data_dictionary
from retention_ml.schema import load_drivers, load_schemas


def test_committed_dictionary_is_not_stale():
    assert not is_stale(), "data_schema/README.md is stale: run `python -m retention_ml.data_dictionary` and commit it"


def test_every_table_column_and_driver_is_documented():
    text = render_data_dictionary()
    for table in load_schemas().values():
        assert f"## Table `{table.name}`" in text
        for column in table.columns:
            assert f"| `{column.name}` |" in text
    for driver in load_drivers():
        assert f"| `{driver.code}` | {driver.label} |" in text
        for lever in driver.levers:
            assert lever in text


def test_flags_keys_units_and_allowed_values_appear():
    text = render_data_dictionary()
    assert "| `sex` | text | yes | no | `female`, `male`, `not_known` |  | **protected**" in text
    assert "**personal**" in text.split("| `comment` |")[1].split("\n")[0]
    assert "- Primary key: `worker_id`, `month`" in text
    assert "- Foreign key: `team_id` → `teams.team_id`." in text
    assert "`end_date >= start_date`" in text
    assert "| 0 to 150 | cases |" in text
    # Exit-interview codes come from the taxonomy, with the list separator spelled out.
    assert "list separated by `;` of: `caseload_workload`" in text
    primary = text.split("| `primary_reason` |")[1].split("\n")[0]
    assert "`retirement` (from `drivers.exit_reason`)" in primary and "`other`" not in primary


def test_stale_file_is_detected_and_rewritten(tmp_path):
    target = tmp_path / "README.md"
    target.write_text("# old\n", encoding="utf-8")
    assert is_stale(target)
    write_data_dictionary(target)
    assert not is_stale(target)
    assert not list(tmp_path.glob(".*.tmp"))


def test_module_check_flag_exits_by_staleness(tmp_path):
    stale = tmp_path / "README.md"
    stale.write_text("old", encoding="utf-8")
    cmd = [sys.executable, "-m", "retention_ml.data_dictionary", "--check", "--output"]
    assert subprocess.run(cmd + [str(stale)], capture_output=True).returncode == 1
    assert subprocess.run(cmd + [str(dictionary_path())], capture_output=True).returncode == 0


def test_schema_command_shows_tables_and_columns():
    import json

    from typer.testing import CliRunner

    from retention_ml.cli import app

    runner = CliRunner()
    listing = json.loads(runner.invoke(app, ["schema", "show", "--json"]).stdout)
    assert [t["table"] for t in listing["tables"]] == sorted(load_schemas())
    workers = json.loads(runner.invoke(app, ["schema", "show", "workers", "--json"]).stdout)
    sex = next(c for c in workers["columns"] if c["column"] == "sex")
    assert sex["protected"] is True and sex["values"] == "female, male, not_known"
    assert runner.invoke(app, ["schema", "show", "nope"]).exit_code == 2
    assert runner.invoke(app, ["schema", "docs", "--check"]).exit_code == 0


def test_the_writing_section_names_every_missing_marker_validation_refuses():
    from retention_ml.data_dictionary import render_data_dictionary
    from retention_ml.validation import MISSING_MARKERS

    section = render_data_dictionary().split("## Writing the files", 1)[1].split("\n## ", 1)[0]
    for marker in MISSING_MARKERS:
        assert f"`{marker.upper()}`" in section
    assert "no_rows_for_council" in section and "DD/MM/YYYY" in section


def test_schema_template_writes_header_only_tables_that_validate_reads(tmp_path):
    import json

    from typer.testing import CliRunner

    from retention_ml.cli import app
    from retention_ml.validation import validate_dir

    runner = CliRunner()
    out = tmp_path / "extract"
    res = runner.invoke(app, ["schema", "template", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t in load_schemas())
    for name, schema in load_schemas().items():
        assert (out / f"{name}.csv").read_text(encoding="utf-8") == ",".join(schema.column_names) + "\n"
    assert json.loads(res.stdout)["optional"] == [n for n, s in load_schemas().items() if not s.required]
    # Every column is where validate looks for it: only the missing rows are reported, never a column.
    report = validate_dir(out)
    assert set(report.failures["rule"]) == {"empty_file"}
    # A filled folder is never overwritten by accident.
    (out / "teams.csv").write_text("team_id\nT1\n", encoding="utf-8")
    again = runner.invoke(app, ["schema", "template", str(out), "--json"])
    assert again.exit_code == 2 and "--force" in json.loads(again.stdout)["error"]
    assert (out / "teams.csv").read_text(encoding="utf-8") == "team_id\nT1\n"


def test_schema_template_help_teaches_with_examples():
    from typer.testing import CliRunner

    from retention_ml.cli import app

    res = CliRunner().invoke(app, ["schema", "template", "--help"])
    assert res.exit_code == 0 and "Examples:" in res.output and "retention-ml schema template extract/" in res.output
