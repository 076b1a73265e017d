"""Rebuild the committed sample: fhir_samples/ndjson/ and fhir_samples/bundles/, the same
synthetic population written once as NDJSON and once as transaction Bundles.

    python fhir_samples/regenerate.py                      # the committed sample
    python fhir_samples/regenerate.py --patients 300 --practices 3 --seed 42

Only those two folders are replaced; nothing else is touched. Every NDJSON and Bundle file is
gzip-compressed (caregaps reads .ndjson.gz and .json.gz as they are) to keep the repository small.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # works from a checkout without installing the package

from caregaps.synth import write_population  # noqa: E402

SAMPLE = {"patients": 300, "practices": 3, "seed": 42}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in SAMPLE.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args(argv)
    for fmt, folder in (("ndjson", HERE / "ndjson"), ("bundle", HERE / "bundles")):
        shutil.rmtree(folder, ignore_errors=True)
        summary = write_population(folder, args.patients, args.practices, args.seed, fmt)
        _compress(folder)
        total = sum(summary["resources_by_type"].values())
        print(f"{folder.relative_to(HERE.parent)}: {args.patients} patients, {total} resources ({fmt})")


def _compress(folder: Path) -> None:
    """Replace each .ndjson and .json data file (not manifest.json) with its gzip (mtime 0, so
    the same population compresses to the same bytes)."""
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".ndjson", ".json") and path.name != "manifest.json":
            with open(path, "rb") as src, open(f"{path}.gz", "wb") as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as dst:
                    shutil.copyfileobj(src, dst)
            path.unlink()


if __name__ == "__main__":
    main()
