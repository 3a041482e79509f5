"""Compile the pricing engine (and the what-if replay's walk) with mypyc, if it is not built
for these sources already.

    .venv/bin/python scripts/build_engine.py [--force] [--quiet]

Run by `make install`. Never fails the install: when mypyc, a C compiler or the build itself
is missing or broken it prints one line and exits 0, and the engine runs as pure Python.

The build works on a snapshot: the package's sources are copied into a scratch directory,
hashed there, compiled from there, loaded once to check, and only then renamed into
`<sys.prefix>/patron-engine/<key>/` (see patron/engine/native.py for the key and how
`patron.engine` picks a build). A source edited while this runs cannot end up under a
key it was not compiled from; an interrupted build leaves only a scratch directory.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _load_native() -> ModuleType:
    """patron/engine/native.py on its own (standard library only): importing `patron.engine`
    would load whichever engine is current, which the build must not depend on."""
    spec = importlib.util.spec_from_file_location(
        "_engine_native", ROOT / "patron/engine/native.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks the module up
    spec.loader.exec_module(module)
    return module


native = _load_native()

# Runs in the scratch directory, in a child process: mypyc and setuptools chatter, and a
# crash in them must not take this script with it.
SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify
paths, group, out, temp = sys.argv[1].split(","), sys.argv[2], sys.argv[3], sys.argv[4]
setup(
    name="patron-engine-native",
    ext_modules=mypycify(paths, group_name=group, opt_level="3"),
    script_args=["build_ext", "--build-lib", out, "--build-temp", temp],
)
"""

# Loads the staged build through the selection `patron.engine` makes, with the snapshot's
# sources (PATRON_ENGINE_PURE keeps the package from activating an older build first).
CHECK = """
import sys
from pathlib import Path
import patron.engine
from patron.engine import native
root = sys.argv[1]
selection = native.activate(native.select(root=Path(root), environ={}))
assert selection.engine == "compiled", selection.reason
import patron.engine.pricing as pricing
assert pricing.__file__.startswith(root), pricing.__file__
assert type(pricing.quote).__name__ == "builtin_function_or_method", type(pricing.quote)
for name in native.COMPILED:  # the ones served when first imported load too
    module = __import__(name, fromlist=["_"])
    assert module.__file__.startswith(root), module.__file__
"""


def say(message: str) -> None:
    print(f"engine: {message}", flush=True)


def up_to_date() -> Path | None:
    """The build directory for the sources as they are, if one is complete."""
    selection = native.select(environ={})
    if selection.engine == "compiled":
        return native.build_root() / native.build_key(native.source_hashes())
    return None


def build(log: Path) -> Path:
    """Compile a snapshot of the sources; the finished build's directory. Raises on failure."""
    root = native.build_root()
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=root))
    try:
        return _build_in(scratch, root, log)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _build_in(scratch: Path, root: Path, log: Path) -> Path:
    source = scratch / "src"
    package = source / "patron" / "engine"
    package.mkdir(parents=True)
    (source / "patron" / "__init__.py").write_text("")
    for path in native.PACKAGE_DIR.glob("*.py"):
        shutil.copy2(path, package / path.name)
    for relative in native.COMPANIONS:
        target = source / "patron" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        (target.parent / "__init__.py").touch()
        shutil.copy2(native.PACKAGE_DIR.parent / relative, target)
    hashes = native.source_hashes(package)
    key = native.build_key(hashes)
    out = scratch / "out"
    paths = [name.replace(".", "/") + ".py" for name in native.COMPILED]
    with log.open("w") as output:
        subprocess.run(
            [
                sys.executable,
                "-c",
                SETUP,
                ",".join(paths),
                native.GROUP,
                str(out),
                str(scratch / "tmp"),
            ],
            cwd=source,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=900,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
    modules = {name: _extension(out, name) for name in (*native.COMPILED, native.SHARED_LIBRARY)}
    manifest = {
        "key": key,
        "sources": hashes,
        "modules": {name: str(path.relative_to(out)) for name, path in modules.items()},
        "python": sys.version,
        "mypy": _mypy_version(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (out / native.MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    # Load it once, named by its key as it will be, before it counts.
    staged = scratch / "staged" / key
    staged.parent.mkdir()
    out.rename(staged)
    with log.open("a") as output:
        subprocess.run(
            [sys.executable, "-c", CHECK, str(staged.parent)],
            cwd=scratch,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=120,
            env={
                **os.environ,
                "PYTHONPATH": str(source),
                "PYTHONDONTWRITEBYTECODE": "1",
                native.PURE_VARIABLE: "1",
            },
        )
    final = root / key
    if not final.exists():  # else built meanwhile by another run: keep that one
        staged.rename(final)
    return final


def _extension(out: Path, module: str) -> Path:
    *package, name = module.split(".")
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    path = out.joinpath(*package, name + suffix)
    if not path.is_file():
        raise FileNotFoundError(f"mypyc did not produce {path}")
    return path


def _mypy_version() -> str:
    from mypy.version import __version__

    return __version__


KEPT_BUILDS = 3  # switching branches back and forth need not recompile each time


def prune(keep: Path) -> None:
    """Leftovers of interrupted or failed runs, and builds of older sources beyond the few
    most recent (`keep`, the one just made, always stays)."""
    builds = []
    for path in native.build_root().iterdir():
        if path.name.startswith("failed-"):
            path.unlink(missing_ok=True)
        elif path.is_dir() and path.name.startswith("scratch-"):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_dir() and len(path.name) == 32 and path != keep:
            builds.append(path)
    builds.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    for path in builds[KEPT_BUILDS - 1 :]:
        shutil.rmtree(path, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="build even if up to date")
    parser.add_argument("--quiet", action="store_true", help="say nothing when up to date")
    args = parser.parse_args()
    current = None if args.force else up_to_date()
    if current is not None:
        if not args.quiet:
            say(f"compiled build up to date ({current})")
        return 0
    root = native.build_root()
    log = root / "build.log"
    # A failed build is not retried on every `make test` for the same sources (it would cost
    # the compile time each time): an edit, or --force, tries again.
    failed = root / f"failed-{native.build_key(native.source_hashes())}"
    if failed.exists() and not args.force:
        say(f"compiling failed before for these sources (see {log}; --force retries): pure Python")
        return 0
    try:
        import mypyc.build  # noqa: F401
        import setuptools  # noqa: F401
    except ImportError as error:
        say(f"not compiled ({error.name} is not installed): the pure-Python engine is used")
        return 0
    started = time.monotonic()
    try:
        root.mkdir(parents=True, exist_ok=True)
        final = build(log)
    except Exception as error:  # noqa: BLE001 - any failure leaves the pure engine, said once
        with contextlib.suppress(OSError):
            failed.write_text(f"{type(error).__name__}: {error}\n")
        say(f"compiling failed ({type(error).__name__}; see {log}): the pure-Python engine is used")
        return 0
    prune(final)
    say(f"compiled with mypyc in {time.monotonic() - started:.0f} s ({final})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
