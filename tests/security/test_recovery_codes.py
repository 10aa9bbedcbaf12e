"""Recovery codes as pure functions: security/recovery_codes/codes.py."""

import math
import re

import pytest

from security.recovery_codes import codes as recovery_codes

DISPLAY = re.compile(rf"[{recovery_codes.ALPHABET}]{{5}}-[{recovery_codes.ALPHABET}]{{5}}")


def test_generate_ten_distinct_codes_in_display_form():
    codes = recovery_codes.generate()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert DISPLAY.fullmatch(code), code


def test_generate_at_least_40_bits_each_by_construction():
    alphabet = recovery_codes.ALPHABET
    assert len(set(alphabet)) == len(alphabet) == 32
    assert recovery_codes.LENGTH * math.log2(len(alphabet)) >= 40


def test_generate_no_lookalike_letters():
    assert not set("ilou") & set(recovery_codes.ALPHABET)


def test_generate_codes_differ_between_calls():
    assert set(recovery_codes.generate()).isdisjoint(recovery_codes.generate())


def test_generate_uses_the_whole_alphabet():
    """A crude check that generation is not stuck on a few characters."""
    seen = set("".join(c.replace("-", "") for _ in range(20) for c in recovery_codes.generate()))
    assert seen == set(recovery_codes.ALPHABET)


def test_display_splits_in_two_halves():
    assert recovery_codes.display("abcdefghjk") == "abcde-fghjk"


@pytest.mark.parametrize(
    "raw",
    [
        "abcde-fghjk",
        "abcdefghjk",
        "ABCDE-FGHJK",
        " abcde fghjk ",
        "ab-cd-ef-gh-jk",
        "abcde\t-\tfghjk",
    ],
)
def test_normalize_tolerates_spaces_dashes_and_case(raw):
    assert recovery_codes.normalize(raw) == "abcdefghjk"


def test_normalize_reads_lookalikes_as_crockford_does():
    assert recovery_codes.normalize("OoIiL-l0000") == "0011110000"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        "abcde-fghj",
        "abcde-fghjkm",
        "abcde-fghju",
        "abcde_fghjk",
        "１２３４５６７８９０",
        "123456",
    ],
)
def test_normalize_anything_else_none(raw):
    assert recovery_codes.normalize(raw) is None


def test_normalize_of_display_round_trips():
    for code in recovery_codes.generate():
        assert recovery_codes.display(recovery_codes.normalize(code)) == code
