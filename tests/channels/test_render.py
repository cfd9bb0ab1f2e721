"""A structured reply worded by each channel: numbered on SMS, keys on the phone, buttons on
screens."""

import pytest

from channels.contract import Choice, Structure
from channels.installed import registry
from channels.templates import render
from core.config import Settings
from core.i18n import gettext

HEATING = Choice(id="cat:heating", labels={"en": "Heating", "ru": "Отопление", "zh": "供暖"})
LIFT = Choice(id="cat:lift", labels={"en": "Lift", "ru": "Лифт"})
ASK = Structure(notice="help", choices=(HEATING, LIFT))


@pytest.fixture(scope="module")
def channels():  # type: ignore[no-untyped-def]
    return registry(Settings())


def test_sms_lists_the_choices_by_number(channels) -> None:  # type: ignore[no-untyped-def]
    text = channels.render("sms", ASK, "ru")
    assert text.startswith(render("sms", "help", "ru") + "\n")
    # One line per choice, numbered in the structure's order (the digits intake reads),
    # then how to answer.
    assert text.split("\n")[-3:] == [
        "1: Отопление",
        "2: Лифт",
        gettext("ru", "Reply with the number."),
    ]


def test_a_label_missing_in_the_language_falls_back_to_english(channels) -> None:  # type: ignore[no-untyped-def]
    assert "2：Lift" in channels.render("sms", ASK, "zh").split("\n")


def test_a_caller_hears_which_key_to_press(channels) -> None:  # type: ignore[no-untyped-def]
    text = channels.render("voice", ASK, "en")
    assert text.startswith(render("voice", "help", "en"))
    assert text.endswith("For Heating, press 1. For Lift, press 2.")


@pytest.mark.parametrize("channel", ["web", "telegram"])
def test_screens_draw_buttons_and_keep_the_text_clean(channels, channel: str) -> None:  # type: ignore[no-untyped-def]
    text = channels.render(channel, ASK, "en")
    assert text == render(channels.spec(channel).text_style, "help", "en")
    assert "Heating" not in text and "1 —" not in text


def test_a_reply_without_choices_is_the_notice_alone(channels) -> None:  # type: ignore[no-untyped-def]
    plain = Structure(notice="ticket_continued", values={"number": "0000012"})
    assert channels.render("sms", plain, "en") == render(
        "sms", "ticket_continued", "en", number="0000012"
    )
