"""The common words of complaints: what may be shown without knowing whether it is identity.

A subject or a file name has no sentence around it to tell a name from a topic
("Pengaduan Masyarakat - Budi Santoso, Dusun Krajan", "KTP_Budi_Santoso_3322....jpg"), so
there privacy keeps only words it knows to be ordinary and hides every other one: a
name, a hamlet, a typo. In descriptions the same list decides whether a lower-case word
after "saya" may be a name.

Words that are also common Indonesian given names (budi, indah, dewi, sari, putri, ayu,
jaya, agung, lestari, rahayu, melati, bintang, harapan, ...) are deliberately missing:
where a word may be a name, it is hidden.
"""

from __future__ import annotations

from typing import Final

__all__ = ["COMMON_WORDS"]

_FUNCTION = """
di ke dari dan atau yang untuk dengan pada dalam oleh karena agar supaya bahwa jika kalau namun
tetapi tapi juga sudah belum tidak tak bukan ada adalah ini itu tersebut sini situ sana mana apa
siapa kapan bagaimana mengapa kenapa berapa saja sangat sekali lebih kurang paling masih sedang
akan telah pernah harus bisa dapat boleh para tiap setiap semua seluruh banyak sedikit beberapa
hampir sering jarang selalu lagi baru lama sejak sampai hingga selama sebelum sesudah setelah
sementara antara atas bawah depan belakang samping dekat jauh sekitar luar sebelah ujung tengah
pinggir sepanjang arah menuju tentang soal terkait mengenai perihal hal masalah sebagai selaku
secara serta beserta bersama sendiri pribadi sekeluarga saat ketika waktu kala kembali terus
hanya cuma pun lah kah nya mohon tolong segera cepat terlalu cukup amat sungguh benar betul
saya aku kami kita anda beliau mereka dia ia kamu kalian
hari minggu bulan tahun pagi siang sore malam kemarin besok sekarang tadi nanti lalu dulu
senin selasa rabu kamis jumat sabtu ahad januari februari maret april mei juni juli agustus
september oktober november desember
satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas puluh belas ratus ribu juta
pertama kedua ketiga keempat kelima
"""
_COMPLAINT = """
pengaduan masyarakat aduan adu laporan lapor keluhan keberatan permohonan usulan usul saran kritik
informasi pertanyaan tanya pemberitahuan pengumuman surat dokumen berkas foto gambar video bukti
lampiran salinan ktp kk akta kelahiran kematian nikah sktm skck pengantar izin perizinan
rekomendasi sertifikat pajak pbb bpjs kis kip pkh blt bansos bpnt sembako beras bantuan dana
anggaran apbdes dd add program kegiatan proyek pembangunan perbaikan renovasi rehab rehabilitasi
pemeliharaan pengerjaan pekerjaan kontraktor material pelayanan layanan administrasi pengurusan
data nama alamat nomor tanggal jam pukul kali rupiah rp biaya tarif iuran retribusi gratis
pungutan pungli liar ilegal penipuan penyalahgunaan korupsi transparansi musyawarah rapat
penting mendesak darurat urgent tindak lanjut tindaklanjut penanganan tanggapan respon jawaban
status cek mohon segera
"""
_PLACES = """
jalan jembatan gorong selokan got saluran drainase irigasi sungai kali parit bendungan embung
sumur air bersih pdam pam pipa kran keran listrik pln lampu penerangan pju tiang kabel trafo gardu
sinyal internet wifi jaringan telepon tower menara aspal beton cor paving batu tanah lumpur
genangan banjir longsor lubang berlubang retak rusak parah ambles amblas putus tumbang roboh
bocor mampet tersumbat macet mati padam gelap kotor bau sampah limbah tps tpa pembuangan
pembakaran asap debu kebisingan bising suara berisik polusi pencemaran
balai kantor kelurahan kecamatan kabupaten kota provinsi desa dusun dukuh kampung rt rw gang gg
jl blok perumahan perum komplek pasar masjid mushola musholla musala langgar gereja pura vihara
sekolah sd smp sma smk tk paud madrasah mi mts ma pesantren puskesmas pustu posyandu polindes
rumah sakit rs klinik apotek lapangan makam kuburan pemakaman taman terminal halte stasiun parkir
parkiran pertigaan perempatan tikungan simpang gapura pos ronda kamling toko warung kios bengkel
pabrik sawah kebun ladang hutan tambak kolam pantai gunung bukit lembah kampus gedung aula
"""
_PEOPLE = """
warga penduduk pak bu bapak ibu mas mbak kakak adik anak orang tua lansia janda yatim piatu
difabel disabilitas petugas perangkat pegawai staf kepala kades sekdes kasi kaur kadus ketua
pengurus lurah camat bupati gubernur polisi babinsa bhabinkamtibmas bidan dokter perawat guru
sopir tukang pedagang petani nelayan buruh pemuda karang taruna pkk linmas hansip satpam tetangga
keluarga suami istri ayah kakek nenek cucu bayi balita siswa murid pelajar mahasiswa
"""
_VERBS = """
minta meminta memohon melapor melaporkan mengadu mengadukan menyampaikan sampaikan laporkan
adukan tanyakan usulkan ditindaklanjuti menindaklanjuti diperbaiki perbaiki memperbaiki
dibersihkan bersihkan dibangun bangun diganti ganti dicek periksa diperiksa dikirim kirim
diterima terima dibantu bantu membantu urus mengurus diurus dipungut pungut dipersulit sulit
mudah susah bayar membayar dibayar mahal murah lambat jelas selesai ditangani menanggapi datang
hadir kosong penuh habis hilang dicuri pencurian maling kriminal keamanan ketertiban aman bahaya
berbahaya membahayakan kecelakaan jatuh terjatuh tertabrak korban luka sakit meninggal terganggu
mengganggu gangguan keluhkan mengeluh mengeluhkan kecewa puas baik buruk jelek salah sesuai
besar kecil tinggi rendah panjang pendek lebar sempit dalam dangkal licin becek tergenang
menumpuk berserakan dibuang membuang dibakar membakar ditebang menebang berkeliaran menggonggong
mengalir tidak mengalir keruh hidup nyala menyala berfungsi bekerja beroperasi tutup buka dibuka
ditutup dipasang pasang dipotong diangkut angkut ditarik diminta dilayani melayani menolak ditolak
menunggu tunggu terlambat telat tepat harap berharap semoga terimakasih terima kasih hormat salam
selamat assalamualaikum wassalamualaikum wr wb dengan hormat yth kepada bapak ibu
lihat dengar rasa tahu kira pikir ingat lupa tinggal punya alami temukan temui lewat pakai
takut khawatir heran bingung resah cemas marah malu senang sedih capek lelah kesal sabar
ikut mewakili wakil atasnama sudah pernah biasa kerja jualan sering ingin mau hendak perlu
sempat coba mencoba tanya bertanya cari mencari lapor harus wajib
"""
_NATURE = """
anjing kucing ayam sapi kambing babi ular tikus nyamuk lalat monyet hewan ternak pohon ranting
dahan rumput semak hujan angin panas kering kemarau musim kebakaran gempa
"""
# Mail programs, cameras and file types: "Re:", "Fwd:", "IMG_20261127_101530.jpg".
_MAIL = """
re fwd fw aw wg tr sv vs on at from to subject the of and for in image photo img dsc dcim pic
picture screenshot tangkapan layar whatsapp wa document doc docx pdf scan scanned jpg jpeg png
gif heic webp mp4 mov txt xls xlsx file berkas lampiran copy salinan new baru final revisi rev
camera kamera snapshot vid audio rekaman voice
"""

COMMON_WORDS: Final = frozenset(
    " ".join((_FUNCTION, _COMPLAINT, _PLACES, _PEOPLE, _VERBS, _NATURE, _MAIL)).split()
)
