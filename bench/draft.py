"""Drafting the five curated articles: time and peak memory per draft, and the scores.

    .venv/bin/python -m bench.draft [--repeats 3]

Each draft runs as `ruralkg draft ARTICLE -o FILE` in a fresh process, so the time includes
starting Python, loading jieba's dictionary and scanning all 665,271 official divisions, as a
person running the command pays it; the peak resident memory is that process's (ru_maxrss of
the child). The baseline is the same process doing nothing but start and import the CLI
(`ruralkg --help`), so the draft's own share is the difference. Then every draft is scored
against its curated file (loaders.draft.compare), the figures docs/benchmarks/draft.md reports.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from graph.settings import get_settings
from loaders.casefile import parse_case_file
from loaders.draft.compare import compare, format_comparison
from loaders.draft.write import read_draft
from loaders.load import curated_cases
from loaders.regions import resolve_cases

CLI = [sys.executable, "-m", "api.cli"]


def _run(args: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and the child's peak RSS in MB, each run in a
    wrapper process of its own (ru_maxrss is the largest child so far). CPU seconds are what a
    draft costs whatever else the machine runs: drafting is one thread, so on an idle machine
    the wall time is the CPU time."""
    code = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], capture_output=True);"
        "w = time.perf_counter() - t;"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(w, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024, r.returncode)"
    )
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    wall, cpu, rss, rc = out.stdout.split()
    if rc != "0":
        raise RuntimeError(f"{' '.join(args)} exited {rc}")
    return float(wall), float(cpu), float(rss)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    settings = get_settings()
    cases = [c for c in curated_cases(settings) if c.source.kind == "article"]
    resolution = resolve_cases(curated_cases(settings))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpus: {os.cpu_count()}")
    base = [_run([*CLI, "--help"]) for _ in range(args.repeats)]
    wall, cpu = statistics.median(b[0] for b in base), statistics.median(b[1] for b in base)
    print(f"baseline (start Python, import the CLI): wall median {wall:.2f} s, CPU median {cpu:.2f} s")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            assert case.source.file
            article = settings.sources_dir / case.source.file
            out = Path(tmp) / f"{article.stem}.draft.yaml"
            runs = [_run([*CLI, "draft", str(article), "-o", str(out)]) for _ in range(args.repeats)]
            walls = [w for w, _, _ in runs]
            cpus = [c for _, c, _ in runs]
            rss = max(r for _, _, r in runs)
            print(
                f"{case.path.name:<32} wall median {statistics.median(walls):.2f} s "
                f"(min {min(walls):.2f}), CPU median {statistics.median(cpus):.2f} s "
                f"(min {min(cpus):.2f}), peak RSS {rss:.0f} MB"
            )
            parsed, _ = parse_case_file(case.path)
            assert parsed is not None
            results.append(compare(read_draft(out), parsed, resolution, article))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(format_comparison(results))
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this benchmark process itself: {self_rss:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
