"""Checks the Lambda zips that `make zips` built: one per function, each holding an
executable `bootstrap` for the chosen architecture, and prints their sizes."""

import argparse
import stat
import sys
import zipfile
from pathlib import Path

# ELF e_machine values.
MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}


def check(function: str, arch: str) -> list[str]:
    path = Path("target/lambda") / function / "bootstrap.zip"
    if not path.is_file():
        return [f"{function}: {path} is missing"]
    problems = []
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if names != ["bootstrap"]:
            problems.append(f"{function}: the zip holds {names}, not just bootstrap")
        if "bootstrap" not in names:
            return problems
        info = archive.getinfo("bootstrap")
        mode = info.external_attr >> 16
        if not mode & stat.S_IXUSR:
            problems.append(f"{function}: bootstrap is not executable (mode {oct(mode)})")
        head = archive.read("bootstrap")[:20]
        if head[:4] != b"\x7fELF":
            problems.append(f"{function}: bootstrap is not an ELF executable")
        elif int.from_bytes(head[18:20], "little") != MACHINES[arch]:
            problems.append(f"{function}: bootstrap is not built for {arch}")
        print(f"{function}: zip {path.stat().st_size:,} bytes, bootstrap {info.file_size:,} bytes")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", choices=sorted(MACHINES), required=True)
    parser.add_argument("functions", nargs="+")
    args = parser.parse_args()
    problems = [p for f in args.functions for p in check(f, args.arch)]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
