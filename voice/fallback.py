"""The static TwiML a number falls back to when presszero cannot answer: a person, or a
message to call back.

Two documents, hosted side by side anywhere but on presszero's machine. The first apologises,
rings PRESSZERO_BACKUP_NUMBER (when there is one), then records a name and a number to call
back. Its <Record> names the second document as its action: a <Record> without one makes
Twilio fetch the same document again when the recording ends, and a static host would answer
with the same <Record> for as long as the caller stays on the line. The second thanks the
caller and hangs up. Both are fetched with GET, which every static host answers; the action is
relative, so the pair works wherever it is put. The recordings stay in the Twilio account
(Console, Monitor, Call recordings), since presszero is not there to be told about them.
"""

from __future__ import annotations

from pathlib import Path

from twilio.twiml.voice_response import VoiceResponse

DIAL_SECONDS = 30  # how long the backup number rings
RECORD_SECONDS = 120  # the longest message
SILENCE_SECONDS = 10  # a message ends after this much silence (or at the pound key)

APOLOGY = "Sorry, our phone system is not working right now."
CONNECTING = "Connecting you to a person."
NOBODY = "No one can take your call at the moment."
LEAVE_NUMBER = (
    "Please say your name and the number we can call you back on after the tone,"
    " then press the pound key."
)
MISSED = f"If we could not take your call, {LEAVE_NUMBER[0].lower()}{LEAVE_NUMBER[1:]}"
THANKS = "Thank you. We will call you back as soon as we can. Goodbye."


def thanks_name(main: Path) -> str:
    """Return the file name of the document the main one's <Record> goes on to."""
    return f"{main.stem}-thanks{main.suffix or '.xml'}"


def fallback_document(backup: str, thanks: str) -> str:
    """Return the fallback TwiML: an apology, a <Dial> to `backup` (when set), then a message
    whose <Record> goes on to the document at `thanks` (a URL relative to this one)."""
    response = VoiceResponse()
    if backup:
        response.say(f"{APOLOGY} {CONNECTING}")
        response.dial(backup, timeout=DIAL_SECONDS)
        # Without an action Twilio goes on here once the call to the backup line ends,
        # answered or not: whoever was missed can still leave a number.
        response.say(MISSED)
    else:
        response.say(f"{APOLOGY} {NOBODY}")
        response.say(LEAVE_NUMBER)
    response.record(
        action=thanks,
        method="GET",
        max_length=RECORD_SECONDS,
        timeout=SILENCE_SECONDS,
        finish_on_key="#",
        play_beep=True,
    )
    return str(response)


def thanks_document() -> str:
    """Return the TwiML played once a message is left: thanks, and the call ends."""
    response = VoiceResponse()
    response.say(THANKS)
    response.hangup()
    return str(response)


def write_documents(main: Path, backup: str) -> list[Path]:
    """Write the fallback document to `main` and its thanks document beside it; return both."""
    thanks = main.with_name(thanks_name(main))
    main.write_text(fallback_document(backup, thanks.name) + "\n", encoding="utf-8")
    thanks.write_text(thanks_document() + "\n", encoding="utf-8")
    return [main, thanks]
