"""The secret key is never a constant: generated on first start in the data directory (0600),
reused after, overridden by PATRON_SECRET_KEY; two processes starting together share one."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from patron.core import secrets
from patron.core.secrets import LEGACY_DEVELOPMENT_KEY
from tests.cli_support import patron_env

PRINT_KEYS = (
    "from django.conf import settings; "
    "print(settings.SECRET_KEY); print(','.join(settings.SECRET_KEY_FALLBACKS))"
)


def start_settings(data_dir: Path, **env: str) -> subprocess.Popen:
    """A fresh Python process that loads patron.settings with only these PATRON_* variables."""
    return subprocess.Popen(
        [sys.executable, "-c", PRINT_KEYS],
        env={**patron_env(data_dir), **env},
        cwd=data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def settings_keys(data_dir: Path, **env: str) -> tuple[str, str]:
    process = start_settings(data_dir, **env)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    key, fallbacks = out.splitlines()
    return key, fallbacks


def test_a_key_is_generated_on_first_start_with_mode_0600_and_reused(tmp_path):
    key, fallbacks = settings_keys(tmp_path)

    stored = tmp_path / "secret_key"
    assert stored.read_text().strip() == key
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert len(key) >= 50 and key != LEGACY_DEVELOPMENT_KEY and fallbacks == ""
    assert settings_keys(tmp_path) == (key, "")  # the next start reads the same key
    assert sorted(p.name for p in tmp_path.iterdir() if "secret" in p.name) == ["secret_key"]


def test_two_data_directories_get_different_keys(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    assert settings_keys(tmp_path / "a")[0] != settings_keys(tmp_path / "b")[0]


def test_patron_secret_key_overrides_and_no_file_is_written(tmp_path):
    key, fallbacks = settings_keys(
        tmp_path,
        PATRON_SECRET_KEY="a-key-of-our-own-" + "x" * 40,
        PATRON_SECRET_KEY_FALLBACKS=" old-key-1 ,old-key-2,",
    )
    assert key == "a-key-of-our-own-" + "x" * 40
    assert fallbacks == "old-key-1,old-key-2"
    assert not (tmp_path / "secret_key").exists()


def test_processes_starting_together_end_with_one_key(tmp_path):
    processes = [start_settings(tmp_path) for _ in range(6)]
    keys = set()
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        keys.add(out.splitlines()[0])
    assert keys == {(tmp_path / "secret_key").read_text().strip()}
    assert [p.name for p in tmp_path.iterdir() if "secret" in p.name] == ["secret_key"]


def test_a_process_that_loses_the_race_uses_the_winners_key(tmp_path, monkeypatch):
    """Deterministic version of the race: another process links its key in first."""
    real_link = os.link

    def link_after_the_winner(source, destination):
        (tmp_path / "secret_key").write_text("the-winners-key-" + "w" * 40 + "\n")
        real_link(source, destination)  # raises FileExistsError, as it would in the race

    monkeypatch.setattr(secrets.os, "link", link_after_the_winner)
    assert secrets.key_in(tmp_path) == "the-winners-key-" + "w" * 40
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # our temporary file is gone


@pytest.mark.parametrize("variable", ["PATRON_SECRET_KEY", "PATRON_SECRET_KEY_FALLBACKS"])
def test_the_published_development_key_is_refused(tmp_path, variable):
    process = start_settings(tmp_path, **{variable: LEGACY_DEVELOPMENT_KEY})
    _out, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "development key published" in err


def test_an_empty_key_file_is_an_error_not_a_weak_key(tmp_path):
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(ImproperlyConfigured, match="no usable secret key"):
        secrets.key_in(tmp_path)
