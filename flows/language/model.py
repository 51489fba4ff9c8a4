"""The typed form of a flow file: escape policy, greeting rules, steps, intents, hours."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .expr import Condition
from .hours import Hours
from .intents import IntentMatcher
from .template import Template

END_OUTCOMES = ("resolved", "abandoned")
CHANNELS = ("voice", "chat")  # the channels a prompt may be phrased for in a flow file


@dataclass(frozen=True, slots=True)
class EscapePolicy:
    """How a customer gets out of any prompt: keys, intents, misses, frustration, a handoff."""

    keys: tuple[str, ...] = ("0",)
    intents: tuple[str, ...] = ("agent",)
    max_no_match: int = 2  # the 2nd miss ends at a person
    max_no_input: int = 2
    min_confidence: float = 0.45  # speech heard less surely than this counts as a miss
    frustration: tuple[str, ...] = ()  # phrases added to the built-in ones
    handoff: str = "agent"  # the handoff step every escape goes to
    max_turns: int = 15  # answers given in one conversation before a person takes over
    enabled: bool = True  # `escape: false` on a step; `presszero check` rejects it
    line: int = 0
    set_at: tuple[tuple[str, int], ...] = ()  # (field, line) of each field the file sets

    def line_of(self, name: str) -> int:
        """Return the line that set the field `name` (a step's may be the flow's), or 0."""
        return dict(self.set_at).get(name, 0)


@dataclass(frozen=True, slots=True)
class Rule:
    """A greeting or branch rule: when the condition holds (or always), say and go."""

    when: Condition | None
    say: Template | None
    goto: str
    line: int  # where the rule starts
    goto_line: int


@dataclass(frozen=True, slots=True)
class Option:
    """A menu choice by key press, by intent, or both."""

    key: str | None
    intent: str | None
    goto: str
    label: str
    line: int

    @property
    def payload(self) -> str:
        """Return what a chat button sends back when pressed."""
        return self.key or self.intent or ""


@dataclass(frozen=True, slots=True)
class SayStep:
    kind: ClassVar[str] = "say"
    id: str
    line: int
    text: Template
    goto: str | None
    goto_line: int


@dataclass(frozen=True, slots=True)
class MenuStep:
    kind: ClassVar[str] = "menu"
    id: str
    line: int
    prompt: Template
    options: tuple[Option, ...]
    hints: tuple[str, ...]
    escape: EscapePolicy
    # `prompt: {voice: ..., chat: ...}`: the whole prompt in one channel's own words
    phrased: Mapping[str, Template] = field(default_factory=dict)
    barge_in: bool = True  # a caller may answer while the prompt is still being said


@dataclass(frozen=True, slots=True)
class AskStep:
    kind: ClassVar[str] = "ask"
    id: str
    line: int
    prompt: Template
    pattern: str  # "digits" or a regular expression the whole answer must match
    min_length: int
    max_length: int
    save_as: str
    goto: str
    goto_line: int
    hints: tuple[str, ...]
    escape: EscapePolicy
    phrased: Mapping[str, Template] = field(default_factory=dict)
    barge_in: bool = True

    @property
    def digits(self) -> bool:
        return self.pattern == "digits"


@dataclass(frozen=True, slots=True)
class BranchStep:
    kind: ClassVar[str] = "branch"
    id: str
    line: int
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class HandoffStep:
    kind: ClassVar[str] = "handoff"
    id: str
    line: int
    queue: str
    reason: str
    say: Template | None


@dataclass(frozen=True, slots=True)
class CallbackStep:
    kind: ClassVar[str] = "callback"
    id: str
    line: int
    queue: str
    reason: str
    escape: EscapePolicy


@dataclass(frozen=True, slots=True)
class VoicemailStep:
    kind: ClassVar[str] = "voicemail"
    id: str
    line: int
    queue: str
    reason: str
    prompt: Template | None


@dataclass(frozen=True, slots=True)
class EndStep:
    kind: ClassVar[str] = "end"
    id: str
    line: int
    outcome: str
    say: Template | None


Step = (
    SayStep | MenuStep | AskStep | BranchStep | HandoffStep | CallbackStep | VoicemailStep | EndStep
)
PromptStep = MenuStep | AskStep | CallbackStep
STEP_KINDS = ("say", "menu", "ask", "branch", "handoff", "callback", "voicemail", "end")
TERMINAL_KINDS = ("handoff", "callback", "voicemail", "end")


@dataclass(frozen=True, slots=True)
class Limits:
    """How short a flow keeps its prompts (`limits:`); `presszero check` holds it to them."""

    prompt_seconds: float = 8.0  # a menu's or an ask's prompt, as written, said aloud
    say_seconds: float = 15.0  # anything else said at once (a greeting, a say step)
    menu_options: int = 5  # more options than this fail check: split the menu
    line: int = 0
    set_at: tuple[tuple[str, int], ...] = ()

    def line_of(self, name: str) -> int:
        return dict(self.set_at).get(name, 0) or self.line


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    examples: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Flow:
    """A loaded flow: what a support lead wrote, typed and checked."""

    name: str
    file: str
    line: int
    language: str
    escape: EscapePolicy
    greeting: tuple[Rule, ...]
    steps: dict[str, Step]
    intents: dict[str, Intent]
    queues: tuple[str, ...]
    hours: Hours
    matcher: IntentMatcher = field(compare=False, repr=False)
    limits: Limits = field(default_factory=Limits)
    # Every language the flow speaks, its first spoken until a conversation's is known; this
    # object is the flow in `language`, and `versions` holds it in each (itself included).
    languages: tuple[str, ...] = ()
    versions: dict[str, Flow] = field(default_factory=dict, compare=False, repr=False)
    # What the engine works out from the flow alone, once (a menu's speech hints, the hours
    # in words), instead of at every turn.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def remember(self, key: Any, make: Callable[[], Any]) -> Any:
        """Return `make()`, worked out on the first call for `key` only."""
        try:
            return self.memo[key]
        except KeyError:
            value = self.memo[key] = make()
            return value

    @property
    def region(self) -> str:
        """Return the phone region of the flow's language ("en-US" → "US")."""
        _, _, region = self.language.partition("-")
        return region.upper() or "US"

    @property
    def spoken(self) -> tuple[str, ...]:
        """Return the languages the flow speaks, first the one it starts in."""
        return self.languages or (self.language,)

    def speaking(self, language: str) -> Flow:
        """Return this flow in `language`; in its first language if it does not speak it."""
        return self.versions.get(language) or self.versions.get(self.spoken[0]) or self

    def escape_for(self, step: Step) -> EscapePolicy:
        """Return the escape policy in force at `step`."""
        return getattr(step, "escape", self.escape)


def goto_targets(step: Step) -> list[tuple[str, int]]:
    """Return every step `step` can go to by itself (not by escaping), with the line."""
    match step:
        case SayStep(goto=goto, goto_line=line) if goto:
            return [(goto, line)]
        case MenuStep(options=options):
            return [(o.goto, o.line) for o in options]
        case AskStep(goto=goto, goto_line=line):
            return [(goto, line)]
        case BranchStep(rules=rules):
            return [(r.goto, r.goto_line) for r in rules]
    return []
