"""Reading exclusion-list and whitelist files (CSV or Parquet) into NIK strings, streaming. No database."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

NIK_COLUMN = "nik"


class ListFileError(Exception):
    pass


def sniff_format(data: bytes, filename: str = "") -> str:
    if data[:4] == b"PAR1" or filename.lower().endswith(".parquet"):
        return "parquet"
    return "csv"


def read_niks(data: bytes, filename: str = "") -> Iterator[str]:
    """Yields the ``nik`` column's values (stripped), one per row, from CSV (header row) or Parquet."""
    if sniff_format(data, filename) == "parquet":
        yield from _parquet(data)
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ListFileError("the CSV file is not UTF-8") from None
    try:
        # a field past the csv module's limit (131,072 characters) or a malformed quote is a malformed file
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            raise ListFileError("the file is empty")
        names = [h.strip().lower() for h in header]
        if NIK_COLUMN not in names:
            raise ListFileError("the header has no 'nik' column")
        column = names.index(NIK_COLUMN)
        for row in reader:
            if not row:
                continue
            yield row[column].strip() if column < len(row) else ""
    except csv.Error as error:
        raise ListFileError(f"the CSV file is malformed ({error})") from None


def _parquet(data: bytes) -> Iterator[str]:
    try:
        import pyarrow.parquet as pq  # heavy: loaded for the first Parquet file only
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        raise ListFileError("Parquet support needs pyarrow") from None
    try:
        table = pq.ParquetFile(io.BytesIO(data))
    except Exception:
        raise ListFileError("not a readable Parquet file") from None
    if NIK_COLUMN not in table.schema_arrow.names:
        raise ListFileError("the file has no 'nik' column")
    for batch in table.iter_batches(columns=[NIK_COLUMN], batch_size=65536):
        for value in batch.column(0).to_pylist():
            yield "" if value is None else str(value).strip()


LIST_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "asn": ("Aparatur Sipil Negara (ASN)", "Civil servants (ASN)"),
    "tni": ("Anggota TNI", "Armed forces (TNI)"),
    "polri": ("Anggota Polri", "Police (Polri)"),
    "state_official": ("Pejabat negara", "State officials"),
    "dprd": ("Anggota DPR/DPRD", "Members of the DPR/DPRD"),
    "village_official": ("Kepala desa dan perangkat desa", "Village heads and officials"),
    "bumn_board": ("Direksi, komisaris dan dewan pengawas BUMN/BUMD", "Boards of state and regional enterprises"),
    "student": ("Pelajar dan mahasiswa", "Students"),
    "other_aid_dtks": ("Penerima bantuan sosial (DTKS)", "Social aid recipients (DTKS)"),
    "other_aid_bsu": ("Penerima Bantuan Subsidi Upah (BSU)", "Wage subsidy recipients (BSU)"),
    "other_aid_bpum": ("Penerima Banpres Usaha Mikro (BPUM)", "Micro-business aid recipients (BPUM)"),
    "past_recipient": ("Penerima Kartu Prakerja sebelumnya", "Past Kartu Prakerja recipients"),
    "revoked": ("Kepesertaan yang dicabut", "Revoked memberships"),
    "laid_off": ("Korban PHK (Kemnaker)", "Laid-off workers (labour ministry)"),  # as the tiers page says them
    "migrant_returnee": ("Pekerja migran yang kembali", "Returning migrant workers"),
}
"""Each list type in words (``registration.models.EXCLUSION_TYPES`` and ``WHITELIST_TYPES``): Bahasa Indonesia,
English."""

IMPORT_WAYS: dict[str, tuple[str, str]] = {
    "web": ("halaman PMO", "PMO page"),
    "cli": ("baris perintah", "command line"),
    "api": ("API", "API"),
    "partner_api": ("API mitra", "partner API"),
}
"""How a list was imported, in words."""
