import pytest

from channels.segments import count_segments


@pytest.mark.parametrize(
    ("text", "encoding", "parts"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # two septets each: exactly 160
        ("€" * 81, "GSM-7", 2),
        ("я" * 70, "UCS-2", 1),  # Cyrillic forces UCS-2: 70 in one part
        ("я" * 71, "UCS-2", 2),  # then 67 per part
        ("я" * 134, "UCS-2", 2),
        ("я" * 135, "UCS-2", 3),
        ("停水" * 35, "UCS-2", 1),
        ("a" * 69 + "😀", "UCS-2", 2),  # an emoji is two UTF-16 units
        ("", "GSM-7", 1),
    ],
)
def test_parts_follow_gsm_and_ucs2_limits(text: str, encoding: str, parts: int) -> None:
    result = count_segments(text)
    assert (result.encoding, result.parts) == (encoding, parts)


def test_one_cyrillic_letter_makes_a_latin_text_ucs2() -> None:
    assert count_segments("Request 0000018 registered" + "ё").encoding == "UCS-2"
