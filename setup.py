"""Builds the console's static assets (npm, in ``console/``) when they are missing, so that
``pip install .`` ships a package whose service serves the console. Everything else about the
package is declared in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
CONSOLE = ROOT / "console"
STATIC = ROOT / "src" / "deconfliction" / "console" / "static"


class BuildConsole(build_py):
    """``build_py`` that first runs ``npm ci && npm run build`` in ``console/`` if the built
    console is missing (a fresh checkout); built assets are reused as they are."""

    def run(self) -> None:
        if not (STATIC / "index.html").is_file():
            build_console()
        super().run()


def build_console() -> None:
    if not (CONSOLE / "package.json").is_file():
        raise SystemExit(f"cannot build the console: {CONSOLE / 'package.json'} is missing")
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "building deconfliction needs npm (Node.js 20 or newer) to build the console in "
            "console/: install Node.js and npm, or run `npm ci && npm run build` there first"
        )
    for step in (["ci", "--no-audit", "--no-fund"], ["run", "build"]):
        print(f"console: npm {' '.join(step)}", flush=True)
        subprocess.run([npm, *step], cwd=CONSOLE, check=True)
    if not (STATIC / "index.html").is_file():
        raise SystemExit(f"npm run build did not write {STATIC / 'index.html'}")


setup(cmdclass={"build_py": BuildConsole})
