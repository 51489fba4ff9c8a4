"""Knowing when someone asks for a person: its own small model, not one more intent.

A request names a person ("agent", "a real human", "your manager", "alguien", "un
conseiller") and asks for them: alone ("supervisor please"), after a verb of asking or
reaching ("can I talk to", "put me through to", "quiero hablar con", "passez-moi"), or as a
question ("is anybody there?", "can someone help me?"). The same words are not a request
when they are negated ("I don't need a person"), said in passing ("the agent I spoke to
said", "someone stole my card", "I'm a real person and..."), or belong to another word
("personal", "transfer money"). Refusing a machine ("not a robot", "no quiero una máquina")
is a request. Typos are forgiven one letter at a time, never into a word of its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Who a caller may ask for, in the words they use (English, Spanish, French).
PEOPLE = frozenset({
    "agent", "agents", "person", "persons", "people", "human", "humans", "representative",
    "representatives", "rep", "reps", "operator", "operators", "manager", "managers",
    "supervisor", "supervisors", "employee", "employees", "staff", "advisor", "adviser",
    "advisors", "advisers", "someone", "somebody", "anyone", "anybody", "customerservice",
    "persona", "personas", "agente", "agentes", "humano", "humanos", "operador", "operadora",
    "representante", "gerente", "encargado", "encargada", "asesor", "asesora", "alguien",
    "empleado", "supervisora", "personne", "humain", "operateur", "operatrice", "conseiller",
    "conseillere", "quelquun", "responsable",
})  # fmt: skip
# Whoever a caller may want instead of.
MACHINES = frozenset({
    "robot", "robots", "bot", "bots", "machine", "machines", "computer", "recording",
    "automated", "automation", "ai", "maquina", "contestadora", "grabacion", "ordinateur",
})  # fmt: skip
# Words that ask for whoever follows them (present tense: "I spoke to" is a story).
ASKING = frozenset({
    "talk", "speak", "chat", "connect", "transfer", "put", "get", "give", "want", "wanna",
    "need", "like", "have", "reach", "escalate", "hook", "rather", "prefer", "demand", "find",
    "bring", "send", "see", "request", "can", "could", "may", "will", "would",
    "hablar", "quiero", "quisiera", "necesito", "deseo", "pasame", "paseme", "pasa", "pase",
    "comuniqueme", "comunicame", "comunicarme", "comunica", "comunique", "pongame", "ponme",
    "transfierame", "transfiereme", "atienda", "atender", "hay", "puedo", "puede",
    "parler", "veux", "voudrais", "passez", "passer", "passe", "besoin",
})  # fmt: skip
# Words that may stand between the asking and the person ("to a real", "con una").
BETWEEN = frozenset({
    "to", "with", "me", "us", "a", "an", "the", "your", "one", "of", "some", "any", "real",
    "live", "actual", "proper", "human", "i", "talk", "speak", "chat", "be", "transferred",
    "connected", "through", "put", "get", "on", "please", "now", "right", "just", "only",
    "over", "again", "directly", "immediately", "my", "call", "word", "there", "here", "is",
    "are", "you", "am", "would", "like", "want", "need", "up", "someone", "straight", "for",
    "con", "un", "una", "el", "la", "su", "al", "por", "favor", "de", "que", "hablar",
    "this", "it", "ya", "ahora", "mi", "llamada", "lo", "puedo", "puede", "pueda",
    "une", "le", "votre", "moi", "avec", "vrai", "vraie", "d", "je", "parler", "peux",
    "j", "ai", "est", "ce",
})  # fmt: skip
# Words a bare request may carry besides the person ("a real person please").
BARE = frozenset({
    "a", "an", "the", "please", "real", "live", "actual", "now", "right", "just", "human",
    "being", "hello", "hi", "hey", "yes", "ok", "okay", "um", "uh", "er", "i", "want",
    "need", "your", "some", "one", "thanks", "thank", "you", "oh", "immediately", "someone",
    "un", "una", "el", "la", "por", "favor", "ya", "ahora", "con", "hola", "si",
    "une", "s", "il", "vous", "plait", "svp", "vrai", "bonjour", "oui",
    "there", "home", "ahi", "alli", "aqui",
})  # fmt: skip
NEGATIONS = frozenset({
    "not", "dont", "no", "never", "doesnt", "didnt", "wont", "without", "nobody", "nunca",
    "sin", "ne", "pas", "jamais", "sans", "stop", "sick", "tired", "enough", "hate",
})  # fmt: skip
# A clause ends at punctuation or at words that turn to something else.
TURNS = frozenset({"but", "just", "instead", "pero", "solo", "sino", "mais", "juste"})
# Words a person-word's typo must never become: they are words of their own.
OWN_WORDS = frozenset({
    "personal", "personally", "personnel", "personality", "personales", "personalised",
    "personalized", "agency", "agenda", "manage", "managed", "manages", "humane", "humid",
    "operate", "operated", "operation", "operations", "employer", "employers", "employed",
    "employ", "someones", "somebodys", "stuff", "staffed", "supervision", "supervise",
    "advisory", "advised", "advise", "advice", "argent", "parson", "prison", "represent",
    "present", "agente", "persona", "human", "anyones", "agence", "personnes",
})  # fmt: skip
# Spellings and shortenings callers use ("gimme a rep").
SPELLINGS = {
    "spk": "speak",
    "tlk": "talk",
    "gimme": "give me",
    "lemme": "let me",
    "im": "i am",
    "i'm": "i am",
    "id": "i would",
    "wanna": "want to",
    "ppl": "people",
}
# Two words that name one person ("customer service", "ser humano").
COMPOUNDS = (
    (re.compile(r"\bcustomer (service|care|support)( team)?\b"), "customerservice"),
    (re.compile(r"\bservicio (al|de) cliente(s)?\b"), "customerservice"),
    (re.compile(r"\bservice client(e|ele)?\b"), "customerservice"),
    (re.compile(r"\bser humano\b"), "humano"),
    (re.compile(r"\bhuman being(s)?\b"), "human"),
    (re.compile(r"\bquelqu ?un\b"), "quelquun"),
    (re.compile(r"\bpersonne (ne|n)\b"), "nobody"),  # "personne ne m'a répondu": nobody
    (re.compile(r"\bin charge\b"), ""),
    (re.compile(r"\b(someone|somebody|anyone|anybody) real\b"), r"\1"),
)
# Asking to be put through, to no one in particular.
PUT_THROUGH = re.compile(
    r"^(please )?((transfer|connect) (me|my call|us)|put me through|transfierame|"
    r"comuniqueme|paseme|pasame|passez moi)( please| now| por favor| s il vous plait)*$"
)
_CLAUSE = re.compile(r"[,.;:!?¿¡()\"]+|\s-\s|\n")
_WORD = re.compile(r"[^\w']+")
_ELISION = re.compile(r"\b([nldjsmtc]|qu|quelqu)'")


@dataclass(frozen=True, slots=True)
class Request:
    """A request for a person: the words that made it one, and how sure the reading is."""

    words: str
    confidence: float


def clauses(text: str) -> list[list[str]]:
    """Return the clauses of `text` as lists of plain lower-case words (accents dropped)."""
    plain = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    plain = plain.encode("ascii", "ignore").decode()
    plain = _ELISION.sub(r"\1 ", plain)
    out: list[list[str]] = []
    for part in _CLAUSE.split(plain):
        spoken = " ".join(SPELLINGS.get(w, w) for w in _WORD.sub(" ", part).split())
        spoken = spoken.replace("'", "")
        for pattern, replacement in COMPOUNDS:
            spoken = pattern.sub(replacement, spoken)
        current: list[str] = []
        for word in spoken.split():
            if word in TURNS and current:
                out.append(current)
                current = []
            current.append(word)
        if current:
            out.append(current)
    return out


def _near(a: str, b: str) -> bool:
    """Return whether `a` is one typo from `b` (two for long words): a letter left out,
    added, changed, or two letters swapped; the first letter is never wrong."""
    limit = 2 if len(b) >= 10 else 1
    if a[:1] != b[:1] or abs(len(a) - len(b)) > limit:
        return False
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1] <= limit


class PersonDetector:
    """Tell a request for a person from everything else a customer says."""

    def __init__(self, phrases: Iterable[str] = (), known_words: Iterable[str] = ()) -> None:
        # The flow's own ways of asking, said whole, are requests too.
        self.phrases = frozenset(" ".join(w for c in clauses(p) for w in c) for p in phrases)
        # A word the flow uses for something else is never a typo for a person.
        self.known = frozenset(known_words) | OWN_WORDS
        self._typos: dict[str, str | None] = {}

    def _correct(self, word: str) -> tuple[str, float]:
        """Return the person, machine or asking word `word` is a typo of, or itself."""
        if word in PEOPLE or word in ASKING or word in MACHINES or word in self.known:
            return word, 1.0
        if len(word) < 5 or not word.isalpha():
            return word, 1.0
        if word not in self._typos:
            found = None
            for known in sorted(PEOPLE | ASKING):
                if len(known) >= 5 and _near(word, known):
                    found = known
                    break
            if len(self._typos) > 10_000:
                self._typos.clear()
            self._typos[word] = found
        fixed = self._typos[word]
        return (fixed, 0.9) if fixed else (word, 1.0)

    def detect(self, text: str) -> Request | None:
        """Return the request for a person in `text`, or None when there is none."""
        parts = clauses(text)
        if " ".join(w for c in parts for w in c) in self.phrases and self.phrases:
            return Request(text.strip(), 1.0)
        for clause in parts:
            found = self._in_clause(clause)
            if found:
                return found
        return None

    def _in_clause(self, raw: list[str]) -> Request | None:
        fixed = [self._correct(w) for w in raw]
        clause = [w for w, _ in fixed]
        sure = min((s for _, s in fixed), default=1.0)
        said = " ".join(raw)
        if " ".join(clause) in self.phrases or PUT_THROUGH.match(" ".join(clause)):
            return Request(said, sure)
        people = [i for i, w in enumerate(clause) if w in PEOPLE]
        # Refusing the machine is asking for a person: "not a robot", "no more bots".
        for i, word in enumerate(clause):
            if word in MACHINES and any(w in NEGATIONS for w in clause[max(0, i - 7) : i]):
                return Request(said, 0.9 * sure)
        if not people:
            return None
        if all(w in PEOPLE or w in BARE for w in clause):
            return Request(said, 0.95 * sure)
        for i in people:
            if self._asked_for(clause, i) and not self._negated(clause, i):
                return Request(said, 0.9 * sure)
        return None

    @staticmethod
    def _asked_for(clause: list[str], at: int) -> bool:
        """Whether the person at `at` is what a verb of asking asks for."""
        after = clause[at + 1 : at + 3]
        # "is anybody there?", "alguien ahí": looking for someone.
        if after[:1] and after[0] in {"there", "home", "ahi", "alli", "la", "around"}:
            return True
        j = at - 1
        while j >= 0 and clause[j] in BETWEEN and clause[j] not in ASKING:
            j -= 1
        if re.search(r"\b(is|are|isnt|arent) there\b", " ".join(clause[j + 1 : at])):
            return True
        if j < 0 or clause[j] not in ASKING:
            return False
        if clause[j] == "transfer" and clause[j + 1 : j + 2] not in (["me"], ["us"], ["my"]):
            return clause[j + 1 : j + 2] == ["to"]
        return True

    @staticmethod
    def _negated(clause: list[str], at: int) -> bool:
        """Whether the asking for the person at `at` is negated ("I don't want an agent")."""
        j = at - 1
        while j >= 0 and (clause[j] in BETWEEN or clause[j] in ASKING):
            j -= 1
        start = max(0, j - 1)
        # "no, I want a person" said without the comma: that "no" answers something else.
        return any(
            w in NEGATIONS and clause[k + 1 : k + 2] not in (["i"], ["we"])
            for k, w in enumerate(clause[start:at], start)
        )
