"""How the engine reads answers (keys, spoken digits, numbers, times), and its stock lines."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import phonenumbers

from presszero.context.phones import try_normalise_phone
from presszero.flows.language.hours import DAY_NAMES, Hours
from presszero.flows.language.intents import words
from presszero.flows.language.model import AskStep
from presszero.flows.language.phrases import KEY_WORDS, english, phrase

FRUSTRATION = (
    "this is ridiculous", "ridiculous", "useless", "this is stupid", "stupid", "waste of time",
    "wasting my time", "fed up", "sick of this", "not helpful", "not helping", "not listening",
    "this is a joke", "what the hell", "for gods sake", "frustrated", "frustrating",
    "annoying", "pointless", "hopeless", "terrible service", "worst service", "going in circles",
)  # fmt: skip

# Keys named in words, in every language presszero speaks ("one", "uno")
_KEY_WORDS = {word: key for names in KEY_WORDS.values() for word, key in names.items()}
_DIGIT_WORDS = {**_KEY_WORDS, "oh": "0"}
_PRESS = frozenset({
    "press", "pressing", "option", "number", "key", "dial", "i", "ll", "say",
    "oprimo", "oprima", "marco", "marque", "pulso", "pulse", "opcion", "numero", "tecla", "el",
    "la",
})  # fmt: skip

# Times a customer can ask to be called back: (key, words that choose it, local minutes)
WHEN_CHOICES = (
    (
        "asap",
        (
            "soon",
            "asap",
            "now",
            "today",
            "first",
            "earliest",
            "whenever",
            "any",
            "pronto",
            "posible",
            "ahora",
            "hoy",
            "antes",
        ),
        (0, 1440),
    ),
    ("morning", ("morning", "am", "manana"), (0, 720)),
    ("afternoon", ("afternoon", "evening", "pm", "later", "tarde", "noche"), (720, 1440)),
)

WHEN_PROMPT = english("When should we call?")

# What a customer may open a conversation with that answers nothing yet.
OPENINGS = frozenset(
    {
        "",
        "hi",
        "hello",
        "hey",
        "/start",
        "start",
        "/restart",
        "good morning",
        "hiya",
        "hola",
        "buenas",
        "buenos dias",
        "buenos días",
        "buenas tardes",
        "buenas noches",
    }
)

SORRY = {
    "no_input": english("Sorry, I didn't hear anything."),
    "no_match": english("Sorry, I didn't catch that."),
    "low_confidence": english("Sorry, I didn't catch that."),
    "invalid": english("Sorry, that doesn't look right."),
    "not_a_phone": english("Sorry, that doesn't look like a full phone number."),
}

# A line we could dial: digits, with the separators people write them with. Withheld callers
# ("anonymous", "restricted"), browser clients ("client:alice") and SIP addresses are not.
_DIALLABLE = re.compile(r"\+?[0-9][0-9 ().-]*")


def is_opening(text: str) -> bool:
    """Return True for words that only open a conversation ("hi"), not an answer."""
    return " ".join(text.lower().split()).strip(" .!") in OPENINGS


def as_key(text: str) -> str | None:
    """Return the phone key a typed or spoken answer names ("1", "one", "press 0"), or None."""
    toks = [t for t in words(text) if t not in _PRESS]
    if len(toks) == 1:
        tok = _KEY_WORDS.get(toks[0], toks[0])
        if re.fullmatch(r"[0-9*#]", tok):
            return tok
    if re.fullmatch(r"\s*[0-9*#]\s*", text):
        return text.strip()
    return None


def spoken_digits(text: str) -> str:
    """Return the digits in `text`, spoken ones included ("four oh two 7" → "4027")."""
    out: list[str] = []
    for tok in re.findall(r"[0-9]+|[a-z]+", text.lower()):
        if tok.isdigit():
            out.append(tok)
        elif tok in _DIGIT_WORDS and _DIGIT_WORDS[tok].isdigit():
            out.append(_DIGIT_WORDS[tok])
    return "".join(out)


def ask_value(step: AskStep, raw: str, from_text: bool) -> str | None:
    """Return the answer `raw` gives to an ask step, or None when it is not acceptable."""
    if step.digits:
        value = spoken_digits(raw) if from_text else raw.strip().rstrip("#")
        if not value.isdigit():
            return None
    else:
        value = raw.strip()
        if re.fullmatch(step.pattern, value) is None:
            return None
    return value if step.min_length <= len(value) <= step.max_length else None


def phone_answer(raw: str, region: str) -> str | None:
    """Return the phone number (E.164) given as keys, speech or typing, or None unless it is
    a valid number for `region`: long enough, and in a range that is really dialled."""
    text = raw.strip().rstrip("#")
    digits = spoken_digits(text)
    candidate = ("+" if text.startswith("+") else "") + digits
    if len(digits) < 7:
        return None
    number = try_normalise_phone(candidate, region)
    if number is None or not phonenumbers.is_valid_number(phonenumbers.parse(number)):
        return None
    return number


def callable_number(line: str, region: str) -> str | None:
    """Return a caller's line or a number on record (E.164) if we could call it back, or None
    (withheld, a client or SIP address, too short to dial from anywhere). Fictional 555
    numbers pass, as the store keeps them: the network connected this line, or someone saved
    it; a number keyed in now is held to more (`phone_answer`)."""
    text = line.strip()
    number = try_normalise_phone(text, region) if _DIALLABLE.fullmatch(text) else None
    if number is None:
        return None
    whole = phonenumbers.is_possible_number_with_reason(phonenumbers.parse(number))
    return number if whole == phonenumbers.ValidationResult.IS_POSSIBLE else None


_YES = frozenset({
    "yes", "yeah", "yep", "correct", "right", "sure", "ok", "okay",
    "si", "correcto", "claro", "exacto", "eso",
})  # fmt: skip
_NO = frozenset({
    "no", "nope", "wrong", "another", "different", "again", "not", "otro", "incorrecto",
})  # fmt: skip


def yes_or_no(raw: str) -> bool | None:
    """Return True for 1 or a yes ("that's right"), False for 2 or a no ("no, another
    number"), None for anything else."""
    key = as_key(raw)
    if key in ("1", "2"):
        return key == "1"
    said = set(words(raw))
    if said & _NO:
        return False
    if said & _YES:
        return True
    return None


def when_answer(raw: str) -> str | None:
    """Return "asap", "morning" or "afternoon" for a callback-time answer, or None."""
    key = as_key(raw)
    if key in ("1", "2", "3"):
        return WHEN_CHOICES[int(key) - 1][0]
    said = set(words(raw))
    for name, cues, _ in WHEN_CHOICES:
        if said & set(cues):
            return name
    return None


def callback_time(hours: Hours, when: str, now: datetime) -> datetime:
    """Return the earliest moment to call back for `when`, within the open hours."""
    window = next(span for name, _, span in WHEN_CHOICES if name == when)
    return hours.next_open(now, window) or hours.next_open(now) or now


def said_when(hours: Hours, moment: datetime, when: str, now: datetime, language: str) -> str:
    """Return the callback time in words: "as soon as we can", "tomorrow morning"."""
    if when == "asap":
        soon = moment <= now + timedelta(minutes=1)
        return phrase("as soon as we can" if soon else "as soon as we open", language)
    days = (moment.astimezone(hours.tz).date() - now.astimezone(hours.tz).date()).days
    morning = when == "morning"
    if days == 0:
        return phrase("this morning" if morning else "this afternoon", language)
    if days == 1:
        return phrase("tomorrow morning" if morning else "tomorrow afternoon", language)
    day = phrase(DAY_NAMES[moment.astimezone(hours.tz).weekday()], language)
    return phrase("on {day} morning" if morning else "on {day} afternoon", language).format(day=day)


def ends_in(number: str) -> str:
    """Return the last four digits a number is named by ("0002"); the phone reads them one
    by one (flows/render/voice.read_aloud), the chat shows them as they are."""
    return number[-4:]
