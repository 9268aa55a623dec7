from __future__ import annotations

import itertools
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from prakerja.kit import pii
from prakerja.kit.clock import Clock
from prakerja.kit.ids import new_id, new_id_bytes, parse_id
from prakerja.kit.keys import KeyMaterial
from prakerja.kit.money import MoneyError, format_rupiah, rupiah


class TestMoney:
    @pytest.mark.parametrize(
        ("amount", "shown"),
        [
            (0, "Rp0"),
            (500, "Rp500"),
            (1000, "Rp1.000"),
            (1_000_000, "Rp1.000.000"),
            (3_500_000, "Rp3.500.000"),
            (-600_000, "-Rp600.000"),
        ],
    )
    def test_format(self, amount: int, shown: str) -> None:
        assert format_rupiah(amount) == shown

    @pytest.mark.parametrize("bad", [1.5, 1000.0, True, "12.5", None, "abc"])
    def test_refuses_non_integers(self, bad: object) -> None:
        with pytest.raises(MoneyError):
            rupiah(bad)

    def test_accepts_digit_strings(self) -> None:
        assert rupiah("600000") == 600_000


class TestIds:
    def test_sortable_by_time(self) -> None:
        ids = [new_id() for _ in range(200)]
        assert ids == sorted(ids)
        assert all(i.version == 7 for i in ids)

    def test_laid_out_as_uuid6_lays_out_a_uuid7(self) -> None:
        """The fast construction (ADR 0041) gives what ``uuid6.uuid7()`` gave (the package is no longer a dependency):
        a plain ``UUID`` equal, hashed and printed as one built by ``UUID.__init__``, version 7 and the RFC variant
        set as ``UUID(int=, version=7)`` sets them, the millisecond clock in the first 48 bits, in order with
        ``new_id_bytes``."""
        import copy
        import time
        import uuid

        from prakerja.kit.ids import new_id_bytes

        before = time.time_ns() // 1_000_000
        made = [new_id() for _ in range(500)]
        raw = [new_id_bytes() for _ in range(500)]
        after = time.time_ns() // 1_000_000
        for value in made:
            assert type(value) is uuid.UUID and value.is_safe is uuid.SafeUUID.unknown
            rebuilt = uuid.UUID(int=value.int)  # the same value through UUID.__init__ (3.11 refuses version=7)
            assert value.int >> 76 & 0xF == 7 and value.int >> 62 & 0b11 == 0b10  # the bits uuid6.uuid7() sets
            assert rebuilt == value and rebuilt.int == value.int and hash(rebuilt) == hash(value)
            assert str(uuid.UUID(str(value))) == str(value) and copy.deepcopy(value) == value
            assert (value.version, value.variant) == (7, uuid.RFC_4122)
            assert before <= value.int >> 80 <= after + 1000
        assert made == sorted(made) and len(set(made)) == len(made)
        assert [value.bytes for value in made] + raw == sorted([value.bytes for value in made] + raw)
        assert all(uuid.UUID(bytes=b).version == 7 for b in raw)

    def test_the_layout_of_a_uuid7(self) -> None:
        before = time.time_ns() // 1_000_000
        value = new_id()
        after = time.time_ns() // 1_000_000
        assert value.version == 7 and value.variant == uuid.RFC_4122
        assert before <= value.int >> 80  # its millisecond; a burst of ids may take the next ones
        assert value.int >> 80 <= after + 1000
        raw = new_id_bytes()
        assert len(raw) == 16 and uuid.UUID(bytes=raw).version == 7 and uuid.UUID(bytes=raw) > value

    def test_the_random_bits_vary_and_the_counter_counts(self) -> None:
        ids = [new_id().int for _ in range(2000)]
        assert len({i & (1 << 62) - 1 for i in ids}) == 2000  # rand_b, 62 random bits
        stamps = [i >> 80 << 12 | i >> 64 & 0xFFF for i in ids]  # millisecond and counter (rand_a)
        assert all(b > a for a, b in itertools.pairwise(stamps))
        same_ms = [(a, b) for a, b in itertools.pairwise(ids) if a >> 80 == b >> 80]
        assert same_ms and all((b >> 64 & 0xFFF) == (a >> 64 & 0xFFF) + 1 for a, b in same_ms)

    def test_a_burst_of_ids_keeps_the_clock(self) -> None:
        """``uuid6.uuid7()`` moved the millisecond one ahead per id made within one: a burst of 100,000 ids carried
        times ~100 s ahead; the counter keeps them within the burst's own milliseconds."""
        import time

        before = time.time_ns() // 1_000_000
        last = max(new_id().int for _ in range(100_000))
        after = time.time_ns() // 1_000_000
        assert before <= last >> 80 <= after + 1

    def test_parse(self) -> None:
        value = new_id()
        assert parse_id(str(value)) == value
        assert parse_id("not-an-id") is None


class TestClock:
    def test_frozen_and_advanced(self) -> None:
        c = Clock()
        at = datetime(2026, 12, 15, 0, 0, tzinfo=UTC)
        with c.frozen(at):
            assert c.now() == at
            c.advance(timedelta(days=1))
            assert c.now() == at + timedelta(days=1)
        assert abs((c.now() - datetime.now(UTC)).total_seconds()) < 5

    def test_naive_refused(self) -> None:
        with pytest.raises(ValueError):
            Clock().freeze(datetime(2026, 1, 1))


def _keys(active: str = "k1") -> KeyMaterial:
    return KeyMaterial(
        secret_key="s",
        pii_keys={"k1": b"\x01" * 32, "k2": b"\x02" * 32},
        pii_active_key=active,
        blind_index_key=b"\x03" * 32,
        signing_key=b"\x04" * 32,
    )


class TestPii:
    def test_round_trip_and_no_plaintext(self) -> None:
        blob = pii.encrypt("3201014101900001", "registration.nik", _keys())
        assert b"3201014101900001" not in blob
        assert pii.decrypt(blob, "registration.nik", _keys()) == "3201014101900001"

    def test_same_value_encrypts_differently(self) -> None:
        assert pii.encrypt("Siti", "c", _keys()) != pii.encrypt("Siti", "c", _keys())

    def test_bound_to_its_column(self) -> None:
        blob = pii.encrypt("Siti", "auth_accounts.display_name", _keys())
        with pytest.raises(pii.PiiError):
            pii.decrypt(blob, "auth_accounts.email", _keys())

    def test_rotation_reads_old_key(self) -> None:
        old = pii.encrypt("Budi", "c", _keys("k1"))
        assert pii.key_id_of(old) == "k1"
        new = pii.encrypt("Budi", "c", _keys("k2"))
        assert pii.key_id_of(new) == "k2"
        assert pii.decrypt(old, "c", _keys("k2")) == "Budi"

    def test_unknown_key_refused(self) -> None:
        blob = pii.encrypt("Budi", "c", _keys())
        missing = KeyMaterial("s", {"k9": b"\x09" * 32}, "k9", b"\x03" * 32, b"\x04" * 32)
        with pytest.raises(pii.PiiError, match="k1"):
            pii.decrypt(blob, "c", missing)

    def test_tampered_ciphertext_refused(self) -> None:
        blob = bytearray(pii.encrypt("Budi", "c", _keys()))
        blob[-1] ^= 1
        with pytest.raises(pii.PiiError):
            pii.decrypt(bytes(blob), "c", _keys())

    def test_blind_index_equal_for_equal_values_only(self) -> None:
        a = pii.blind_index(" Siti@Example.org ", "email", _keys())
        assert a == pii.blind_index("siti@example.org", "email", _keys())
        assert a != pii.blind_index("siti@example.com", "email", _keys())
        assert a != pii.blind_index("siti@example.org", "phone", _keys())

    def test_mask(self) -> None:
        assert pii.mask("3201014101900001") == "************0001"


class TestSealer:
    def test_sealed_values_decrypt_like_encrypted_ones(self) -> None:
        keys = _keys()
        sealer = pii.Sealer(keys)
        blob = sealer.seal("3201010101900001", b"registration_applicants.nik")
        assert pii.key_id_of(blob) == "k1"
        assert pii.decrypt(blob, "registration_applicants.nik", keys) == "3201010101900001"
        with pytest.raises(pii.PiiError):
            pii.decrypt(blob, "registration_applicants.kk", keys)

    def test_every_value_gets_its_own_nonce_across_blocks(self) -> None:
        sealer = pii.Sealer(_keys())
        count = 2 * pii.Sealer._BLOCK // 12 + 5
        nonces = {sealer.seal("x", b"c")[4:16] for _ in range(count)}
        assert len(nonces) == count

    def test_a_sealer_inherited_across_a_fork_refuses_to_draw_nonces(self) -> None:
        sealer = pii.Sealer(_keys())
        sealer.seal("x", b"c")
        sealer._pid = -1  # as in a child process made by fork
        sealer._at = len(sealer._nonces)
        with pytest.raises(pii.PiiError):
            sealer.seal("x", b"c")


class TestNormalise:
    @pytest.mark.parametrize("value", ["3201010101900001", "0812345678", "0"])
    def test_ascii_numbers_are_their_own_normal_form(self, value: str) -> None:
        assert pii.normalise(value) == value
        assert pii.blind_index(value, "nik", _keys()) == pii.blind_index(f" {value} ", "nik", _keys())

    def test_other_digits_still_go_through_nfkc(self) -> None:
        assert pii.normalise("\uff13\uff12") == "32"  # full-width digits
        assert pii.normalise("\u0663\u0662") == "\u0663\u0662"  # Arabic-Indic digits stay as they are


def test_a_refusal_code_in_words() -> None:
    from prakerja.kit.errors import DomainError, words_for_code
    from prakerja.partners import errors as partner_errors

    class FarAway(DomainError):
        code = "test_far_away"
        message = "Terlalu jauh."
        message_en = "Too far away."

    class FartherAway(FarAway):  # inherits the code: the first class that declares it answers
        message = "Lebih jauh."

    assert words_for_code("test_far_away") == ("Terlalu jauh.", "Too far away.")
    stale = partner_errors.StaleTimestamp
    assert words_for_code("stale_timestamp") == (stale.message, stale.message_en)  # a partner API refusal
    assert words_for_code("no_such_code_anywhere") is None
    assert FartherAway.code == "test_far_away"
