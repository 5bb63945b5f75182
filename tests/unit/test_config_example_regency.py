"""config.example.toml's commented [[mailboxes]] example is a valid regency file once
uncommented (README "A regency: many villages, several machines")."""

from pathlib import Path

from mailflow.config import load_configs

ROOT = Path(__file__).resolve().parents[2]


def test_the_commented_mailboxes_example_loads_once_uncommented(tmp_path: Path) -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    head, example = text.split("\n# [[mailboxes]]\n# name = ", 1)
    example = "[[mailboxes]]\nname = " + "\n".join(
        line.removeprefix("# ") for line in example.splitlines())
    for name in ("imap-password", "smtp-password", "reply-secret", "klero.pw"):
        (tmp_path / name).write_text("a-secret-of-sixteen-chars\n")
        head = head.replace(f"/etc/mailflow/{name}", str(tmp_path / name))
        example = example.replace(f"/etc/mailflow/{name}", str(tmp_path / name))
    (tmp_path / "regency.toml").write_text(head + "\n" + example + "\n", encoding="utf-8")
    (klero,) = load_configs(tmp_path / "regency.toml")
    assert (klero.name, klero.scope, klero.village.name) == ("klero", "KLR", "Desa Klero")
    assert klero.imap.username == "pengaduan.klero@semarangkab.go.id"
    assert [m.address for m in klero.staff] == ["sekdes@klero.desa.id"]
