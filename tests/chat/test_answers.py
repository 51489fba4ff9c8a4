"""Nobody left without a reply: a message left in chat, answered from the inbox, delivered by
email (a real SMTP server on loopback) or text (Twilio's Messages API, through the stand-in);
and the chat after a person closes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.chat import LEAKS, Visitor
from support.consoles import PASSWORD, signed_in
from support.smtp import MailServer

from presszero import create_app
from presszero.chat.identity import make_token
from presszero.config import ConfigError
from presszero.context.agents import AgentStore
from presszero.context.clock import FixedClock
from presszero.context.demo import load_demo
from presszero.context.handoffs import HandoffStore
from presszero.context.store import ContextStore

SUNDAY = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # 10:00 in New York: closed all day
MONDAY = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 9:30: open


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    with MailServer(refuse={"nobody@example.net"}) as server:
        yield server


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SUNDAY)


@pytest.fixture
def app(make_app: Any, redis_client: Any, clock: FixedClock, mail: MailServer, twilio_api: Any):
    mail.received.clear()
    store = ContextStore(redis_client, FixedClock(SUNDAY - timedelta(hours=1)))
    load_demo(store)
    AgentStore(redis_client).add("alex", PASSWORD)
    AgentStore(redis_client).add("lena", PASSWORD, "lead")
    return make_app(
        PRESSZERO_CLOCK=clock, PRESSZERO_CALLER_ID="+15550009999", PRESSZERO_CHAT_MAX_WAIT="60",
        **mail.config, **twilio_api.config,
    )  # fmt: skip


def visitor(app: Any, clock: FixedClock, subject: str = "", sender: str = "web-leaves-0001"):
    secret = app.extensions["presszero.chat"].identity_secret
    return Visitor(app, sender, make_token(secret, subject, clock.now()) if subject else "")


def texts(replies: list[dict[str, Any]]) -> str:
    return " ".join(r["text"] for r in replies)


def leave_a_message(app: Any, clock: FixedClock, subject: str, contact: str) -> Visitor:
    """Walk a chat out of hours to a message left, with `contact` as how to reach them."""
    v = visitor(app, clock, subject)
    v.send("hi")
    closed = texts(v.send("/agent"))
    assert "We're closed right now (open Monday to Friday, 8 AM to 8 PM" in closed
    assert "Leave a message and we'll answer here" in closed
    assert "call you back" not in closed
    assert v.poll()["message"]["step"] == "message"
    v.send("I was charged twice for November. Can you refund one?")
    v.send(contact)
    return v


def test_out_of_hours_the_widget_is_told_we_are_closed_and_then_where_the_answer_will_go(
    app: Any, clock: FixedClock
):
    v = visitor(app, clock, "+15550100002")
    v.send("hi")
    v.send("/agent")
    polled = v.poll()
    assert polled["status"] == "message"
    assert polled["message"]["closed"] is True
    assert polled["message"]["hours"].startswith("Monday to Friday, 8 AM to 8 PM")
    asked = v.send("I was charged twice for November.")
    assert [b["title"] for b in asked[-1]["buttons"]] == [
        "Email d…@example.com", "Text the number ending in 0002", "Just here is fine",
    ]  # fmt: skip
    assert v.poll()["message"]["step"] == "contact"
    assert "doesn't look like an email address" in texts(v.send("dana at example"))
    sent = texts(v.send("/reply email"))
    assert "Message sent: we'll answer here and by email at d…@example.com." in sent
    assert v.poll()["message"] == {
        "step": "sent", "closed": True, "hours": polled["message"]["hours"],
        "reply_by": "email", "reply_to": "d…@example.com",
    }  # fmt: skip
    record = HandoffStore(app.extensions["presszero.store"].redis).get(f"chat:{v.sender}")
    assert record is not None
    assert record["message"] == "I was charged twice for November."
    assert record["reply_to"] == {"how": "email", "address": "dana@example.com"}
    assert record["status"] == "callback"
    assert record["who"] == "Dana Reyes"
    more = texts(v.send("My account number is 4402177."))
    assert "I've added that to your message" in more
    record = HandoffStore(app.extensions["presszero.store"].redis).get(f"chat:{v.sender}")
    assert record is not None
    assert record["message"].endswith("\nMy account number is 4402177.")


def test_the_answer_next_day_reaches_the_widget_and_the_mail_server(
    app: Any, clock: FixedClock, mail: MailServer, store: ContextStore
):
    v = leave_a_message(app, clock, "+15550100002", "dana.reyes@example.org")
    hid = f"chat:{v.sender}"
    clock.moment = MONDAY
    agent, token = signed_in(app)
    inbox = agent.get("/agent").get_data(as_text=True)
    assert "Messages to answer" in inbox
    assert "I was charged twice for November." in inbox
    page = agent.get(f"/agent/conversations/{hid}").get_data(as_text=True)
    assert "dana.reyes@example.org" in page
    assert 'id="answer-form"' in page
    answer = "Hi Dana, you're right: we refunded the second charge today."
    done = agent.post(f"/agent/messages/{hid}/answer", data={"csrf": token, "text": answer})
    assert done.status_code == 302
    assert "Messages to answer" in agent.get("/agent").get_data(as_text=True)
    assert hid not in agent.get("/agent/api/waiting").get_data(as_text=True)

    sent = mail.wait_for_one()
    assert sent.recipients == ["dana.reyes@example.org"]
    assert sent.message["From"] == "Example Health Support <support@example.com>"
    assert sent.message["Subject"] == "An answer to your message to Example Health Support"
    assert sent.body.startswith("Hello Dana,\n")
    assert "> I was charged twice for November. Can you refund one?" in sent.body
    assert "Alex from our billing team answered:" in sent.body  # where her 0 led
    assert answer in sent.body
    assert not LEAKS.search(sent.body.replace("> ", "")), sent.body

    polled = v.poll()
    agent_lines = [(m["agent"], m["text"]) for m in polled["messages"] if m["from"] == "agent"]
    assert agent_lines == [("Alex", answer)]
    system = [m for m in polled["messages"] if m["from"] == "system"]
    assert system[-2]["text"] == (
        "Alex answered your message; we also emailed it to d…@example.org. "
        "Anything else? Just type it here."
    )
    assert [b["title"] for b in system[-1]["buttons"]] == ["Yes, sorted", "Not really"]
    record = HandoffStore(store.redis).get(hid)
    assert record is not None
    assert record["status"] == "resolved"
    assert record["delivery"] == "emailed to d…@example.org"
    dana = store.get("cus_1002")
    assert dana is not None
    emailed = [c for c in dana.contacts if c.channel == "email"]
    assert [(c.outcome, c.by) for c in emailed] == [("resolved", "company")]  # ours, not hers
    assert "alex answered their message: emailed to d…@example.org" in emailed[0].reason
    chat = [c for c in dana.contacts if c.ref == record["contact"]["ref"]]
    assert [(c.channel, c.outcome, c.by) for c in chat] == [("chat", "resolved", "customer")]
    before = len(dana.contacts)
    v.send("/rate yes")  # the rating goes onto her chat's contact, not a contact of its own
    dana = store.get("cus_1002")
    assert dana is not None
    assert len(dana.contacts) == before
    rated = [c for c in dana.contacts if c.ref == record["contact"]["ref"]]
    assert rated[0].reason == f"{chat[0].reason}; said it was sorted"


def test_a_failed_delivery_loses_nothing_and_the_message_stays_listed(
    app: Any, clock: FixedClock, mail: MailServer, store: ContextStore
):
    v = leave_a_message(app, clock, "", "nobody@example.net")
    hid = f"chat:{v.sender}"
    clock.moment = MONDAY
    agent, token = signed_in(app)
    answer = "Refunds take 3 to 5 working days."
    agent.post(f"/agent/messages/{hid}/answer", data={"csrf": token, "text": answer})
    assert mail.received == []
    record = HandoffStore(store.redis).get(hid)
    assert record is not None
    assert record["status"] == "callback"  # still owed: listed until it reaches them
    assert record["delivery"].startswith("email not delivered: the mail server refused")
    assert hid in agent.get("/agent/api/waiting").get_data(as_text=True)
    page = agent.get(f"/agent/conversations/{hid}").get_data(as_text=True)
    assert "email not delivered: the mail server refused the address (550" in page
    assert answer in [m["text"] for m in v.poll()["messages"]]  # the answer is in the chat
    kept = store.redis.hvals("pz:contacts:unattributed")
    assert any(b"email not delivered" in entry and b'"callback"' in entry for entry in kept)


def test_an_answer_by_text_message_goes_through_twilios_messages_api(
    app: Any, clock: FixedClock, twilio_api: Any, store: ContextStore
):
    v = leave_a_message(app, clock, "+15550100001", "/reply sms")
    hid = f"chat:{v.sender}"
    clock.moment = MONDAY
    agent, token = signed_in(app)
    answer = "Hi Ana, the second charge is refunded."
    agent.post(f"/agent/messages/{hid}/answer", data={"csrf": token, "text": answer})
    seen = twilio_api.wait_for(lambda s: s.path.endswith("/Messages.json"))
    assert seen.status == 201
    assert seen.user == twilio_api.account_sid
    assert (seen.form["To"], seen.form["From"]) == ("+15550100001", "+15550009999")
    assert seen.form["Body"].startswith("Example Health Support: Alex answered your message")
    assert seen.form["Body"].endswith(answer)
    record = HandoffStore(store.redis).get(hid)
    assert record is not None
    assert (record["status"], record["delivery"]) == (
        "resolved",
        "texted to the number ending in 0001",
    )
    ana = store.get("cus_1001")
    assert ana is not None
    assert [(c.channel, c.outcome) for c in ana.contacts if c.channel == "sms"] == [
        ("sms", "resolved")
    ]


def test_resolving_a_chat_hands_it_back_and_thanks_is_not_a_miss(
    app: Any, clock: FixedClock, store: ContextStore
):
    clock.moment = MONDAY
    AgentStore(store.redis).seen("alex", clock.now())
    v = visitor(app, clock, "+15550100002", sender="web-resolved-0001")
    v.send("hi")
    assert "passing you to a person" in texts(v.send("/agent"))
    agent, token = signed_in(app)
    hid = f"chat:{v.sender}"
    agent.post(f"/agent/conversations/{hid}/claim", data={"csrf": token})
    agent.post(f"/agent/conversations/{hid}/resolve", data={"csrf": token, "note": "refunded"})
    lines = v.poll()["messages"]
    assert lines[-2]["text"] == "Alex has closed this chat. Anything else? Just type it here."
    assert lines[-1]["text"] == "One quick question, if you like: did we sort it out for you?"
    assert [b["payload"] for b in lines[-1]["buttons"]] == ["/rate yes", "/rate no"]
    reply = texts(v.send("thanks!"))
    assert "didn't catch" not in reply
    assert "You're welcome" in reply
    day = store.redis.hgetall(f"pz:stats:{{support}}:{MONDAY.date().isoformat()}")
    assert b"miss|no_match" not in day
    assert day[b"satisfaction|asked"] == b"1"
    assert "How can I help?" in texts(v.send("hello"))  # the bot, as ever


def test_a_rating_reaches_the_contact_log_the_lead_console_and_the_report(
    app: Any, clock: FixedClock, store: ContextStore
):
    clock.moment = MONDAY
    AgentStore(store.redis).seen("alex", clock.now())
    for n, rating in enumerate(["/rate yes", "/rate no", "/rate yes"]):
        v = visitor(app, clock, "+15550100002", sender=f"web-rated-000{n}")
        v.send("hi")
        v.send("/agent")
        agent, token = signed_in(app)
        hid = f"chat:{v.sender}"
        agent.post(f"/agent/conversations/{hid}/resolve", data={"csrf": token, "note": ""})
        assert "Thanks for letting us know" in texts(v.send(rating)) or rating == "/rate no"
    dana = store.get("cus_1002")
    assert dana is not None
    rated = [c.reason.rsplit("; ", 1)[-1] for c in dana.contacts if c.channel == "chat"]
    assert rated == ["said it was sorted", "said it was not sorted", "said it was sorted"]
    lead, _ = signed_in(app, "lena")
    page = lead.get("/leads/flows/support?days=1").get_data(as_text=True)
    assert "Asked 3 times in this period · 2 said sorted, 1 said not really" in page
    assert (
        f"<tr><td>{MONDAY.date().isoformat()}</td><td>3</td><td>2</td><td>1</td><td>67%</td>"
        in page
    )
    assert "67% of 3" in lead.get("/leads").get_data(as_text=True)


def test_a_visitor_waiting_beyond_the_limit_is_offered_to_leave_a_message(
    app: Any, clock: FixedClock, store: ContextStore
):
    clock.moment = MONDAY
    AgentStore(store.redis).seen("alex", clock.now())
    v = visitor(app, clock)
    v.send("hi")
    v.send("/agent")
    assert (v.poll()["queue_position"], v.poll()["offer_message"]) == (1, False)
    clock.moment = MONDAY + timedelta(seconds=61)
    assert v.poll()["offer_message"] is True
    assert "Leave a message and we'll answer here" in texts(v.send("/message"))
    assert v.poll()["status"] == "message"
    record = HandoffStore(store.redis).get(f"chat:{v.sender}")
    assert record is not None
    assert (record["kind"], record["status"]) == ("voicemail", "callback")


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"PRESSZERO_SMTP_HOST": "mail.example.com"}, "PRESSZERO_SMTP_FROM"),
        (
            {
                "PRESSZERO_SMTP_HOST": "m",
                "PRESSZERO_SMTP_FROM": "a@b.c",
                "PRESSZERO_SMTP_PORT": "x",
            },
            "PRESSZERO_SMTP_PORT",
        ),
        (
            {
                "PRESSZERO_SMTP_HOST": "m",
                "PRESSZERO_SMTP_FROM": "a@b.c",
                "PRESSZERO_SMTP_USER": "u",
            },
            "PRESSZERO_SMTP_PASSWORD",
        ),
        ({"PRESSZERO_CHAT_MAX_WAIT": "soon"}, "PRESSZERO_CHAT_MAX_WAIT"),
    ],
)
def test_a_delivery_setting_that_cannot_work_stops_start_up_naming_it(
    redis_url: str, tmp_path: Any, config: dict[str, str], named: str
):
    with pytest.raises(ConfigError, match=named):
        create_app({"REDIS_URL": redis_url, "PRESSZERO_DATA_DIR": str(tmp_path), **config})
