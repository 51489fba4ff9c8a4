"""The languages Twilio's <Say> and <Gather> accept, as data.

Source: twilio-csharp, src/Twilio/TwiML/Voice/Say.cs (`Say.LanguageEnum`) and
src/Twilio/TwiML/Voice/Gather.cs (`Gather.LanguageEnum`), generated from Twilio's API
definitions; read at commit f6b1f01016af1cc39055cbc6805e7953e7c941ef (2026-06-22).
The two lists differ: a flow's language is both spoken (<Say>) and listened for (<Gather>),
so it must be in both. To refresh, copy the enums' values again and name the new commit.
"""

from __future__ import annotations

from .languages import SUPPORTED, name_of, supported

SAY = frozenset(
    {
        "af-ZA",
        "am-ET",
        "ar-AE",
        "ar-XA",
        "arb",
        "bg-BG",
        "bn-IN",
        "ca-ES",
        "cmn-CN",
        "cmn-TW",
        "cs-CZ",
        "cy-GB",
        "da-DK",
        "de-AT",
        "de-DE",
        "el-GR",
        "en-AU",
        "en-CA",
        "en-GB",
        "en-GB-WLS",
        "en-IE",
        "en-IN",
        "en-NZ",
        "en-US",
        "en-ZA",
        "es-ES",
        "es-MX",
        "es-US",
        "fi-FI",
        "fil-PH",
        "fr-CA",
        "fr-FR",
        "fr-BE",
        "gu-IN",
        "he-IL",
        "hi-IN",
        "hu-HU",
        "id-ID",
        "is-IS",
        "it-IT",
        "ja-JP",
        "kn-IN",
        "ko-KR",
        "lv-LV",
        "ml-IN",
        "mr-IN",
        "ms-MY",
        "nb-NO",
        "nl-BE",
        "nl-NL",
        "pa-IN",
        "pl-PL",
        "pt-BR",
        "pt-PT",
        "ro-RO",
        "ru-RU",
        "sk-SK",
        "sr-RS",
        "sv-SE",
        "ta-IN",
        "te-IN",
        "th-TH",
        "tr-TR",
        "uk-UA",
        "vi-VN",
        "yue-HK",
        "zh-CN",
        "zh-HK",
        "zh-TW",
    }
)

GATHER = frozenset(
    {
        "af-ZA",
        "am-ET",
        "ar-AE",
        "ar-BH",
        "ar-DZ",
        "ar-EG",
        "ar-IL",
        "ar-IQ",
        "ar-JO",
        "ar-KW",
        "ar-LB",
        "ar-MA",
        "ar-OM",
        "ar-PS",
        "ar-QA",
        "ar-SA",
        "ar-TN",
        "az-AZ",
        "bg-BG",
        "bn-BD",
        "bn-IN",
        "ca-ES",
        "cs-CZ",
        "da-DK",
        "de-DE",
        "el-GR",
        "en-AU",
        "en-CA",
        "en-GB",
        "en-GH",
        "en-IE",
        "en-IN",
        "en-KE",
        "en-NG",
        "en-NZ",
        "en-PH",
        "en-SG",
        "en-TZ",
        "en-US",
        "en-ZA",
        "es-AR",
        "es-BO",
        "es-CL",
        "es-CO",
        "es-CR",
        "es-DO",
        "es-EC",
        "es-ES",
        "es-GT",
        "es-HN",
        "es-MX",
        "es-NI",
        "es-PA",
        "es-PE",
        "es-PR",
        "es-PY",
        "es-SV",
        "es-US",
        "es-UY",
        "es-VE",
        "et-EE",
        "eu-ES",
        "fa-IR",
        "fi-FI",
        "fil-PH",
        "fr-CA",
        "fr-FR",
        "gl-ES",
        "gu-IN",
        "he-IL",
        "hi-IN",
        "hr-HR",
        "hu-HU",
        "hy-AM",
        "id-ID",
        "is-IS",
        "it-IT",
        "ja-JP",
        "jv-ID",
        "ka-GE",
        "km-KH",
        "kn-IN",
        "ko-KR",
        "lo-LA",
        "lt-LT",
        "lv-LV",
        "mk-MK",
        "ml-IN",
        "mn-MN",
        "mr-IN",
        "ms-MY",
        "my-MM",
        "nar-IQ",
        "nb-NO",
        "ne-NP",
        "nl-BE",
        "nl-NL",
        "pa-guru-IN",
        "pl-PL",
        "pt-BR",
        "pt-PT",
        "ro-RO",
        "ru-RU",
        "si-LK",
        "sk-SK",
        "sl-SI",
        "sq-AL",
        "sr-RS",
        "su-ID",
        "sv-SE",
        "sw-KE",
        "sw-TZ",
        "ta-IN",
        "ta-LK",
        "ta-MY",
        "ta-SG",
        "te-IN",
        "th-TH",
        "tr-TR",
        "uk-UA",
        "ur-IN",
        "ur-PK",
        "uz-UZ",
        "vi-VN",
        "yue-Hant-HK",
        "zh",
        "cmn-Hans-CN",
        "zh-TW",
        "cmn-Hant-TW",
        "zu-ZA",
    }
)

# Twilio transcribes a <Record> only in English (US), and only recordings of 2 to 120 seconds.
TRANSCRIBED = frozenset({"en-US"})
TRANSCRIBED_SECONDS = (2, 120)


def refusals(language: str) -> list[str]:
    """Return which of Twilio's <Say> and <Gather> would refuse `language` (none: [])."""
    return [verb for verb, known in (("<Say>", SAY), ("<Gather>", GATHER)) if language not in known]


def spelled_like(language: str) -> str | None:
    """Return the language both verbs accept that `language` is a mis-cased spelling of."""
    both = SAY & GATHER
    return next((known for known in sorted(both) if known.lower() == language.lower()), None)


def language_problems(language: str) -> list[str]:
    """Return why a flow cannot speak `language`: presszero's own words do not exist in it,
    or Twilio's <Say> or <Gather> would refuse it (none: [])."""
    out: list[str] = []
    if not supported(language):
        speaks = ", ".join(name_of(b) for b in SUPPORTED)
        out.append(
            f"language '{language}': presszero's own words (how to press a key, the hours, "
            f"the queue's messages) exist only in {speaks}"
        )
    refused = refusals(language)
    if refused:
        close = spelled_like(language)
        hint = f"; did you mean '{close}'?" if close else " (e.g. en-US, en-GB, es-US, fr-CA)"
        out.append(
            f"language '{language}' is not one Twilio's {' and '.join(refused)} accept"
            f"{'s' if len(refused) == 1 else ''}: the phone line speaks and listens in it{hint}"
        )
    return out
