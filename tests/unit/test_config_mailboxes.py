"""One file serving several villages: each [[mailboxes]] entry over the shared sections."""

from pathlib import Path

import pytest

from mailflow.cli import main
from mailflow.config import load_config, parse_configs
from mailflow.errors import ConfigError

SHARED = {
    "village": {"name": "Kabupaten Semarang", "region": "Jawa Tengah"},
    "imap": {"host": "127.0.0.1", "password": "x", "security": "plain", "username": "shared"},
    "smtp": {"host": "127.0.0.1", "from_address": "pengaduan@semarangkab.go.id",
             "security": "plain"},
    "calendar": {"extra_holidays": ["2026-12-24"]},
    "staff": [{"email": "camat@semarangkab.go.id", "name": "Camat", "roles": ["verifikator"]}],
    "database": {"url": "sqlite:////tmp/regency.sqlite3"},
}


def _entry(name: str, prefix: str, **sections: object) -> dict[str, object]:
    return {"name": name, "village": {"name": f"Desa {name.title()}"},
            "imap": {"username": name}, "tickets": {"prefix": prefix}, **sections}


def _file(*entries: dict[str, object]) -> dict[str, object]:
    return {**SHARED, "mailboxes": list(entries)}


def test_without_mailboxes_the_file_serves_one_mailbox_without_a_name() -> None:
    (cfg,) = parse_configs({k: v for k, v in SHARED.items()})
    assert cfg.name == "" and cfg.scope == "ADU"


def test_an_entry_merges_its_sections_key_by_key_over_the_shared_ones() -> None:
    klero, tegal = parse_configs(_file(_entry("klero", "KLR"), _entry("tegal", "TGL", calendar={
        "timezone": "Asia/Makassar"})))
    assert (klero.name, klero.scope, klero.village.name) == ("klero", "KLR", "Desa Klero")
    # The entry's own key wins, the shared keys of the same section stay.
    assert klero.imap.username == "klero" and klero.imap.host == "127.0.0.1"
    assert klero.village.region == "Jawa Tengah"
    assert tegal.calendar.timezone == "Asia/Makassar"
    assert [str(d) for d in tegal.calendar.extra_holidays] == ["2026-12-24"]
    assert klero.database_url == tegal.database_url == "sqlite:////tmp/regency.sqlite3"
    assert klero.mailbox_key == "klero@127.0.0.1/INBOX"


def test_folders_other_than_inbox_keep_their_case() -> None:
    # Only INBOX is case-insensitive (RFC 3501 5.1); "Pengaduan" and "pengaduan" are two folders.
    klero, tegal = parse_configs(_file(
        {**_entry("klero", "KLR"), "imap": {"username": "desa", "folder": "Pengaduan"}},
        {**_entry("tegal", "TGL"), "imap": {"username": "desa", "folder": "pengaduan"}}))
    assert klero.mailbox_identity != tegal.mailbox_identity


def test_a_list_is_replaced_whole_so_no_village_inherits_anothers_staff() -> None:
    own = [{"email": "kades@klero.desa.id", "name": "Kades", "roles": ["verifikator"]}]
    klero, tegal = parse_configs(_file(_entry("klero", "KLR", staff=own), _entry("tegal", "TGL")))
    assert [m.address for m in klero.staff] == ["kades@klero.desa.id"]
    assert [m.address for m in tegal.staff] == ["camat@semarangkab.go.id"]


@pytest.mark.parametrize(("entries", "message"), [
    ([_entry("klero", "KLR"), _entry("klero", "TGL")], "name 'klero' is given twice"),
    ([_entry("klero", "KLR"), _entry("tegal", "KLR")], "[tickets] prefix 'KLR' is given to two"),
    ([_entry("klero", "KLR"), {**_entry("tegal", "TGL"), "imap": {"username": "klero"}}],
     "[imap] mailbox 'klero@127.0.0.1/INBOX' is given to two"),
    # One mailbox written two ways is still one: INBOX in any case, a login or host in capitals.
    ([_entry("klero", "KLR"), {**_entry("tegal", "TGL"), "imap": {"username": "klero",
                                                                  "folder": "inbox"}}],
     "[imap] mailbox 'klero@127.0.0.1/INBOX' is given to two"),
    ([_entry("klero", "KLR"), {**_entry("tegal", "TGL"), "imap": {"username": "KLERO"}}],
     "[imap] mailbox 'klero@127.0.0.1/INBOX' is given to two"),
    ([{**_entry("klero", "KLR"), "name": "Klero Lama"}], "name: give a short name"),
    ([{**_entry("klero", "KLR"), "database": {"url": ""}}], "[database] is shared by every"),
    ([{**_entry("klero", "KLR"), "storage": {}}], "[storage] is shared by every"),
])
def test_a_mailbox_that_clashes_or_claims_a_shared_section_is_refused(
        entries: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        parse_configs(_file(*entries))
    assert message in str(caught.value)


def test_an_entrys_error_names_the_entry_and_the_key() -> None:
    bad = _entry("tegal", "TGL", intake={"poll_secs": 5})
    with pytest.raises(ConfigError) as caught:
        parse_configs(_file(_entry("klero", "KLR"), bad), source="regency.toml")
    assert "regency.toml [[mailboxes]] 'tegal': [intake] poll_secs: unknown key" in str(caught.value)


def test_an_empty_mailboxes_list_is_refused() -> None:
    with pytest.raises(ConfigError, match="give one or more tables"):
        parse_configs({**SHARED, "mailboxes": []})


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "regency.toml"
    path.write_text(text, encoding="utf-8")
    return path


REGENCY = """
[village]
name = "Kabupaten Semarang"
[imap]
host = "127.0.0.1"
security = "plain"
username = "shared"
password = "x"
[smtp]
host = "127.0.0.1"
security = "plain"
from_address = "pengaduan@semarangkab.go.id"
[storage]
directory = "{storage}"
[[staff]]
email = "camat@semarangkab.go.id"
name = "Camat"
roles = ["verifikator"]

[[mailboxes]]
name = "klero"
village.name = "Desa Klero"
imap.username = "klero"
tickets.prefix = "KLR"

[[mailboxes]]
name = "tegal"
village.name = "Desa Tegalwaton"
imap.username = "tegal"
tickets.prefix = "TGL"
"""


def test_load_config_needs_a_name_when_the_file_serves_several(tmp_path: Path) -> None:
    path = _write(tmp_path, REGENCY.format(storage=tmp_path))
    with pytest.raises(ConfigError, match=r"serves 2 mailboxes \(klero, tegal\).*--mailbox"):
        load_config(path)
    assert load_config(path, "tegal").village.name == "Desa Tegalwaton"
    with pytest.raises(ConfigError, match=r"no mailbox named 'ngawen' \(its mailboxes: klero"):
        load_config(path, "ngawen")


def test_check_offline_names_each_mailbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, REGENCY.format(storage=tmp_path / "state"))
    assert main(["--config", str(path), "check", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "mailbox klero (Desa Klero, prefix KLR):" in out
    assert "mailbox tegal (Desa Tegalwaton, prefix TGL):" in out
    assert out.count("ok   configuration") == 2
    # The shared storage and database are checked once for the file, not once per mailbox.
    assert out.count("ok   storage") == out.count("ok   database") == 1
    assert out.index("shared by every mailbox:") < out.index("mailbox klero")


def test_a_command_on_tickets_says_which_mailbox_it_needs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, REGENCY.format(storage=tmp_path / "state"))
    assert main(["--config", str(path), "tickets"]) == 78
    assert "--mailbox NAME" in capsys.readouterr().err


def test_templates_directory_must_exist(tmp_path: Path) -> None:
    entry = _entry("klero", "KLR", templates={"directory": str(tmp_path / "nowhere")})
    with pytest.raises(ConfigError, match="is not a directory"):
        parse_configs(_file(entry))


def test_a_villages_template_replaces_only_the_shipped_one_it_names(tmp_path: Path) -> None:
    from jinja2 import UndefinedError

    from mailflow.compose.render import Renderer

    (tmp_path / "ack.txt.j2").write_text("Salam dari Klero, {{ number }}\n", encoding="utf-8")
    (tmp_path / "ack.html.j2").write_text("<p>Salam, {{ number }}</p>", encoding="utf-8")
    text, html = Renderer(own=str(tmp_path)).render("ack", {"number": "KLR-2026-00001"})
    assert (text, html) == ("Salam dari Klero, KLR-2026-00001\n", "<p>Salam, KLR-2026-00001</p>")
    (tmp_path / "ack.html.j2").unlink()
    # Without the village's HTML file, the shipped one is used: it needs the shipped context.
    with pytest.raises(UndefinedError, match="salutation"):
        Renderer(own=str(tmp_path)).render("ack", {"number": "KLR-2026-00001"})
