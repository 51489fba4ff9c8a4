"""Agents as people who answer: where, which queues, and whether they are free right now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from freezegun import freeze_time

from presszero.context.agents import Agent, AgentError, AgentStore, Staffing, speakers_first

PASSWORD = "correct horse battery"
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def agents(redis_client: redis.Redis) -> AgentStore:
    return AgentStore(redis_client)


def team(agents: AgentStore, *names: str, queues: tuple[str, ...] = ()) -> None:
    for name in names:
        agents.add(name, PASSWORD, queues=queues, now=T0)


def names(found: list[Agent]) -> list[str]:
    return [a.name for a in found]


@freeze_time(T0)
def test_a_new_agent_is_away_until_they_say_otherwise(agents: AgentStore):
    made = agents.add("Alex", PASSWORD, endpoint="(555) 010-0001", queues=["plans"])
    assert (made.name, made.role, made.endpoint, made.queues) == (
        "alex",
        "agent",
        "+15550100001",
        ("plans",),
    )
    assert (made.status, made.since) == ("away", T0)
    assert agents.available_for("plans", T0) == []
    assert agents.set_status("alex", "available", at(1)).status == "available"
    assert names(agents.available_for("plans", at(1))) == ["alex"]


def test_available_agents_come_longest_idle_first(agents: AgentStore):
    team(agents, "ana", "ben", "cy")
    agents.set_status("ben", "available", at(1))
    agents.set_status("ana", "available", at(2))
    agents.set_status("cy", "available", at(3))
    assert names(agents.available_for("plans", at(4))) == ["ben", "ana", "cy"]
    agents.mark_busy("ben", "voice:CA1", at(5))
    agents.mark_free("ben", at(6))
    assert names(agents.available_for("plans", at(7))) == ["ana", "cy", "ben"]


def test_setting_available_again_keeps_an_agents_place(agents: AgentStore):
    team(agents, "ana", "ben")
    agents.set_status("ana", "available", at(1))
    agents.set_status("ben", "available", at(2))
    agents.set_status("ana", "available", at(3))
    assert names(agents.available_for("plans", at(4))) == ["ana", "ben"]


def test_only_agents_who_take_the_queue_are_offered_it(agents: AgentStore):
    team(agents, "pat", queues=("plans",))
    team(agents, "bo", queues=("billing", "tech"))
    team(agents, "any")
    for name in ("pat", "bo", "any"):
        agents.set_status(name, "available", at(1))
    assert sorted(names(agents.available_for("plans", at(2)))) == ["any", "pat"]
    assert sorted(names(agents.available_for("tech", at(2)))) == ["any", "bo"]
    assert names(agents.available_for("returns", at(2))) == ["any"]
    agents.set_status("any", "away", at(3))
    assert agents.is_available_for("returns") is False
    assert agents.is_available_for("billing") is True


def test_an_agent_on_a_call_is_busy_with_it_until_it_ends(agents: AgentStore):
    team(agents, "ana")
    agents.set_status("ana", "available", at(1))
    assert agents.mark_busy("ana", "voice:CA1", at(2)) is True
    busy = agents.get("ana")
    assert busy is not None
    assert (busy.status, busy.busy_with, busy.since) == ("busy", "voice:CA1", at(2))
    assert agents.available_for("plans", at(3)) == []
    assert agents.mark_free("ana", at(4), conversation_id="voice:CA-other") is False
    assert agents.get("ana").status == "busy"  # type: ignore[union-attr]
    assert agents.mark_free("ana", at(5), conversation_id="voice:CA1") is True
    free = agents.get("ana")
    assert free is not None
    assert (free.status, free.busy_with, free.since) == ("available", "", at(5))
    assert agents.mark_free("ana", at(6)) is False  # nothing to end


def test_two_dialers_claiming_one_agent_get_them_once(agents: AgentStore):
    team(agents, "ana")
    agents.set_status("ana", "available", at(1))
    assert agents.mark_busy("ana", "voice:CA1", at(2), if_available=True) is True
    assert agents.mark_busy("ana", "voice:CA1", at(2), if_available=True) is True  # same call
    assert agents.mark_busy("ana", "voice:CA2", at(2), if_available=True) is False
    assert agents.get("ana").busy_with == "voice:CA1"  # type: ignore[union-attr]
    agents.set_status("ana", "away", at(3))
    agents.mark_free("ana", at(4))
    assert agents.mark_busy("ana", "voice:CA3", at(5), if_available=True) is False


def test_away_set_during_a_call_applies_when_it_ends(agents: AgentStore):
    team(agents, "ana", "ben")
    agents.set_status("ana", "available", at(1))
    agents.mark_busy("ana", "chat:web-1", at(2))
    during = agents.set_status("ana", "away", at(3))
    assert (during.status, during.after) == ("busy", "away")
    agents.mark_free("ana", at(4))
    assert agents.get("ana").status == "away"  # type: ignore[union-attr]
    # An away agent who takes a chat anyway goes back to away, not onto the rota.
    agents.mark_busy("ben", "chat:web-2", at(5))
    agents.mark_free("ben", at(6))
    assert agents.get("ben").status == "away"  # type: ignore[union-attr]
    assert agents.available_for("plans", at(7)) == []


def test_staffing_counts_agents_by_status_for_a_queue(agents: AgentStore):
    team(agents, "ana", "ben", "cy")
    team(agents, "dee", queues=("billing",))
    agents.set_status("ana", "available", at(1))
    agents.set_status("ben", "available", at(1))
    agents.set_status("dee", "available", at(1))
    agents.mark_busy("ben", "voice:CA1", at(2))
    assert agents.staffing("plans") == Staffing(available=1, busy=1, away=1)
    assert agents.staffing("billing") == Staffing(available=2, busy=1, away=1)
    assert agents.staffing() == Staffing(available=2, busy=1, away=1)


def test_removing_an_agent_ends_their_sessions_and_takes_them_off_every_list(
    agents: AgentStore,
):
    team(agents, "ana", "ben")
    agents.set_status("ana", "available", at(1))
    agents.seen("ana", at(1))
    assert agents.session_epoch("ana")
    assert agents.remove("ANA") is True
    assert agents.get("ana") is None
    assert agents.session_epoch("ana") is None
    assert agents.verify("ana", PASSWORD) is None
    assert agents.available_for("plans", at(2)) == []
    assert agents.online(at(2)) == []
    assert names(agents.everyone()) == ["ben"]
    assert agents.remove("ana") is False
    assert agents.mark_busy("ana", "voice:CA1", at(3)) is False


def test_a_new_password_or_role_ends_sessions_and_other_changes_do_not(agents: AgentStore):
    team(agents, "ana")
    first = agents.session_epoch("ana")
    agents.add("ana", endpoint="sip:ana@pbx.example.com", queues=["plans"])
    assert agents.session_epoch("ana") == first
    agents.add("ana", role="lead")
    second = agents.session_epoch("ana")
    assert second not in (None, first)
    agents.add("ana", "another long password")
    assert agents.session_epoch("ana") not in (None, first, second)
    assert agents.verify("ana", "another long password") is not None
    assert agents.verify("ana", PASSWORD) is None


def test_readding_a_removed_name_does_not_revive_old_sessions(agents: AgentStore):
    team(agents, "ana")
    old = agents.session_epoch("ana")
    agents.remove("ana")
    team(agents, "ana")
    assert agents.session_epoch("ana") not in (None, old)


def test_updating_keeps_what_was_not_given(agents: AgentStore):
    agents.add("ana", PASSWORD, "lead", endpoint="+15550100001", queues=["plans"], now=T0)
    agents.set_status("ana", "available", at(1))
    updated = agents.add("ana", queues=["all"])
    assert (updated.role, updated.endpoint, updated.queues) == ("lead", "+15550100001", ())
    assert (updated.status, updated.since) == ("available", at(1))
    cleared = agents.add("ana", endpoint="")
    assert cleared.endpoint == ""
    assert agents.add("ana") == cleared  # nothing given, nothing changed


def test_presence_survives_a_restart_of_the_app(redis_url: str, agents: AgentStore):
    team(agents, "ana", "ben")
    agents.set_status("ben", "available", at(1))
    agents.set_status("ana", "available", at(2))
    agents.mark_busy("ana", "voice:CA1", at(3))
    epoch = agents.session_epoch("ben")
    fresh_client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        fresh = AgentStore(fresh_client)
        assert names(fresh.available_for("plans", at(4))) == ["ben"]
        assert fresh.get("ana").busy_with == "voice:CA1"  # type: ignore[union-attr]
        assert fresh.session_epoch("ben") == epoch
        assert fresh.mark_free("ana", at(5)) is True
        assert names(fresh.available_for("plans", at(6))) == ["ben", "ana"]
    finally:
        fresh_client.close()


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("(555) 010-0001", "+15550100001"),
        ("+44 20 7946 0958", "+442079460958"),
        ("SIP:desk@pbx.example.com", "sip:desk@pbx.example.com"),
        (
            "sip:desk@pbx.example.com:5061;transport=tls",
            "sip:desk@pbx.example.com:5061;transport=tls",
        ),
        ("client:alex", "client:alex"),
    ],
)
def test_where_an_agent_answers_is_normalised(agents: AgentStore, raw: str, stored: str):
    assert agents.add("ana", PASSWORD, endpoint=raw).endpoint == stored


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"endpoint": "call me maybe"}, "not a phone number"),
        ({"endpoint": "12"}, "not a possible phone number"),
        ({"endpoint": "sip:no-host"}, "not a SIP address"),
        ({"endpoint": "client:<b>"}, "a client: name is"),
        ({"queues": ["plans", "Billing Team"]}, "'billing team' is not a queue name"),
        ({"role": "boss"}, "role must be one of agent, lead"),
        ({"password": "short"}, "at least 10 characters"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(
    agents: AgentStore, change: dict[str, object], message: str
):
    agents.add("ana", PASSWORD, endpoint="+15550100001", queues=["plans"])
    epoch = agents.session_epoch("ana")
    with pytest.raises(AgentError, match=message):
        agents.add("ana", **change)  # type: ignore[arg-type]
    kept = agents.get("ana")
    assert kept is not None
    assert (kept.role, kept.endpoint, kept.queues) == ("agent", "+15550100001", ("plans",))
    assert agents.session_epoch("ana") == epoch


@pytest.mark.parametrize("name", ["", "Ana Lee", "x" * 33, "-ana", "ana/../x"])
def test_names_outside_the_rules_are_refused(agents: AgentStore, name: str):
    with pytest.raises(AgentError, match="a name is 1-32"):
        agents.add(name, PASSWORD)
    assert agents.everyone() == []


def test_a_new_agent_needs_a_password_and_status_needs_a_known_agent(agents: AgentStore):
    with pytest.raises(AgentError, match="a new agent needs a password"):
        agents.add("ana", endpoint="+15550100001")
    assert agents.get("ana") is None
    with pytest.raises(AgentError, match="no agent named 'ana'"):
        agents.set_status("ana", "available", T0)
    team(agents, "ana")
    with pytest.raises(AgentError, match="presszero sets busy"):
        agents.set_status("ana", "busy", T0)


def test_an_open_inbox_still_counts_as_online_for_chat(agents: AgentStore):
    agents.seen("ana", T0)
    agents.seen("ben", at(-2))
    assert agents.online(at(1)) == ["ana"]
    agents.gone("ana")
    assert agents.online(at(1)) == []


def test_an_agent_s_languages_are_kept_in_their_usual_case(agents: AgentStore):
    made = agents.add("eva", PASSWORD, languages=["es-us", "en-US", "es-US"])
    assert made.languages == ("es-US", "en-US")
    assert agents.add("eva", role="lead").languages == ("es-US", "en-US")  # kept when unsaid
    assert agents.add("eva", languages=[]).languages == ()  # back to the team's


@pytest.mark.parametrize("given", [["fr-FR"], ["Spanish"], ["es-US", "de"]])
def test_a_language_presszero_does_not_speak_is_refused_and_nothing_changes(
    agents: AgentStore, given: list[str]
):
    agents.add("eva", PASSWORD, languages=["es-US"])
    with pytest.raises(AgentError, match="languages: "):
        agents.add("eva", languages=given)
    found = agents.get("eva")
    assert found is not None
    assert found.languages == ("es-US",)


@pytest.mark.parametrize(
    ("languages", "language", "default", "speaks"),
    [
        (("es-US",), "es-MX", "en-US", True),  # a Spanish speaker speaks any Spanish
        (("es-US",), "en-US", "en-US", False),
        ((), "en-GB", "en-US", True),  # one who named none speaks the flow's first
        ((), "es-US", "en-US", False),
        (("en-US", "es-US"), "es-US", "en-US", True),
    ],
)
def test_who_speaks_a_language(languages: tuple[str, ...], language: str, default: str,
                               speaks: bool):  # fmt: skip
    assert Agent("eva", "agent", languages=languages).speaks(language, default) is speaks


def test_speakers_of_the_language_come_alone_unless_none_is_there():
    eva = Agent("eva", "agent", languages=("es-US",))
    ann, bob = Agent("ann", "agent"), Agent("bob", "agent", languages=("en-US",))
    assert speakers_first([ann, eva, bob], "es-US", "en-US") == [eva]
    assert speakers_first([ann, bob], "es-US", "en-US") == [ann, bob]
    assert speakers_first([ann, eva, bob], "", "en-US") == [ann, eva, bob]
