"""Configuration errors name the file, the key and what is expected."""

from pathlib import Path

import pytest

from mailflow.config import load_config, parse_config
from mailflow.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = {
    "village": {"name": "Desa Klero"},
    "imap": {"host": "127.0.0.1", "username": "desa", "password": "x", "security": "plain"},
    "smtp": {"host": "127.0.0.1", "from_address": "pengaduan@klero.desa.id", "security": "plain"},
    "staff": [{"email": "sekdes@klero.desa.id", "name": "Sekdes", "roles": ["verifikator"]}],
}


def _with(section: str, **values: object) -> dict[str, object]:
    data: dict[str, object] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in MINIMAL.items()}
    data.setdefault(section, {}).update(values)
    return data


def test_example_config_is_valid_once_its_secret_files_exist(tmp_path: Path) -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for name in ("imap-password", "smtp-password", "reply-secret"):
        (tmp_path / name).write_text("a-secret-of-sixteen-chars\n")
        text = text.replace(f"/etc/mailflow/{name}", str(tmp_path / name))
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "config.toml")
    assert cfg.village.name == "Desa Klero"
    assert cfg.intake.subject_phrases == ["Pengaduan Masyarakat"]
    assert cfg.commands.secret_bytes() == b"a-secret-of-sixteen-chars"


def test_example_config_names_each_missing_secret_file_with_its_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(ROOT / "config.example.toml")
    message = str(caught.value)
    for key, name in (("[imap]", "imap-password"), ("[smtp]", "smtp-password"),
                      ("[commands]", "reply-secret")):
        assert f"{key}: cannot read" in message and f"/etc/mailflow/{name}" in message


def test_an_empty_secret_file_is_a_configuration_error(tmp_path: Path) -> None:
    empty = tmp_path / "pw"
    empty.write_text("\n")
    imap = {**MINIMAL["imap"]}  # type: ignore[dict-item]
    del imap["password"]
    with pytest.raises(ConfigError, match=r"\[imap\]: password_file .* is empty"):
        parse_config({**MINIMAL, "imap": {**imap, "password_file": str(empty)}})


def test_a_short_secret_file_is_refused(tmp_path: Path) -> None:
    short = tmp_path / "secret"
    short.write_text("tooshort")
    data = _with("commands", accept=["signed_reply"], secret_file=str(short))
    with pytest.raises(ConfigError, match=r"\[commands\]: the secret must be at least 16"):
        parse_config(data)


def test_defaults() -> None:
    cfg = parse_config(MINIMAL)
    assert cfg.calendar.timezone == "Asia/Jakarta"
    assert cfg.calendar.working_days == 7
    assert cfg.imap.effective_port == 143
    assert cfg.database_url == "sqlite:////var/lib/mailflow/mailflow.sqlite3"


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"cfg.toml: \[imap\] pasword: unknown key"):
        parse_config(_with("imap", pasword="x"), source="cfg.toml")


def test_wrong_type_is_named() -> None:
    with pytest.raises(ConfigError, match=r"\[imap\] port: .*integer.*'993'"):
        parse_config(_with("imap", port="993"))


def test_missing_section_is_named() -> None:
    data = {k: v for k, v in MINIMAL.items() if k != "smtp"}
    with pytest.raises(ConfigError, match=r"smtp: missing"):
        parse_config(data)


def test_missing_key_is_named() -> None:
    data = _with("village")
    del data["village"]["name"]
    with pytest.raises(ConfigError, match=r"\[village\] name: missing"):
        parse_config(data)


def test_bad_security_value() -> None:
    with pytest.raises(ConfigError, match=r"\[smtp\] security: .*'ssl', 'starttls' or 'plain'"):
        parse_config(_with("smtp", security="tls"))


def test_password_and_password_file_are_exclusive() -> None:
    with pytest.raises(ConfigError, match=r"\[imap\]: .*exactly one of"):
        parse_config(_with("imap", password_file="/x"))


def test_password_file_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    imap = dict(MINIMAL["imap"])
    del imap["password"]
    cfg = parse_config({**MINIMAL, "imap": {**imap, "password_file": str(secret)}})
    assert cfg.imap.secret() == "s3cret"


def test_unknown_timezone() -> None:
    with pytest.raises(ConfigError, match=r"\[calendar\] timezone: unknown time zone"):
        parse_config(_with("calendar", timezone="Asia/Klero"))


def test_extra_holidays_must_be_dates() -> None:
    with pytest.raises(ConfigError, match=r"\[calendar\] extra_holidays.0"):
        parse_config(_with("calendar", extra_holidays=["kemarin"]))


def test_invalid_toml_reports_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[village\nname = 1")
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML"):
        load_config(bad)


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"file not found .*--config"):
        load_config(tmp_path / "nope.toml")


def test_staff_needs_a_verifier() -> None:
    data = {**MINIMAL, "staff": [{"email": "a@x.id", "name": "A", "roles": ["petugas"]}]}
    with pytest.raises(ConfigError, match=r"at least one member with role \"verifikator\""):
        parse_config(data)


def test_staff_role_must_be_known() -> None:
    data = {**MINIMAL, "staff": [{"email": "a@x.id", "name": "A", "roles": ["lurah"]}]}
    with pytest.raises(ConfigError, match=r"\[staff\] 0.roles.0: .*'verifikator'"):
        parse_config(data)


def test_signed_replies_need_a_secret() -> None:
    with pytest.raises(ConfigError, match=r"\[commands\]: .*'secret' or 'secret_file'"):
        parse_config(_with("commands", accept=["signed_reply"]))


def test_staff_lookup_ignores_case() -> None:
    cfg = parse_config(MINIMAL)
    member = cfg.staff_member("SekDes@Klero.Desa.ID")
    assert member is not None and member.sees_identity


def test_calendar_dates_may_be_quoted_iso_dates() -> None:
    from datetime import date

    cfg = parse_config(_with("calendar", extra_holidays=["2026-12-24", date(2026, 12, 31)],
                             extra_workdays=["2026-12-26"]))
    assert cfg.calendar.extra_holidays == [date(2026, 12, 24), date(2026, 12, 31)]
    assert cfg.calendar.extra_workdays == [date(2026, 12, 26)]


def test_a_calendar_date_that_is_not_a_date_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"\[calendar\] extra_holidays.0: .*'24-12-2026'"):
        parse_config(_with("calendar", extra_holidays=["24-12-2026"]))


def test_priority_words_default_to_the_shipped_lists_and_name_a_file_when_set() -> None:
    from mailflow.adapters.priority_words import configured_word_lists

    assert parse_config(MINIMAL).priority.path is None
    assert configured_word_lists(None).urgency  # the shipped file compiles
    cfg = parse_config(_with("priority", words="/etc/mailflow/priority_words.toml"))
    assert cfg.priority.path == Path("/etc/mailflow/priority_words.toml")
    with pytest.raises(ConfigError, match=r"cfg.toml: \[priority\] word: unknown key"):
        parse_config(_with("priority", word="x.toml"), source="cfg.toml")


def test_a_wrong_priority_word_file_names_the_setting_the_file_and_the_entry(
        tmp_path: Path) -> None:
    from mailflow.adapters.priority_words import configured_word_lists

    words = tmp_path / "words.toml"
    words.write_text('[settings]\ndefault_urgency = "biasa"\ndefault_impact = "perorangan"\n'
                     '[[impact]]\nfamily = "pasar"\nlevel = "luas"\nwords = ["rt03"]\n')
    with pytest.raises(ConfigError, match=rf"^\[priority\] words: {words}: \[\[impact\]\] "
                                          r"'pasar'\.words: phrase 'rt03'"):
        configured_word_lists(words)
    words.write_text("[settings\n")
    with pytest.raises(ConfigError, match=rf"^\[priority\] words: {words}: not valid TOML"):
        configured_word_lists(words)
