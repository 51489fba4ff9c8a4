"""The number's fallback: static TwiML that reaches a person, or takes a number to call back,
when presszero cannot answer; served by a plain static host and followed as Twilio would."""

from __future__ import annotations

import http.server
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.twilio_client import assert_no_placeholders

from presszero.cli import main
from presszero.voice.fallback import fallback_document, thanks_document, write_documents
from presszero.voice.simulator import CallError, SimulatedCall, scripted

BACKUP = "+15550107777"
LINE = "+15550009999"


class StaticHost(http.server.BaseHTTPRequestHandler):
    """A static web host holding the documents, answering any method with the file named by
    the path's last part. Twilio asks it for the fallback when presszero fails, so the
    simulator's first request (/voice/incoming) gets the fallback document."""

    folder: Path
    fetched: list[str]

    def _serve(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        name = self.path.split("?")[0].rsplit("/", 1)[-1]
        self.fetched.append(name)
        if name == "status":  # the call's status callback: a static host has nothing there
            body, status = b"", 200
        else:
            file = self.folder / ("presszero-fallback.xml" if name == "incoming" else name)
            status = 200 if file.is_file() else 404
            body = file.read_bytes() if status == 200 else b"not found"
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _serve

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """Yield a static host of tmp_path's files (its base URL) and the names it was asked for."""
    fetched: list[str] = []
    handler = type("Host", (StaticHost,), {"folder": tmp_path, "fetched": fetched})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,))
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", fetched
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def call(base_url: str) -> SimulatedCall:
    return SimulatedCall(base_url, "unused: a static host checks no signature", caller=LINE)


def test_with_a_backup_number_the_fallback_reaches_a_person(
    tmp_path: Path, host: tuple[str, list[str]]
):
    write_documents(tmp_path / "presszero-fallback.xml", BACKUP)
    base, fetched = host
    log = call(base).run(scripted([]))
    assert log.ended_with == "dial"
    assert log.target == BACKUP
    assert "not working" in log.heard[0]
    assert fetched == ["incoming", "status"]


def test_without_one_the_caller_leaves_a_number_and_is_thanked_without_a_loop(
    tmp_path: Path, host: tuple[str, list[str]]
):
    write_documents(tmp_path / "presszero-fallback.xml", "")
    base, fetched = host
    log = call(base).run(scripted([]))
    assert log.ended_with == "record"
    assert any("number we can call you back on" in said for said in log.heard)
    assert log.heard[-1].startswith("Thank you. We will call you back")
    # the recording goes on to the thanks document once; the fallback is never asked again
    assert fetched == ["incoming", "presszero-fallback-thanks.xml", "status"]


def test_a_record_without_an_action_would_loop_on_a_static_host(
    tmp_path: Path, host: tuple[str, list[str]]
):
    looping = fallback_document("", "x").replace(' action="x"', "")
    (tmp_path / "presszero-fallback.xml").write_text(looping)
    with pytest.raises(CallError, match="a loop"):
        call(host[0]).run(scripted([]))


@pytest.mark.parametrize("backup", [BACKUP, ""])
def test_the_documents_are_twiml_that_says_no_placeholder(backup: str):
    main_doc = ET.fromstring(fallback_document(backup, "presszero-fallback-thanks.xml"))
    thanks = ET.fromstring(thanks_document())
    for root in (main_doc, thanks):
        assert root.tag == "Response"
        assert_no_placeholders(root)
    verbs = [verb.tag for verb in main_doc]
    assert verbs == (["Say", "Dial", "Say", "Record"] if backup else ["Say", "Say", "Record"])
    record = main_doc[-1]
    assert (record.get("action"), record.get("method")) == ("presszero-fallback-thanks.xml", "GET")
    assert record.get("finishOnKey") == "#"
    if backup:
        assert main_doc.findtext("Dial") == backup
    assert [verb.tag for verb in thanks] == ["Say", "Hangup"]


def test_the_command_writes_both_documents_beside_each_other(tmp_path: Path):
    out = tmp_path / "line.xml"
    result = CliRunner().invoke(
        main, ["twilio", "fallback", "-o", str(out)], env={"PRESSZERO_BACKUP_NUMBER": BACKUP}
    )
    assert result.exit_code == 0, result.output
    assert f"rings {BACKUP}" in result.stdout
    assert 'action="line-thanks.xml"' in out.read_text()
    assert (tmp_path / "line-thanks.xml").read_text().strip() == thanks_document()


@pytest.mark.parametrize(
    ("backup", "said"),
    [("555-0107", "'555-0107' is not a phone number in E.164 form"), (LINE, "the line itself")],
)
def test_a_backup_number_that_cannot_work_is_refused_in_one_line(
    tmp_path: Path, backup: str, said: str
):
    env = {"PRESSZERO_BACKUP_NUMBER": backup, "PRESSZERO_TWILIO_NUMBER": LINE}
    out = tmp_path / "line.xml"
    result = CliRunner().invoke(main, ["twilio", "fallback", "-o", str(out)], env=env)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert said in result.stderr
    assert not out.exists()
