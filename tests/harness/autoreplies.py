"""Auto-replies without headers, and complaints that use the same words: shared test mail.

The unit tests (tests/unit/test_autoreply.py) classify every entry; the end-to-end tests
(tests/e2e/test_attack_storms.py) run them through Dovecot. Written for these tests: no real
person's data.
"""

from __future__ import annotations

#: (subject, text) of auto-responders that send no Auto-Submitted, Precedence or threading
#: header, by test id. The first is the issue's case.
AUTO_REPLIES = {
    "english-subject": ("Re: Pengaduan Masyarakat - I am out of office",
                        "I am out of the office until 7 December with limited access to email.\n"),
    "indonesian-subject": ("Pengaduan Masyarakat - Sedang cuti",
                           "Saya sedang cuti sampai 7 Desember 2026.\n"),
    "indonesian-body": ("Re: Pengaduan Masyarakat",
                        "Terima kasih atas email Anda.\nSaya sedang tidak di kantor hingga Senin, "
                        "7 Desember 2026. Email Anda akan saya balas setelah saya kembali.\n"),
}

#: (subject, text) of real complaints that say "cuti", "kantor" or "terima kasih atas email Anda".
COMPLAINTS_THAT_SAY_CUTI_OR_KANTOR = [
    ("Pengaduan Masyarakat - Pelayanan KTP terhenti karena petugas sedang cuti",
     "Nama: Siti Aminah\nNIK: 3322114506890002\n\nSudah tiga kali saya datang ke kantor desa untuk "
     "mengurus KTP, tetapi petugasnya sedang cuti dan tidak ada pengganti sampai sekarang."),
    ("Pengaduan Masyarakat: kantor desa tutup di jam kerja",
     "Saya sedang cuti dari pabrik sampai tanggal 5 Desember, jadi hari Senin saya datang ke kantor "
     "desa pukul 10.00, tetapi kantor tutup.\nNama: Budi Santoso\nNIK: 3322110506890002"),
    ("Re: Pengaduan Masyarakat",
     "Terima kasih atas email Anda. Jalan di depan kantor desa masih berlubang dan kemarin ada "
     "pengendara motor jatuh lagi.\nNama: Siti Aminah\nNIK: 3322114506890002"),
    ("Pengaduan Masyarakat - Tidak di kantor saat jam pelayanan",
     "Perangkat desa tidak di kantor saat jam pelayanan, warga menunggu dua jam.\n"
     "Nama: Budi Santoso\nNIK: 3322110506890002"),
]

#: What an unknown helpdesk robot writes: no rule knows these words, so only the repeat
#: check can stop a loop with it.
ROBOT_TEXT = ("Pesan Anda sudah kami catat. Kantor kami buka Senin sampai Jumat pukul 08.00-15.00 "
              "dan setiap pesan diteruskan ke bagian yang berwenang.")
