"""`therapybridge notes IN.json`: notes for a transcript alone (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from therapybridge.cli import main

DOC = {
    "id": "x",
    "custom_field": "kept as it was",
    "speakers": [{"label": "A", "role": "therapist"}, {"label": "B", "role": "client"}],
    "transcript_segments": [
        {"start": 0, "end": 2, "speaker": "A", "text": "How much do you drink on a typical day?"},
        {"start": 2.5, "end": 4, "speaker": "B", "text": "About six beers most nights."},
        {"start": 4.5, "end": 7, "speaker": "A", "text": "Would you be willing to keep a drink diary this week?"},
        {"start": 7.5, "end": 9, "speaker": "B", "text": "Okay, I can do that."},
    ],
}


def run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code or 0)


def test_writes_the_input_document_with_grounded_notes(tmp_path: Path) -> None:
    src, out = tmp_path / "in.json", tmp_path / "out.json"
    src.write_text(json.dumps(DOC))
    assert run(["notes", str(src), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["custom_field"] == "kept as it was"
    # the segments come back as they were, plus their counselling-skill label (issue 17)
    assert [{k: v for k, v in s.items() if k != "behaviour"} for s in doc["transcript_segments"]] == DOC[
        "transcript_segments"
    ]
    notes = doc["extracted_notes"]
    assert [f["type"] for f in notes["risk_flags"]] == ["substance_use"]
    assert notes["risk_flags"][0]["quote"] == "About six beers most nights."
    items = notes["action_items"]
    assert items and all(i["evidence"] for i in items)
    assert all(s["evidence"] for s in notes["strategies"])
    assert all(t["evidence"] for t in notes["topic_evidence"])
    assert notes["patient_summary_status"] == "draft"


def test_prints_readable_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.json"
    src.write_text(json.dumps(DOC))
    assert run(["notes", str(src)]) == 0
    out = capsys.readouterr().out
    assert "substance_use (moderate)" in out and "draft for the clinician" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"segments": []}', "no transcript_segments"),
        (b'{"transcript_segments": []}', "is empty"),
        (b'{"transcript_segments": [{"start": "a", "end": 1, "text": "x"}]}', "transcript_segments[0].start"),
        (b'{"transcript_segments": [{"start": 5, "end": 1, "text": "x"}]}', "end is before start"),
        (b"fLaC\x00\x00\x00\x22\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    src = tmp_path / "in.json"
    src.write_bytes(content)
    out = tmp_path / "out.json"
    assert run(["notes", str(src), "--json", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["notes", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err
