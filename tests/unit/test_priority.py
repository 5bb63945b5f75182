"""Priority: the urgency x impact matrix, the word-list suggester, and its labelled set.

The labelled set (tests/fixtures/priority_labelled.toml, 165 complaints written before the word
lists) is the evaluation; bench/priority_eval.py prints the full figures. Here: not one
`darurat` may be missed, and overall accuracy must stay above a floor set a little under what
was measured (0.891 on 2026-11-29 with the shipped lists; floor 0.85).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from mailflow.adapters.priority_words import default_text, load_word_lists
from mailflow.core.priority import (
    MATRIX,
    REASONS_SHOWN,
    Impact,
    Urgency,
    priority_for,
    suggest,
    word_lists,
)
from mailflow.core.priority_lists import WordLists, normalise
from mailflow.errors import ConfigError
from mailflow.vocabulary import Priority
from tests.e2e.leaks import Secrets
from tests.fixtures.identity_complaints import complaints
from tests.fixtures.priority_set import load_labelled

ACCURACY_FLOOR = 0.85
LISTS = load_word_lists()
LABELLED = load_labelled()

D, T, S, R = Priority.DARURAT, Priority.TINGGI, Priority.SEDANG, Priority.RENDAH
# The procedure's matrix, written again independently of the code.
EXPECTED_MATRIX = {
    (Urgency.SEGERA, Impact.PERORANGAN): D, (Urgency.SEGERA, Impact.KELOMPOK): D,
    (Urgency.SEGERA, Impact.LUAS): D,
    (Urgency.CEPAT, Impact.PERORANGAN): S, (Urgency.CEPAT, Impact.KELOMPOK): T,
    (Urgency.CEPAT, Impact.LUAS): T,
    (Urgency.BIASA, Impact.PERORANGAN): R, (Urgency.BIASA, Impact.KELOMPOK): S,
    (Urgency.BIASA, Impact.LUAS): T,
    (Urgency.BISA_MENUNGGU, Impact.PERORANGAN): R, (Urgency.BISA_MENUNGGU, Impact.KELOMPOK): R,
    (Urgency.BISA_MENUNGGU, Impact.LUAS): S,
}
PRIORITY_RANK = {R: 0, S: 1, T: 2, D: 3}


# ---- the matrix ---------------------------------------------------------------------------

@pytest.mark.parametrize(("urgency", "impact"), sorted(EXPECTED_MATRIX))
def test_every_cell_of_the_matrix(urgency: Urgency, impact: Impact) -> None:
    assert priority_for(urgency, impact) == EXPECTED_MATRIX[urgency, impact]


def test_the_matrix_has_exactly_one_cell_per_pair() -> None:
    assert {(u, i) for u, row in MATRIX.items() for i in row} == set(EXPECTED_MATRIX)


def test_more_urgency_or_impact_never_lowers_priority() -> None:
    for (u1, i1), (u2, i2) in itertools.product(EXPECTED_MATRIX, repeat=2):
        if u1.rank <= u2.rank and i1.rank <= i2.rank:
            assert PRIORITY_RANK[priority_for(u1, i1)] <= PRIORITY_RANK[priority_for(u2, i2)], (
                (u1, i1), (u2, i2))


def test_every_level_of_priority_is_reachable_and_segera_is_always_darurat() -> None:
    assert {priority_for(u, i) for u, i in EXPECTED_MATRIX} == set(Priority)
    assert all(priority_for(Urgency.SEGERA, i) == D for i in Impact)


# ---- normalisation --------------------------------------------------------------------------

def test_normalise_folds_case_accents_punctuation_repeats_and_digits() -> None:
    assert normalise("BANJIIIR!!! di RT03, kabelé") == ["banjir", "di", "rt", "03", "kabele"]
    assert normalise("rumah-rumah") == ["rumah", "rumah"]


# ---- the suggester on focused cases -------------------------------------------------------

# (text, urgency, the family that must be among the reasons): every family of the default lists.
URGENCY_CASES = [
    ("Ada kebakaran di gudang dekat rumah", Urgency.SEGERA, "kebakaran"),
    ("kbakaran di kebun tebu!!", Urgency.SEGERA, "kebakaran"),
    ("omahe tanggane kobong", Urgency.SEGERA, "kebakaran"),
    ("bajir masuk rumah", Urgency.SEGERA, "banjir"),
    ("air kali terus naik dari tadi", Urgency.SEGERA, "banjir"),
    ("Longsor di tebing belakang rumah", Urgency.SEGERA, "longsor"),
    ("jembatan ke pasar putus", Urgency.SEGERA, "jembatan putus"),
    ("pohon besar tumbang di jalan", Urgency.SEGERA, "pohon tumbang"),
    ("atap balai ambruk semalam", Urgency.SEGERA, "bangunan roboh"),
    ("kabel listrik putus di jalan", Urgency.SEGERA, "bahaya listrik"),
    ("anak kesetrum pagar", Urgency.SEGERA, "bahaya listrik"),
    ("bau gas dari dapur tetangga", Urgency.SEGERA, "gas dan ledakan"),
    ("bapak saya pingsan di sawah", Urgency.SEGERA, "sakit berat"),
    ("anak saya belum pulang dari sore", Urgency.SEGERA, "orang hilang atau terjebak"),
    ("ada orang ngamuk bawa celurit", Urgency.SEGERA, "kekerasan"),
    ("angin puting beliung merusak atap", Urgency.SEGERA, "bencana alam"),
    ("keadaan darurat di dusun", Urgency.SEGERA, "tanda darurat"),
    ("air PDAM mati sejak kemarin", Urgency.CEPAT, "air bersih"),
    ("sudah dua hari air tidak mengalir", Urgency.CEPAT, "air bersih"),
    ("listrik padam dari pagi", Urgency.CEPAT, "listrik padam"),
    ("mati lampu terus tiap sore", Urgency.CEPAT, "listrik padam"),
    ("anak saya demam berdarah", Urgency.CEPAT, "sakit"),
    ("beras habis belum ada pemasukan", Urgency.CEPAT, "pangan"),
    ("dinding talud mulai retak", Urgency.CEPAT, "kerusakan yang memburuk"),
    ("jalan berlubang, usul dicor", Urgency.BIASA, "keluhan"),
    ("Usul diadakan senam pagi", Urgency.BISA_MENUNGGU, "saran atau pertanyaan"),
]
IMPACT_CASES = [
    ("warga satu dusun kesulitan", Impact.LUAS, "satu dusun atau desa"),
    ("jalan desa rusak", Impact.LUAS, "fasilitas umum"),
    ("ada pungli di pelayanan", Impact.LUAS, "uang dan layanan publik"),
    ("lampu di RT 03 mati", Impact.KELOMPOK, "beberapa keluarga"),
    ("puluhan warga mengeluh", Impact.KELOMPOK, "beberapa keluarga"),
]


@pytest.mark.parametrize(("text", "urgency", "family"), URGENCY_CASES)
def test_each_urgency_family(text: str, urgency: Urgency, family: str) -> None:
    suggestion = suggest(text, LISTS)
    assert suggestion.urgency == urgency
    assert any(f"({family}) -> urgensi {urgency.value}" in r for r in suggestion.reasons)


@pytest.mark.parametrize(("text", "impact", "family"), IMPACT_CASES)
def test_each_impact_family(text: str, impact: Impact, family: str) -> None:
    suggestion = suggest(text, LISTS)
    assert suggestion.impact == impact
    assert any(f"({family}) -> dampak {impact.value}" in r for r in suggestion.reasons)


def test_the_focused_cases_cover_every_family_of_the_default_lists() -> None:
    covered = {family for _, _, family in URGENCY_CASES + IMPACT_CASES}
    assert {f.name for f in LISTS.urgency + LISTS.impact} == covered


def test_reasons_name_the_words_and_the_priority_follows_the_matrix() -> None:
    suggestion = suggest("Kebakaran di rumah warga RT 02, apinya merembet!", LISTS)
    assert (suggestion.urgency, suggestion.impact, suggestion.priority) == (
        Urgency.SEGERA, Impact.KELOMPOK, Priority.DARURAT)
    assert "'kebakaran' (kebakaran) -> urgensi segera" in suggestion.reasons
    assert "'rt 02' (beberapa keluarga) -> dampak kelompok" in suggestion.reasons
    assert suggestion.reason_text == (
        "darurat (urgensi segera, dampak kelompok): " + "; ".join(suggestion.reasons))


def test_reason_text_stays_short_for_a_long_mail() -> None:
    text = " ".join(c.text for c in LABELLED)
    suggestion = suggest(text, LISTS)
    assert len(suggestion.reasons) > REASONS_SHOWN
    assert suggestion.reason_text.endswith(
        f"; dan {len(suggestion.reasons) - REASONS_SHOWN} alasan lain")
    assert suggestion.reason_text.count("; ") == REASONS_SHOWN


def test_reasons_keep_out_the_words_between_and_long_numbers() -> None:
    """A name between matched words, or a NIK before "anak", never reaches the reasons."""
    suggestion = suggest("anak saya Wulan Sekar belum pulang; 3322014509870003 anak", LISTS)
    assert "'anak ... belum pulang' (orang hilang atau terjebak) -> urgensi segera" in (
        suggestion.reasons)
    assert "wulan" not in suggestion.reason_text and "3322" not in suggestion.reason_text
    assert "'# anak' (beberapa keluarga) -> dampak kelompok" in suggestion.reasons


def test_reasons_carry_no_identity_even_from_the_raw_complaint() -> None:
    """Over the 108 identity complaints of issue 7, read whole (intake would read them with
    the identity removed), the reasons never hold a name, NIK, phone, address or email."""
    fixture = complaints()
    secrets = Secrets(fixture)
    leaks = [leak for c in fixture for leak in secrets.leaks(
        f"reasons #{c.index}", suggest(f"{c.subject}\n{c.text or c.html}", LISTS).reason_text)]
    assert leaks == []


def test_nothing_matched_gives_the_defaults_and_says_so() -> None:
    suggestion = suggest("Mohon ditindaklanjuti.", LISTS)
    assert (suggestion.urgency, suggestion.impact, suggestion.priority) == (
        Urgency.BIASA, Impact.PERORANGAN, Priority.RENDAH)
    assert suggestion.reasons == ("tidak ada kata penanda urgensi -> urgensi biasa (bawaan)",
                                  "tidak ada kata penanda dampak -> dampak perorangan (bawaan)")


@pytest.mark.parametrize("text", [
    "tidak ada banjir di sini, cuma mau tanya jadwal posyandu",
    "banjir kemarin sudah surut, tinggal lumpur di jalan",
    "bukan kebakaran, hanya bakar sampah",
    "Tahun lalu sempat longsor kecil, sekarang aman",
])
def test_negation_cancels_a_hazard_and_is_recorded(text: str) -> None:
    suggestion = suggest(text, LISTS)
    assert suggestion.urgency != Urgency.SEGERA
    assert any("diabaikan karena" in r for r in suggestion.reasons)


def test_negation_does_not_cancel_a_need() -> None:
    """"tidak ada air" is the complaint itself: the water family is not negatable."""
    assert suggest("sudah 3 hari tidak ada air bersih", LISTS).urgency == Urgency.CEPAT


def test_the_same_hazard_without_negation_is_darurat() -> None:
    assert suggest("ada banjir di sini", LISTS).priority == Priority.DARURAT


def test_an_exception_phrase_keeps_a_word_from_counting() -> None:
    """A child coming home from school is no problem of the school."""
    assert suggest("anak saya diganggu waktu pulang sekolah", LISTS).impact == Impact.PERORANGAN
    assert suggest("atap sekolah bocor", LISTS).impact == Impact.LUAS


def test_a_makeshift_bridge_is_no_emergency_but_a_broken_one_is() -> None:
    assert suggest("jembatan darurat dari bambu sudah lapuk", LISTS).urgency == Urgency.CEPAT
    assert suggest("jembatan darurat dari bambu putus", LISTS).urgency == Urgency.SEGERA


@pytest.mark.parametrize("text", [
    "gudang padi trebakar", "jmbatan ambruk", "tetangga saya pinsgan di jalan",
    "anak saya tersetrun di kamar mandi",
])
def test_a_typo_in_an_emergency_word_still_counts(text: str) -> None:
    assert suggest(text, LISTS).priority == Priority.DARURAT


@pytest.mark.parametrize("text", [
    "mohon info jalan ke dusun banjar",  # a place, one letter from "banjir"
    "pemeriksaan kesehatan gratis kapan?",  # two letters from "pemerkosaan"
    "rumah warga RT 05 tadi subuh",  # "subuh" is short: never read as "rubuh"
])
def test_a_real_word_near_an_emergency_word_does_not_count(text: str) -> None:
    assert suggest(text, LISTS).urgency != Urgency.SEGERA


def test_the_strongest_signal_wins() -> None:
    text = "Usul pak: jembatan sudah putus, mohon dibangun ulang"
    assert suggest(text, LISTS).urgency == Urgency.SEGERA


# ---- the labelled set ---------------------------------------------------------------------

def test_the_labelled_set_is_big_spread_and_follows_the_matrix() -> None:
    assert len(LABELLED) >= 150
    counts = {p: sum(c.priority == p for c in LABELLED) for p in Priority}
    assert counts[Priority.DARURAT] >= 25 and min(counts.values()) >= 25, counts
    assert all(c.priority == priority_for(c.urgency, c.impact) for c in LABELLED)
    assert len({c.id for c in LABELLED}) == len(LABELLED)


def test_no_darurat_of_the_labelled_set_is_missed() -> None:
    missed = [c.id for c in LABELLED
              if c.priority == Priority.DARURAT and suggest(c.text, LISTS).priority != D]
    assert missed == []


def test_accuracy_over_the_labelled_set_stays_above_the_floor() -> None:
    right = sum(suggest(c.text, LISTS).priority == c.priority for c in LABELLED)
    assert right / len(LABELLED) >= ACCURACY_FLOOR, f"{right}/{len(LABELLED)}"


# ---- the lists as data --------------------------------------------------------------------

def _minimal(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "settings": {"default_urgency": "biasa", "default_impact": "perorangan"},
        "urgency": [{"family": "api", "level": "segera", "words": ["api"]}],
        "impact": [],
    }
    data.update(changes)
    return data


def test_minimal_lists_work() -> None:
    lists = word_lists(_minimal())
    assert isinstance(lists, WordLists)
    assert suggest("ada api", lists).priority == Priority.DARURAT


@pytest.mark.parametrize(("data", "named"), [
    (_minimal(settings={"default_urgency": "kilat", "default_impact": "perorangan"}),
     "settings.default_urgency"),
    (_minimal(urgency=[{"family": "api", "level": "panas", "words": ["api"]}]), "'api'"),
    (_minimal(urgency=[{"family": "api", "level": "segera", "words": []}]), "no words"),
    (_minimal(urgency=[{"family": "api", "level": "segera", "words": ["api ..."]}]), "'api ...'"),
    (_minimal(urgency=[{"family": "api", "level": "segera", "words": ["!!"]}]), "'!!'"),
    (_minimal(urgency=[{"level": "segera", "words": ["api"]}]), "'family'"),
    (_minimal(settings={"default_urgency": "biasa", "default_impact": "perorangan",
                        "window_after": 99}), "window_after"),
])
def test_bad_lists_are_refused_with_the_entry_named(data: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named.replace(".", r"\.")):
        word_lists(data)


def test_the_loader_names_the_file_and_the_fault(tmp_path: Path) -> None:
    bad = tmp_path / "kata.toml"
    bad.write_text(default_text().replace('level = "segera"', 'level = "kilat"', 1))
    with pytest.raises(ConfigError, match=r"kata\.toml: .*kebakaran.*kilat"):
        load_word_lists(bad)
    bad.write_text("[settings\n")
    with pytest.raises(ConfigError, match=r"kata\.toml: not valid TOML"):
        load_word_lists(bad)
    with pytest.raises(ConfigError, match=r"hilang\.toml: cannot read"):
        load_word_lists(tmp_path / "hilang.toml")


def test_a_village_file_replaces_the_default(tmp_path: Path) -> None:
    own = tmp_path / "kata.toml"
    own.write_text(default_text() + '\n[[urgency]]\nfamily = "ternak lepas"\nlevel = "segera"\n'
                   'words = ["kambing lepas"]\n')
    assert suggest("ada kambing lepas", load_word_lists(own)).priority == Priority.DARURAT
    assert suggest("ada kambing lepas", LISTS).priority != Priority.DARURAT
