"""The words presszero adds to a flow's own, in every language it speaks (see languages.py).

The catalogue is keyed by the English wording itself, as gettext is, so a call site reads as
what is said: `phrase("Sorry, I didn't catch that.", flow.language)` is that sentence in
English and "Lo siento, no le entendí." in Spanish. Wording with parts that change keeps
`{named}` placeholders, filled in after the lookup; a count gets one entry for 1 and one for
many ("The wait is about 1 minute." / "...{minutes} minutes."), never an "s" glued on.

A phrase defined away from where it is said (a constant) is marked with `english(...)`, so
the catalogue's test finds it as it finds every literal `phrase(...)`: no customer-facing
wording can be added without its Spanish. Under `strict(True)` (the tests) an English phrase
missing from the catalogue raises KeyError; in production it is said in English, never a
failed call.

Only customer-facing wording is here: what agents hear and read (the whisper, the inbox,
the handoff summary) is in the team's language, English.
"""

from __future__ import annotations

from .languages import base

# The verbs a phone prompt uses to ask for a key, per base language: "press 1", "oprima 1".
PRESS_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("press",),
    "es": ("oprima", "pulse", "marque", "presione"),
}
# The keys of a phone named in words, per base language: "press one", "oprima uno".
KEY_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
        "seven": "7", "eight": "8", "nine": "9", "star": "*", "pound": "#", "hash": "#",
    },
    "es": {
        "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
        "seis": "6", "siete": "7", "ocho": "8", "nueve": "9", "asterisco": "*", "numeral": "#",
        "almohadilla": "#", "gato": "#",
    },
}  # fmt: skip
# What "ending in 0002" is in each language, where a number is read back digit by digit.
ENDING_IN: dict[str, str] = {"en": "ending in", "es": "que termina en"}

SPANISH: dict[str, str] = {
    # -- misses and the way to a person ---------------------------------------------------
    "Sorry, I didn't hear anything.": "Lo siento, no escuché nada.",
    "Sorry, I didn't catch that.": "Lo siento, no le entendí.",
    "Sorry, that doesn't look right.": "Lo siento, eso no parece correcto.",
    "Sorry, that doesn't look like a full phone number.":
        "Lo siento, eso no parece un número de teléfono completo.",
    "For a person, press {key} at any time.":
        "Para hablar con una persona, oprima {key} en cualquier momento.",
    "To talk to a person, type agent at any time.":
        "Para hablar con una persona, escriba agente en cualquier momento.",
    "Talk to a person": "Hablar con una persona",
    # -- keys on the phone ----------------------------------------------------------------
    "For {label}, press {key}.": "Para {label}, oprima {key}.",
    "To {label}, press {key}.": "Para {label}, oprima {key}.",
    "{label}, press {key}.": "{label}, oprima {key}.",
    "Then press pound.": "Luego oprima la tecla numeral.",
    "For a different number, enter it now, then press pound.":
        "Para otro número, márquelo ahora y luego oprima la tecla numeral.",
    "Enter the number to call, then press pound.":
        "Marque el número al que debemos llamar y luego oprima la tecla numeral.",
    "Please leave your name, number and a short message after the tone, and we'll call you back.":
        "Por favor, deje su nombre, su número y un mensaje breve después del tono, "
        "y le devolveremos la llamada.",
    # -- the chat's own lines -------------------------------------------------------------
    "Or type a different number.": "O escriba otro número.",
    "Type the number to call.": "Escriba el número al que debemos llamar.",
    "Leave a message and we'll answer here. Type it below, as much as you like.":
        "Deje un mensaje y le responderemos aquí. Escríbalo abajo, con todo el detalle "
        "que quiera.",
    "Thanks, we've got your message. How else should we reach you with the answer? "
    "Type an email address or a phone number, or choose Just here is fine.":
        "Gracias, recibimos su mensaje. ¿De qué otra forma le hacemos llegar la respuesta? "
        "Escriba un correo electrónico o un número de teléfono, o elija Aquí está bien.",
    "One quick question, if you like: did we sort it out for you?":
        "Una pregunta rápida, si gusta: ¿pudimos resolverlo?",
    "I'm passing you to a person now. They'll reply right here, "
    "and they can see everything you've told me.":
        "Le comunico ahora con una persona. Le responderá aquí mismo y podrá ver todo lo "
        "que me ha contado.",
    "Just here is fine": "Aquí está bien",
    "By email": "Por correo electrónico",
    "By text message": "Por mensaje de texto",
    "Yes, sorted": "Sí, resuelto",
    "Not really": "La verdad, no",
    "Leave a message instead": "Mejor dejar un mensaje",
    "{name} has joined the chat.": "{name} se unió al chat.",
    "{name} has closed this chat. Anything else? Just type it here.":
        "{name} cerró este chat. ¿Algo más? Solo escríbalo aquí.",
    "{name} answered your message. Anything else? Just type it here.":
        "{name} respondió a su mensaje. ¿Algo más? Solo escríbalo aquí.",
    "{name} answered your message; we also emailed it to {address}. "
    "Anything else? Just type it here.":
        "{name} respondió a su mensaje; también se lo enviamos por correo electrónico a "
        "{address}. ¿Algo más? Solo escríbalo aquí.",
    "{name} answered your message; we also texted it to the number ending in "
    "{ending}. Anything else? Just type it here.":
        "{name} respondió a su mensaje; también se lo enviamos por mensaje de texto al "
        "número que termina en {ending}. ¿Algo más? Solo escríbalo aquí.",
    # -- the answer to a message, by email or text message --------------------------------
    "An answer to your message to {company}": "Una respuesta a su mensaje para {company}",
    "An answer to your message": "Una respuesta a su mensaje",
    "our {queue} team": "nuestro equipo de {queue}",
    "our team": "nuestro equipo",
    "Hello {name},": "Hola, {name}:",
    "Hello,": "Hola:",
    "You left this message in the chat on {company}'s website:":
        "Usted dejó este mensaje en el chat del sitio web de {company}:",
    "You left this message in our website chat:":
        "Usted dejó este mensaje en el chat de nuestro sitio web:",
    "{name} from {team} answered:": "{name}, de {team}, respondió:",
    "You can read this in the chat too, and write back there.":
        "También puede leer esto en el chat y responder allí.",
    "Customer support": "Atención al cliente",
    '{name} answered your message "{about}": {answer}':
        '{name} respondió a su mensaje "{about}": {answer}',
    # -- a message left in writing --------------------------------------------------------
    "Type your message, and we'll answer it here.": "Escriba su mensaje y le responderemos aquí.",
    "Thanks, we've got your message. Someone will get back to you soon.":
        "Gracias, recibimos su mensaje. Alguien se comunicará con usted pronto.",
    "Email {address}": "Correo electrónico a {address}",
    "Text the number ending in {ending}": "Mensaje de texto al número que termina en {ending}",
    "Sorry, that doesn't look like an email address or a phone number.":
        "Lo siento, eso no parece un correo electrónico ni un número de teléfono.",
    "I couldn't read that as an email address or a phone number.":
        "No pude reconocer eso como un correo electrónico ni como un número de teléfono.",
    "by email at {address}": "por correo electrónico a {address}",
    "by text message to the number ending in {ending}":
        "por mensaje de texto al número que termina en {ending}",
    "here": "aquí",
    "here and {besides}": "aquí y {besides}",
    "Message sent: we'll answer {where}.": "Mensaje enviado: le responderemos {where}.",
    "We're closed right now. Your message is with us, and we'll answer {where}.":
        "En este momento estamos cerrados. Ya tenemos su mensaje y le responderemos {where}.",
    "No one is free to chat yet. Your message is with us, "
    "and we'll answer {where}.":
        "Todavía no hay nadie disponible en el chat. Ya tenemos su mensaje y le "
        "responderemos {where}.",
    "I've added that to your message. We'll answer {where}.":
        "Lo agregué a su mensaje. Le responderemos {where}.",
    "Thanks for letting us know. If you need anything else, just type it.":
        "Gracias por avisarnos. Si necesita algo más, solo escríbalo.",
    "Sorry we didn't sort it out. Tell me what's still wrong, or choose Talk to a person.":
        "Lamentamos no haberlo resuelto. Dígame qué sigue sin funcionar, o elija Hablar "
        "con una persona.",
    "You're welcome. If you need anything else, just type it here.":
        "De nada. Si necesita algo más, solo escríbalo aquí.",
    # -- closed, busy, callbacks ----------------------------------------------------------
    "We're closed today. We're open {hours}.": "Hoy estamos cerrados. Nuestro horario es {hours}.",
    "We're closed right now. We're open {hours}.":
        "En este momento estamos cerrados. Nuestro horario es {hours}.",
    "We're closed today (open {hours}).": "Hoy estamos cerrados (horario: {hours}).",
    "We're closed right now (open {hours}).":
        "En este momento estamos cerrados (horario: {hours}).",
    "Sorry, no one is free to talk right now.":
        "Lo siento, en este momento no hay nadie disponible para atenderle.",
    "Sorry, no one is free to chat right now.":
        "Lo siento, en este momento no hay nadie disponible en el chat.",
    "We can call you back on the number ending in {ending}.":
        "Podemos devolverle la llamada al número que termina en {ending}.",
    "We can call you back.": "Podemos devolverle la llamada.",
    "Use this number": "Usar este número",
    "Got it: the number ending in {ending}. Is that right?":
        "Entendido: el número que termina en {ending}. ¿Es correcto?",
    "Got it: the number ending in {ending}. If that's right, press 1. "
    "To give another number, press 2.":
        "Entendido: el número que termina en {ending}. Si es correcto, oprima 1. "
        "Para dar otro número, oprima 2.",
    "Yes, that's right": "Sí, es correcto",
    "No, another number": "No, otro número",
    "When should we call?": "¿Cuándo prefiere que le llamemos?",
    "As soon as we can": "Lo antes posible",
    "In the morning": "Por la mañana",
    "In the afternoon": "Por la tarde",
    "Thanks. We'll call you on the number ending in {ending} {when}. Goodbye.":
        "Gracias. Le llamaremos al número que termina en {ending} {when}. Adiós.",
    "Thanks. We'll call you {when}. Goodbye.": "Gracias. Le llamaremos {when}. Adiós.",
    "as soon as we can": "lo antes posible",
    "as soon as we open": "en cuanto abramos",
    "this morning": "esta mañana",
    "this afternoon": "esta tarde",
    "tomorrow morning": "mañana por la mañana",
    "tomorrow afternoon": "mañana por la tarde",
    "on {day} morning": "el {day} por la mañana",
    "on {day} afternoon": "el {day} por la tarde",
    # -- the hours in words ---------------------------------------------------------------
    "Monday": "lunes",
    "Tuesday": "martes",
    "Wednesday": "miércoles",
    "Thursday": "jueves",
    "Friday": "viernes",
    "Saturday": "sábado",
    "Sunday": "domingo",
    "{first} to {last}": "de {first} a {last}",
    "{days}, {times}": "{days}, {times}",
    "{start} to {end}": "de {start} a {end}",
    " and ": " y ",
    ", and ": " y ",
    "by callback only": "solo con devolución de llamada",
    "{zone} time": "hora de {zone}",
    # -- the queue ------------------------------------------------------------------------
    "You're number {position} in line.": "Usted es el número {position} en la fila.",
    "No one is free to answer right now.":
        "En este momento no hay nadie disponible para contestar.",
    "The wait is about 1 minute.": "La espera es de aproximadamente 1 minuto.",
    "The wait is about {minutes} minutes.":
        "La espera es de aproximadamente {minutes} minutos.",
    "To get a call back instead of waiting, press 1.":
        "Para que le devolvamos la llamada en lugar de esperar, oprima 1.",
    "OK, let's arrange a call back.": "De acuerdo, vamos a programar su llamada de regreso.",
    "OK, you keep your place in line.": "De acuerdo, usted conserva su lugar en la fila.",
    "Sorry, no one could pick up just then. You're in line for the next person.":
        "Lo siento, nadie pudo contestar en este momento. Usted sigue en la fila para la "
        "próxima persona disponible.",
    "Thanks for waiting. Putting you through to {name} now.":
        "Gracias por esperar. Le comunico ahora con {name}.",
    "Thanks for calling. Goodbye.": "Gracias por llamar. Adiós.",
    "Hello, this is the call back you asked for. Putting you through now.":
        "Hola, le devolvemos la llamada que solicitó. Le comunico ahora.",
    "Thanks, we've got your message. Goodbye.": "Gracias, recibimos su mensaje. Adiós.",
    "We didn't get a message, so we'll call you back on this number. Goodbye.":
        "No recibimos ningún mensaje, así que le devolveremos la llamada a este número. Adiós.",
    # -- when something failed on our side ------------------------------------------------
    "Sorry, something went wrong on our side.": "Lo siento, tuvimos un problema de nuestro lado.",
    "Sorry, our chat is having trouble right now. To talk to a person, call us on "
    "{phone}, or try again in a minute and choose Talk to a person.":
        "Lo siento, nuestro chat tiene problemas en este momento. Para hablar con una persona, "
        "llámenos al {phone}, o inténtelo de nuevo en un minuto y elija Hablar con una persona.",
    "Sorry, our chat is having trouble right now. To talk to a person, call us, "
    "or try again in a minute and choose Talk to a person.":
        "Lo siento, nuestro chat tiene problemas en este momento. Para hablar con una persona, "
        "llámenos, o inténtelo de nuevo en un minuto y elija Hablar con una persona.",
    "Sorry, something went wrong on our side. Let me connect you to a person now.":
        "Lo siento, tuvimos un problema de nuestro lado. Le comunico ahora con una persona.",
    "Please stay on the line: you keep your place, and the next person free will answer.":
        "Por favor, permanezca en la línea: usted conserva su lugar y la próxima persona "
        "disponible le atenderá.",
    "Sorry, something went wrong on our side. Let's arrange your call back.":
        "Lo siento, tuvimos un problema de nuestro lado. Vamos a programar su llamada de "
        "regreso.",
}  # fmt: skip

CATALOGUE: dict[str, dict[str, str]] = {"es": SPANISH}

# Spanish names of US time zones as a US support line says them ("hora del Este").
_ZONES_ES = {
    "America/New_York": "hora del Este",
    "America/Detroit": "hora del Este",
    "America/Chicago": "hora del Centro",
    "America/Denver": "hora de la Montaña",
    "America/Phoenix": "hora de Arizona",
    "America/Los_Angeles": "hora del Pacífico",
    "America/Anchorage": "hora de Alaska",
    "Pacific/Honolulu": "hora de Hawái",
    "America/Puerto_Rico": "hora de Puerto Rico",
}

_strict = False


def strict(on: bool) -> None:
    """Make a lookup of an English phrase missing from the catalogue raise (the tests do)."""
    global _strict
    _strict = on


def phrase(english: str, language: str) -> str:
    """Return presszero's own wording `english` in `language` (English if not spoken)."""
    if _strict and english not in SPANISH:
        raise KeyError(f"no Spanish for {english!r}: add it to flows/language/phrases.py")
    table = CATALOGUE.get(base(language))
    return english if table is None else table.get(english, english)


def english(text: str) -> str:
    """Return `text` unchanged: marks a phrase defined away from where it is said."""
    return text


def zone_in(timezone: str, english_label: str, language: str) -> str:
    """Return a timezone's label in `language`: "New York time", "hora del Este"."""
    if base(language) == "es" and timezone in _ZONES_ES:
        return _ZONES_ES[timezone]
    zone = english_label.removesuffix(" time")
    return phrase("{zone} time", language).format(zone=zone)


def press_words(language: str) -> tuple[str, ...]:
    """Return the verbs a phone prompt in `language` asks for a key with."""
    return PRESS_WORDS.get(base(language), PRESS_WORDS["en"])


def ending_in(language: str) -> str:
    """Return the words before a number's last digits read back in `language`."""
    return ENDING_IN.get(base(language), ENDING_IN["en"])
