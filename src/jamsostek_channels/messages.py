"""The message catalogue: every error code with its Indonesian and English text.

Codes are stable (partners match on them); texts may be improved. Templates use ``str.format``
placeholders and are only ever given non-personal values (counts, field names, limits, months),
so a message can be logged or shown on a receipt printer as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["CATALOGUE", "echo", "render"]

_CATALOGUE: dict[str, tuple[str, str]] = {
    # Generic
    "input.invalid": (
        "Data tidak valid: {count} masalah ({fields}).",
        "Invalid input: {count} problem(s) ({fields}).",
    ),
    "field.required": ("Wajib diisi.", "This field is required."),
    "field.type": ("Jenis data salah: harus {expected}.", "Wrong type: must be {expected}."),
    "field.unknown": ("Kolom tidak dikenal.", "Unknown field."),
    "field.too_long": (
        "Terlalu panjang: paling banyak {max} karakter.",
        "Too long: at most {max} characters.",
    ),
    # NIK (Nomor Induk Kependudukan, national identity number)
    "nik.format": ("NIK harus 16 digit angka.", "The NIK must be 16 digits."),
    "nik.province": (
        "Kode provinsi di NIK tidak dikenal.",
        "The NIK's province code is unknown.",
    ),
    "nik.region": (
        "Kode kabupaten/kota atau kecamatan di NIK tidak boleh 00.",
        "The NIK's regency or district code cannot be 00.",
    ),
    "nik.region_unknown": (
        "Kode wilayah di NIK tidak ada di data Kemendagri terbaru (mungkin kode lama).",
        "The NIK's region code is not in the latest Kemendagri data (it may be an older code).",
    ),
    "nik.birth_date": (
        "Tanggal lahir di dalam NIK tidak valid.",
        "The birth date inside the NIK is not a real date.",
    ),
    "nik.serial": (
        "Nomor urut NIK tidak boleh 0000.",
        "The NIK's serial number cannot be 0000.",
    ),
    "nik.birth_date_mismatch": (
        "Tanggal lahir tidak cocok dengan NIK.",
        "The birth date does not match the NIK.",
    ),
    "nik.sex_mismatch": (
        "Jenis kelamin tidak cocok dengan NIK (tanggal lahir perempuan ditambah 40).",
        "The sex does not match the NIK (women's birth day has 40 added).",
    ),
    "kpj.format": (
        "Nomor KPJ harus {length} digit angka.",
        "The KPJ number must be {length} digits.",
    ),
    "customer.format": (
        "ID pelanggan harus NIK 16 digit atau nomor KPJ {kpj_length} digit.",
        "The customer ID must be a 16-digit NIK or a {kpj_length}-digit KPJ number.",
    ),
    # Name, dates, age
    "name.empty": ("Nama wajib diisi.", "The name is required."),
    "name.characters": (
        "Nama hanya boleh berisi huruf, spasi, titik, koma, apostrof dan tanda hubung.",
        "The name may contain only letters, spaces, periods, commas, apostrophes and hyphens.",
    ),
    "birth_date.format": (
        "Tanggal lahir harus berformat YYYY-MM-DD.",
        "The birth date must be written YYYY-MM-DD.",
    ),
    "birth_date.future": (
        "Tanggal lahir tidak boleh di masa depan.",
        "The birth date cannot be in the future.",
    ),
    "age.too_old": (
        "Usia saat mendaftar harus di bawah {max_age} tahun (usia sekarang {age}).",
        "Age at registration must be under {max_age} (now {age}).",
    ),
    "age.too_young": (
        "Usia minimal untuk mendaftar adalah {min_age} tahun (usia sekarang {age}).",
        "The minimum age to register is {min_age} (now {age}).",
    ),
    "sex.value": (
        'Jenis kelamin harus "male" atau "female".',
        'Sex must be "male" or "female".',
    ),
    # Contact
    "phone.format": (
        "Nomor HP tidak valid: tulis seperti 0812-3456-7890 atau +62 812 3456 7890.",
        "Invalid mobile number: write it like 0812-3456-7890 or +62 812 3456 7890.",
    ),
    "phone.not_mobile": (
        "Harus nomor HP (bukan telepon rumah): kode OTP dikirim lewat SMS.",
        "Must be a mobile number (not a landline): the OTP is sent by SMS.",
    ),
    "email.format": ("Alamat e-mail tidak valid.", "Invalid e-mail address."),
    "address.empty": ("Alamat sesuai KTP wajib diisi.", "The address as on the KTP is required."),
    "postal_code.format": ("Kode pos harus 5 digit angka.", "The postal code must be 5 digits."),
    "postal_code.unknown": (
        "Kode pos tidak ditemukan di data Kemendagri.",
        "The postal code is not in the Kemendagri data.",
    ),
    # Income
    "income.negative": ("Penghasilan tidak boleh negatif.", "Income cannot be negative."),
    "income.too_large": (
        "Penghasilan terlalu besar (paling banyak {max}).",
        "Income is too large (at most {max}).",
    ),
    # Occupations
    "occupations.empty": ("Pilih minimal satu pekerjaan.", "Choose at least one occupation."),
    "occupations.too_many": (
        "Paling banyak {max} pekerjaan.",
        "At most {max} occupations.",
    ),
    "occupations.unknown": (
        'Kode pekerjaan "{code}" tidak dikenal.',
        'Unknown occupation code "{code}".',
    ),
    "occupations.duplicate": (
        "Pekerjaan yang sama dipilih dua kali.",
        "An occupation is repeated.",
    ),
    # Programs
    "programs.unknown": ('Program "{code}" tidak dikenal.', 'Unknown program "{code}".'),
    "programs.not_for_bpu": (
        'Program "{code}" tidak tersedia untuk peserta BPU.',
        'Program "{code}" is not available to BPU participants.',
    ),
    "programs.jkk_jkm_required": (
        "JKK dan JKM wajib diambil bersama.",
        "JKK and JKM must always be taken together.",
    ),
    "programs.jht_required": (
        "JHT wajib untuk pemberi kerja perorangan.",
        "JHT is mandatory for an individual employer.",
    ),
    # Periods and quotes
    "period.format": ("Bulan harus berformat YYYY-MM.", "The month must be written YYYY-MM."),
    "months.not_allowed": (
        "Jumlah bulan {months} tidak diizinkan; pilih salah satu: {allowed}.",
        "{months} months is not allowed; choose one of: {allowed}.",
    ),
    "months.range": (
        "Jumlah bulan harus 1 sampai {max}.",
        "The number of months must be 1 to {max}.",
    ),
    "months.no_rule": (
        "Belum ada tarif untuk bulan {period}.",
        "No rates are defined for {period}.",
    ),
    # Payers
    "payer.kind": ('Jenis pembayar "{kind}" tidak dikenal.', 'Unknown payer kind "{kind}".'),
    "payer.scheme_required": (
        "Pembayar donatur/CSR wajib punya kode skema ({codes}).",
        "A donor/CSR payer needs a scheme code ({codes}).",
    ),
    "payer.scheme_unknown": (
        'Kode skema "{scheme}" tidak dikenal ({codes}).',
        'Unknown scheme code "{scheme}" ({codes}).',
    ),
    "payer.scheme_not_allowed": (
        "Kode skema hanya untuk pembayar donatur/CSR.",
        "A scheme code is only for donor/CSR payers.",
    ),
    "payer.name_required": (
        "Nama pembayar wajib diisi untuk jenis pembayar ini.",
        "The payer's name is required for this payer kind.",
    ),
    # Rule tables (a deployment problem, not the user's)
    "rules.data": (
        "Tabel aturan {file} tidak valid di {line}: {reason}",
        "Rule table {file} is invalid at {line}: {reason}",
    ),
    # Channel capabilities (refused before anything is sent)
    "payment.quote_required": (
        "Saluran ini tidak menanyakan tagihan ke BPJS: sertakan hitungan iuran (quote).",
        "This channel does not ask the host for the bill: give the payment's quote.",
    ),
    "payment.quote_unused": (
        "Saluran ini menanyakan tagihan ke BPJS sendiri: jangan sertakan hitungan iuran.",
        "This channel asks the host for the bill itself: give no quote.",
    ),
    "payment.quote_mismatch": (
        "Hitungan iuran tidak sesuai dengan pembayaran ini (jumlah bulan atau pembayar lain).",
        "The quote is not this payment's (another month count or another payer).",
    ),
    "capability.operation": (
        "Kanal {channel} tidak melayani {operation}.",
        "Channel {channel} does not offer {operation}.",
    ),
    "capability.customer_id": (
        "Kanal {channel} tidak menerima {kind} sebagai ID pelanggan.",
        "Channel {channel} does not accept {kind} as customer ID.",
    ),
    "capability.months": (
        "Kanal {channel} hanya menerima pembayaran {allowed} bulan.",
        "Channel {channel} only takes payments for {allowed} months.",
    ),
    # A payment outside the channel's per-payment limits (AmountLimitRefused): with the month
    # count that fits (*_months), or without when none does. The *_text params are the figures
    # as a receipt prints them ("Rp2.500.000").
    "capability.amount_max_months": (
        "Iuran {months} bulan ({amount_text}) melebihi batas kanal {channel} ({limit_text}) per"
        " transaksi. Paling banyak {fits} bulan ({fits_amount_text}) dapat dibayar sekaligus.",
        "{months} months ({amount_text}) exceed channel {channel}'s limit ({limit_text}) per"
        " payment. At most {fits} months ({fits_amount_text}) can be paid at once.",
    ),
    "capability.amount_max": (
        "Iuran {months} bulan ({amount_text}) melebihi batas kanal {channel} ({limit_text}) per"
        " transaksi, dan tidak ada jumlah bulan yang diterima kanal ini yang muat.",
        "{months} months ({amount_text}) exceed channel {channel}'s limit ({limit_text}) per"
        " payment, and no month count this channel takes fits it.",
    ),
    "capability.amount_min_months": (
        "Iuran {months} bulan ({amount_text}) di bawah minimum kanal {channel} ({limit_text})"
        " per transaksi. Paling sedikit {fits} bulan ({fits_amount_text}) mencapainya.",
        "{months} months ({amount_text}) are below channel {channel}'s minimum ({limit_text})"
        " per payment. At least {fits} months ({fits_amount_text}) reach it.",
    ),
    "capability.amount_min": (
        "Iuran {months} bulan ({amount_text}) di bawah minimum kanal {channel} ({limit_text})"
        " per transaksi, dan tidak ada jumlah bulan yang diterima kanal ini yang mencapainya.",
        "{months} months ({amount_text}) are below channel {channel}'s minimum ({limit_text})"
        " per payment, and no month count this channel takes reaches it.",
    ),
    "capability.agent_required": (
        "Kanal {channel} memerlukan ID agen.",
        "Channel {channel} needs an agent id.",
    ),
    "capability.coverage": (
        "Kanal {channel} tidak memberi riwayat iuran, jadi tidak dapat menyebut status "
        "kepesertaan.",
        "Channel {channel} gives no contribution history, so it cannot tell the coverage status.",
    ),
    "coverage.unknown": (
        "Kanal {channel} belum mencatat iuran yang dibayar: sebutkan bulan pendaftaran untuk "
        "mengetahui status kepesertaan.",
        "Channel {channel} shows no contribution paid: give the registration month to know the "
        "coverage status.",
    ),
    "capability.agent_not_teller": (
        "Kanal {channel} memerlukan ID petugas loket sebagai ID agen.",
        "Channel {channel} needs a counter teller's id as the agent id.",
    ),
    # The channel registry, a channel's settings and the journal connect() opens
    "channel.unknown": (
        "Kanal {name} tidak dikenal; kanal yang terpasang: {known}.",
        "Unknown channel {name}; installed channels: {known}.",
    ),
    "channel.no_capabilities": (
        "Kanal {channel} tidak menyatakan kemampuannya tanpa pengaturan (jumlah bulan, biaya "
        "admin).",
        "Channel {channel} does not declare its capabilities without settings (month counts, "
        "admin fee).",
    ),
    "settings.invalid": (
        "Pengaturan kanal {channel} tidak valid: {count} masalah ({fields}).",
        "Channel {channel}'s settings are invalid: {count} problem(s) ({fields}).",
    ),
    "settings.profile_mismatch": (
        "Tidak sama dengan nilai di profil kanal ({expected}).",
        "Differs from the channel profile's value ({expected}).",
    ),
    "settings.value": (
        "Nilai ini tidak bisa dipakai ({reason}).",
        "This value cannot be used ({reason}).",
    ),
    "settings.framing": (
        "Kepala panjang frame ini tidak bisa dipakai ({reason}).",
        "This frame length header cannot be used ({reason}).",
    ),
    "settings.office": (
        "Kode kantor ini tidak diterima profil {profile}.",
        "Profile {profile} does not accept this office code.",
    ),
    "settings.teller": (
        "Bukan ID petugas loket menurut format profil {profile}.",
        "Not a teller id of profile {profile}'s format.",
    ),
    "journal.location": (
        "Jurnal harus berupa path berkas, URL sqlite:///path, atau JournalStore yang terbuka "
        "(bukan {given}).",
        "The journal must be a file path, a sqlite:///path URL or an open JournalStore "
        "(not {given}).",
    ),
    # Host answers (each channel's codes map onto these)
    "host.customer_not_found": ("Peserta tidak ditemukan.", "Participant not found."),
    "host.lapsed": (
        "Kepesertaan sudah berakhir; silakan daftar ulang.",
        "The membership has lapsed; register again.",
    ),
    "host.already_registered": ("NIK sudah terdaftar.", "This NIK is already registered."),
    "host.otp_invalid": ("Kode OTP salah.", "Wrong OTP code."),
    "host.otp_expired": (
        "Kode OTP kedaluwarsa atau terlalu banyak percobaan.",
        "The OTP has expired or was tried too many times.",
    ),
    "host.conflict": (
        "Nomor referensi sudah dipakai untuk transaksi lain.",
        "The reference was already used for a different transaction.",
    ),
    "host.amount_mismatch": (
        "Jumlah bayar tidak sesuai tagihan.",
        "The amount does not match the bill.",
    ),
    "host.bill_paid": ("Tagihan sudah dibayar.", "The bill is already paid."),
    "host.bill_expired": (
        "Tagihan kedaluwarsa; lakukan inquiry ulang.",
        "The bill has expired; inquire again.",
    ),
    "host.limit_exceeded": (
        "Melebihi batas jumlah transaksi.",
        "The transaction amount limit is exceeded.",
    ),
    "host.cutoff": (
        "Layanan tidak tersedia saat ini (cut-off).",
        "The service is not available now (cut-off).",
    ),
    "host.autodebit_unpaid": (
        "Auto-debit hanya bisa setelah iuran bulan pertama dibayar.",
        "Auto-debit needs the first month paid.",
    ),
    "host.mandate_conflict": (
        "Nomor referensi sudah dipakai untuk mandat auto-debit lain.",
        "The reference was already used for a different auto-debit mandate.",
    ),
    "host.reversal_refused": ("Pembatalan ditolak.", "The reversal was refused."),
    "payment.reversed": (
        "Pembayaran dengan referensi ini sudah dibatalkan.",
        "The payment with this reference was reversed.",
    ),
    "host.not_found": ("Transaksi tidak ditemukan.", "Transaction not found."),
    "host.busy": ("Terlalu banyak permintaan; coba lagi.", "Too many requests; try again."),
    "host.stale_request": (
        "Waktu kirim permintaan terlalu jauh dari jam host (periksa jam perangkat); tidak"
        " diproses.",
        "The request's send time is too far from the host's clock (check the device's clock);"
        " not processed.",
    ),
    "host.error": (
        "Gangguan pada sistem tujuan ({code}).",
        "The other side reported an error ({code}).",
    ),
    "host.rejected": ("Transaksi ditolak ({code}).", "The transaction was declined ({code})."),
    # Transport and messages
    "transport.not_delivered": (
        "Permintaan tidak terkirim ({reason}); aman untuk dicoba lagi.",
        "The request was not delivered ({reason}); it is safe to try again.",
    ),
    "outcome.unknown": (
        "Tidak ada jawaban untuk {reference}: status pembayaran belum pasti. Jangan bayar ulang; "
        "cek status.",
        "No answer for {reference}: the payment's outcome is unknown. Do not pay again; check its "
        "status.",
    ),
    "auth.signature": ("Tanda tangan tidak valid.", "Invalid signature."),
    "auth.token": ("Token akses tidak valid.", "Invalid access token."),
    "auth.timestamp": (
        "Waktu permintaan di luar batas toleransi.",
        "The request's timestamp is outside the tolerance window.",
    ),
    "message.malformed": (
        "Pesan tidak dapat dibaca: {reason}.",
        "The message cannot be decoded: {reason}.",
    ),
    "message.too_large": (
        "Pesan terlalu besar (maksimal {max} byte).",
        "The message is too large (at most {max} bytes).",
    ),
    "journal.conflict": (
        "Referensi {reference} sudah dipakai untuk permintaan lain.",
        "Reference {reference} was already used for a different request.",
    ),
    "journal.busy": (
        "Jurnal sedang dipakai proses lain terlalu lama ({reason}).",
        "The journal was held by another writer for too long ({reason}).",
    ),
    "journal.full": (
        "Disk jurnal penuh: tidak ada yang dapat dicatat ({reason}).",
        "The journal's disk is full: nothing more can be recorded ({reason}).",
    ),
    "journal.io": (
        "Jurnal tidak dapat ditulis ke disk ({reason}).",
        "The journal could not be written to disk ({reason}).",
    ),
    "journal.read_only": (
        "Berkas jurnal hanya dapat dibaca ({reason}).",
        "The journal file is read-only ({reason}).",
    ),
    "journal.corrupt": (
        "Berkas jurnal rusak atau bukan jurnal ({reason}).",
        "The journal file is damaged or is not a journal ({reason}).",
    ),
    "journal.cannot_open": (
        "Berkas jurnal tidak dapat dibuka ({reason}).",
        "The journal file cannot be opened ({reason}).",
    ),
    "journal.storage": (
        "Jurnal gagal ({reason}).",
        "The journal failed ({reason}).",
    ),
    "outcome.not_recorded": (
        "Host menjawab pembayaran {reference}, tetapi jawabannya tidak dapat dicatat di jurnal;"
        " status akan ditanyakan lagi (recover).",
        "The host answered payment {reference}, but the answer could not be recorded in the"
        " journal; its status will be asked again (recover).",
    ),
    "mandate.unknown": (
        "Tidak ada jawaban untuk mandat {reference}: belum pasti berlaku. Kirim ulang dengan "
        "referensi yang sama (tidak akan terdaftar dua kali).",
        "No answer for mandate request {reference}: whether it took effect is unknown. Call again"
        " with the same reference (it is never applied twice).",
    ),
    "mandate.in_progress": (
        "Permintaan mandat {reference} sedang diproses di tempat lain; coba lagi nanti.",
        "Mandate request {reference} is being processed elsewhere; try again later.",
    ),
    "outcome.submitted": (
        "Pembayaran {reference} sudah dikirim dalam berkas; hasilnya menyusul di berkas hasil. "
        "Jangan bayar ulang.",
        "Payment {reference} was submitted in a batch file; its outcome comes with the result "
        "file. Do not pay again.",
    ),
    "outcome.in_progress": (
        "Pembayaran {reference} sedang diproses di tempat lain; tanyakan lagi nanti.",
        "Payment {reference} is being processed elsewhere; ask again later.",
    ),
    "payment.settled": (
        "Hasil pembayaran ini sudah pasti: cetak struknya, bukan slip dalam proses.",
        "This payment's outcome is known: print its receipt, not an in-progress slip.",
    ),
    "payment.mismatch": (
        "Pembayaran dengan referensi {reference} di host adalah pembayaran lain (pelanggan, bulan,"
        " jumlah, atau kantor berbeda): bukan bukti pembayaran ini.",
        "The host's payment under reference {reference} is another payment (customer, months,"
        " amount or office differ): it is no proof of this one.",
    ),
    # The command line
    "cli.usage": (
        "Perintah salah: {detail}.",
        "Wrong usage: {detail}.",
    ),
    "cli.at_least": ("Harus paling sedikit {minimum}.", "Must be at least {minimum}."),
    "cli.range": ("Harus dari {low} sampai {high}.", "Must be from {low} to {high}."),
    "cli.cannot_listen": (
        "Tidak dapat mendengarkan di port {port}: {reason}.",
        "Cannot listen on port {port}: {reason}.",
    ),
    "cli.cannot_write": (
        "Tidak dapat menulis {path}: {reason}.",
        "Cannot write {path}: {reason}.",
    ),
    "cli.interrupted": ("Dihentikan (Ctrl-C).", "Interrupted (Ctrl-C)."),
    "cli.more": (
        "... dan {count} lagi (--json untuk semuanya).",
        "... and {count} more (--json for all of them).",
    ),
    # Files
    "file.unreadable": ("Berkas tidak dapat dibaca.", "The file cannot be read."),
    "settlement.invalid": (
        "Berkas settlement tidak valid (baris {line}): {reason}.",
        "The settlement file is invalid (line {line}): {reason}.",
    ),
    "file.not_json": (
        "Berkas bukan JSON yang valid (baris {line}, kolom {column}).",
        "The file is not valid JSON (line {line}, column {column}).",
    ),
    "file.not_object": (
        "Isi berkas harus satu objek JSON.",
        "The file must hold one JSON object.",
    ),
    "file.encoding": (
        "Berkas bukan teks UTF-8 (baris {line}); simpan ulang dengan encoding UTF-8.",
        "The file is not UTF-8 text (line {line}); save it again as UTF-8.",
    ),
    "file.duplicate_key": (
        'Kunci "{key}" muncul dua kali dalam satu objek JSON.',
        'The key "{key}" appears twice in one JSON object.',
    ),
    "file.number_range": (
        "Angka di berkas JSON di luar batas (NaN, Infinity, atau lebih dari {digits} digit).",
        "A number in the JSON file is out of range (NaN, Infinity, or over {digits} digits).",
    ),
    "file.no_header": (
        "Baris pertama harus berisi nama kolom (header).",
        "The first line must hold the column names (the header).",
    ),
    "file.column_missing": (
        'Kolom "{column}" tidak ada di header.',
        'The header has no "{column}" column.',
    ),
    "file.column_repeated": (
        'Kolom "{column}" muncul dua kali di header.',
        'The column "{column}" appears twice in the header.',
    ),
    "file.column_blank": (
        "Nama kolom ke-{position} di header kosong.",
        "Column {position} of the header has no name.",
    ),
    "file.csv": (
        "Berkas CSV rusak di baris {line} (tanda kutip tidak ditutup atau isian terlalu panjang).",
        "The CSV file is broken at line {line} (an unclosed quote or an over-long cell).",
    ),
    # Amounts read from files (settlements)
    "amount.negative": (
        "Nilai rupiah tidak boleh negatif.",
        "A rupiah amount cannot be negative.",
    ),
    "amount.too_large": (
        "Nilai rupiah terlalu besar (paling banyak {max}).",
        "The rupiah amount is too large (at most {max}).",
    ),
}

#: Read-only view of the catalogue: code -> (Indonesian, English).
CATALOGUE: Mapping[str, tuple[str, str]] = MappingProxyType(_CATALOGUE)


def render(code: str, params: Mapping[str, object]) -> tuple[str, str]:
    """Indonesian and English text for ``code``; an unknown code is a programming error."""
    message_id, message_en = _CATALOGUE[code]
    return message_id.format_map(params), message_en.format_map(params)


_DIGIT = re.compile(r"\d")
_ECHO_MAX = 40


def echo(value: object) -> str:
    """A user's value made safe to repeat in a message: at most 40 characters, and with its
    digits starred when it holds five or more (it may be a NIK or a phone number typed into the
    wrong field)."""
    text = str(value)[:_ECHO_MAX]
    if len(_DIGIT.findall(text)) >= 5:
        text = _DIGIT.sub("*", text)
    return text
