from __future__ import annotations

import re
from pathlib import Path

import pytest

from companion.settings import ForbiddenEnvironmentError, Settings, check_forbidden_environment
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["DATABASE_URL", "LITERAL_API_KEY"])
def test_forbidden_variables_are_refused_with_the_reason(name: str) -> None:
    with pytest.raises(ForbiddenEnvironmentError, match=name) as info:
        check_forbidden_environment({name: "anything"})
    assert "Unset it" in str(info.value)


def test_validate_for_start_checks_the_real_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://x")
    with pytest.raises(ForbiddenEnvironmentError, match="plaintext"):
        make_settings(tmp_path).validate_for_start()


def test_defaults_use_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    assert settings.sqlalchemy_url == f"sqlite:///{(tmp_path / 'data').resolve() / 'companion.sqlite3'}"
    assert settings.checkpoint_location.endswith("checkpoints.sqlite3")
    assert settings.locale == "en-US" and not settings.llm_configured


def test_postgres_url_is_accepted_and_checkpoints_share_it(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    assert settings.is_postgres
    assert settings.checkpoint_location == "postgresql://postgres@127.0.0.1:5432/test"


def test_bad_database_url_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="COMPANION_DATABASE_URL"):
        make_settings(tmp_path, database_url="mysql://x")


def test_locale_is_normalised_and_checked(tmp_path: Path) -> None:
    assert make_settings(tmp_path, locale="en_gb").locale == "en-GB"
    with pytest.raises(ValueError, match="COMPANION_LOCALE"):
        make_settings(tmp_path, locale="english")


def test_settings_read_only_companion_prefixed_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COMPANION_LOCALE", "es-ES")
    monkeypatch.setenv("LOCALE", "fr-FR")
    assert Settings(_env_file=None, data_dir=tmp_path).locale == "es-ES"  # type: ignore[call-arg]


def test_production_requires_environment_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="COMPANION_KEK"):
        make_settings(tmp_path, environment="production").validate_for_start()


def test_llm_base_url_without_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="COMPANION_LLM_MODEL"):
        make_settings(tmp_path, llm_base_url="http://127.0.0.1:1/v1").validate_for_start()


def test_env_example_lists_every_setting_with_a_comment() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = re.findall(r"^(COMPANION_[A-Z_]+)=", text, flags=re.MULTILINE)
    expected = {f"COMPANION_{name.upper()}" for name in Settings.model_fields}
    assert set(documented) == expected
    lines = text.splitlines()
    for name in documented:
        index = next(i for i, line in enumerate(lines) if line.startswith(name + "="))
        assert lines[index - 1].startswith("#") or lines[index - 2].startswith("#"), f"{name} has no comment"


def test_no_code_reads_the_environment_outside_settings() -> None:
    offenders = []
    for package in ("companion", "flows", "safety"):
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if re.search(r"os\.environ(?!\[\"CHAINLIT)|os\.getenv", source) and path.name not in {"settings.py", "app.py"}:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
