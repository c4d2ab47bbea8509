"""What a data protection officer's search for one person costs: ``retention-ml find-worker`` over a month's
scoring folder and lists folder (csv, xlsx, html), run as a user runs it (one process, imports included).

Prints the files searched, the files that hold each id (with what they are), and wall and CPU time, peak memory
and the machine's load. Read only, like the command.

National (run under the national lock; a few minutes of ``rank`` first)::

    retention-ml score --model models:/retention-ml-turnover@candidate --data NAT --as-of 2024-01-01 --out scores/2024-01
    retention-ml rank --scores scores/2024-01 --all --format csv,xlsx,html --out lists
    .venv/bin/python benchmarks/bench_find_worker.py --ids W0026554 --paths scores lists
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measured import measured_child  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ids", nargs="+", required=True, help="pseudonymous worker ids to look for, one run each")
    parser.add_argument("--paths", nargs="+", required=True, help="folders or files to search")
    args = parser.parse_args(argv)
    for worker in args.ids:
        with tempfile.TemporaryFile("w+") as out:
            figures = measured_child([sys.executable, "-m", "retention_ml", "find-worker", worker, *args.paths,
                                      "--json"], stdout=out, env=os.environ.copy())
            out.seek(0)
            record = json.load(out)
        print(f"{worker}: {len(record['files'])} of {record['files_searched']} files hold it, "
              f"{len(record['unreadable'])} unreadable; {figures['wall_s']} s wall, {figures['cpu_s']} s CPU, "
              f"{figures['peak_rss_gb']} GB ({figures['machine']})")
        for f in record["files"]:
            print(f"  {f['path']}: {f['kind']}, {f['mentions']} mention(s)")


if __name__ == "__main__":
    main()
