"""Which engine runs (patron/engine/native.py): the compiled one when `make install` built it
for exactly these sources, else the pure-Python source; never a stale binary.

The fallback tests run other interpreters on copies of the package, so they hold whether or
not this machine has a build; the first test needs the build that `make install` makes.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import patron.engine
from patron.engine import money, native, pricing
from tests.engine.engines import MONEY, PRICING

SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
BUILT = native.select(environ={})  # what a process without PATRON_ENGINE_PURE would pick
needs_build = pytest.mark.skipif(
    BUILT.engine != "compiled",
    reason=f"no compiled engine for these sources: {BUILT.reason} (see {native.build_root()})",
)


@needs_build
def test_the_compiled_engine_is_in_use_when_it_was_built():
    if os.environ.get(native.PURE_VARIABLE, "") not in ("", "0"):
        pytest.skip(f"{native.PURE_VARIABLE} is set")
    assert patron.engine.ENGINE == "compiled", patron.engine.ENGINE_REASON
    root = str(native.build_root())
    from patron.whatif import replay  # compiled with the engine, served when first imported

    for module in (money, pricing, replay):
        assert str(module.__file__).startswith(root) and module.__file__.endswith(SUFFIXES)
    # mypyc turns functions into builtins; the Python source's are plain functions.
    assert isinstance(pricing.quote, types.BuiltinFunctionType)
    assert isinstance(money.allocate, types.BuiltinFunctionType)


def test_the_pure_engine_is_tested_too():
    """tests/engine/engines.py hands the reference comparison a pure-Python engine always."""
    pure = PRICING["pure"]
    assert isinstance(pure.quote, types.FunctionType)
    assert isinstance(MONEY["pure"].allocate, types.FunctionType)
    assert pure.div_round_half_up is MONEY["pure"].div_round_half_up
    assert pure.Quote is pricing.Quote  # the same value classes as the other engine


# --- selection on copies ---------------------------------------------------------------------


def copy_package(tmp_path: Path) -> Path:
    """The package's sources, byte for byte, under tmp_path/src/patron/engine, and its
    companions (the what-if replay) beside it."""
    package = tmp_path / "src" / "patron" / "engine"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    for path in native.PACKAGE_DIR.glob("*.py"):
        shutil.copy2(path, package / path.name)
    for relative in native.COMPANIONS:
        target = package.parent / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        (target.parent / "__init__.py").touch()
        shutil.copy2(native.PACKAGE_DIR.parent / relative, target)
    return package


def fake_build(package: Path, root: Path) -> Path:
    """A build directory as scripts/build_engine.py leaves it, keyed by `package`'s sources
    (the files are not real extensions: `select` only reads the manifest and sees files)."""
    hashes = native.source_hashes(package)
    directory = root / native.build_key(hashes)
    modules = {}
    for name in (*native.COMPILED, native.SHARED_LIBRARY):
        relative = name.replace(".", "/") + SUFFIXES[0]
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        (directory / relative).write_bytes(b"not a real extension")
        modules[name] = relative
    manifest = {"sources": hashes, "modules": modules}
    (directory / native.MANIFEST).write_text(json.dumps(manifest))
    return directory


def test_a_build_of_these_sources_is_selected(tmp_path):
    package = copy_package(tmp_path)
    directory = fake_build(package, tmp_path / "builds")
    selection = native.select(package, tmp_path / "builds", environ={})
    assert selection.engine == "compiled"
    assert set(selection.modules) == {*native.COMPILED, native.SHARED_LIBRARY}
    assert all(path.parent.is_relative_to(directory) for path in selection.modules.values())


@pytest.mark.parametrize("edited", ["pricing.py", "money.py", "pricing_data.py", "points.py"])
def test_an_edited_source_falls_back_to_pure_python(tmp_path, edited):
    package = copy_package(tmp_path)
    fake_build(package, tmp_path / "builds")
    with (package / edited).open("a") as source:
        source.write("# edited after the build\n")
    selection = native.select(package, tmp_path / "builds", environ={})
    assert (selection.engine, selection.modules) == ("pure", {})


def test_an_edited_companion_falls_back_to_pure_python(tmp_path):
    package = copy_package(tmp_path)
    fake_build(package, tmp_path / "builds")
    with (package.parent / native.COMPANIONS[0]).open("a") as source:
        source.write("# edited after the build\n")
    assert native.select(package, tmp_path / "builds", environ={}).engine == "pure"


def test_a_new_source_file_falls_back_to_pure_python(tmp_path):
    package = copy_package(tmp_path)
    fake_build(package, tmp_path / "builds")
    (package / "extra.py").write_text("")
    assert native.select(package, tmp_path / "builds", environ={}).engine == "pure"


def test_a_manifest_that_disagrees_with_its_key_falls_back(tmp_path):
    package = copy_package(tmp_path)
    directory = fake_build(package, tmp_path / "builds")
    manifest = json.loads((directory / native.MANIFEST).read_text())
    manifest["sources"]["pricing.py"] = "0" * 64
    (directory / native.MANIFEST).write_text(json.dumps(manifest))
    assert native.select(package, tmp_path / "builds", environ={}).engine == "pure"


def test_an_incomplete_build_falls_back(tmp_path):
    package = copy_package(tmp_path)
    directory = fake_build(package, tmp_path / "builds")
    next(directory.rglob("pricing*")).unlink()
    assert native.select(package, tmp_path / "builds", environ={}).engine == "pure"


@pytest.mark.parametrize("value", ["1", "yes"])
def test_the_environment_variable_forces_pure_python(tmp_path, value):
    package = copy_package(tmp_path)
    fake_build(package, tmp_path / "builds")
    environ = {native.PURE_VARIABLE: value}
    assert native.select(package, tmp_path / "builds", environ=environ).engine == "pure"
    environ = {native.PURE_VARIABLE: "0"}
    assert native.select(package, tmp_path / "builds", environ=environ).engine == "compiled"


# --- whole interpreters ----------------------------------------------------------------------

REPORT = """
import json, patron.engine, patron.engine.pricing as pricing, patron.engine.money as money
import patron.whatif.replay as replay
print(json.dumps([patron.engine.ENGINE, patron.engine.ENGINE_REASON, pricing.__file__,
                  money.__file__, replay.__file__]))
"""


def run_engine(src: Path, **environ: str) -> tuple[str, str, str, str, str]:
    """What a fresh interpreter of this virtualenv picks with the package at `src`."""
    env = {k: v for k, v in os.environ.items() if k != native.PURE_VARIABLE}
    env.update(PYTHONPATH=str(src), PYTHONDONTWRITEBYTECODE="1", **environ)
    done = subprocess.run(
        [sys.executable, "-c", REPORT], cwd=src, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    engine, reason, pricing_file, money_file, replay_file = json.loads(done.stdout)
    return engine, reason, pricing_file, money_file, replay_file


def test_a_broken_binary_is_not_used(tmp_path):
    """Sources match, but the 'extensions' are garbage: the import fails over to the source."""
    package = copy_package(tmp_path)
    # Sources no real build has (so the fake one gets a key of its own), in the build root
    # a fresh interpreter of this virtualenv looks in.
    with (package / "points.py").open("a") as source:
        source.write(f"# {tmp_path}\n")
    directory = fake_build(package, native.build_root())
    try:
        engine, reason, pricing_file, money_file, _ = run_engine(package.parent.parent)
    finally:
        shutil.rmtree(directory)
    assert engine == "pure" and "failed to load" in reason
    assert pricing_file == str(package / "pricing.py") and money_file == str(package / "money.py")


@needs_build
def test_the_build_serves_an_identical_copy_and_not_an_edited_one(tmp_path):
    """The build is keyed by content, not by path: a byte-identical copy of the package gets
    the compiled modules; the same copy with one edited comment gets its own source."""
    package = copy_package(tmp_path)
    engine, _reason, pricing_file, money_file, replay_file = run_engine(package.parent.parent)
    assert engine == "compiled"
    assert all(f.endswith(SUFFIXES) for f in (pricing_file, money_file, replay_file))

    with (package / "pricing.py").open("a") as source:
        source.write("# edited after the build\n")
    engine, reason, pricing_file, money_file, _ = run_engine(package.parent.parent)
    assert engine == "pure", reason
    assert pricing_file == str(package / "pricing.py") and money_file == str(package / "money.py")


@needs_build
def test_the_environment_variable_forces_pure_python_in_a_process(tmp_path):
    package = copy_package(tmp_path)
    engine, reason, pricing_file, _, _ = run_engine(
        package.parent.parent, **{native.PURE_VARIABLE: "1"}
    )
    assert (engine, pricing_file) == ("pure", str(package / "pricing.py"))
    assert native.PURE_VARIABLE in reason
