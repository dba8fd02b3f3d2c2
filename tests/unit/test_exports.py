"""Exports are pure functions of the document; each output is read back by an independent parser
(srt, webvtt-py, pyannote.database's RTTM loader)."""

from __future__ import annotations

import html
import itertools
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import srt
import webvtt
from pyannote.database.util import load_rttm

from therapybridge.document import Segment, SessionDocument, Speaker, SpeakerTurn
from therapybridge.exports import FORMATS, to_json, to_rttm, to_srt, to_txt, to_vtt


def _doc() -> SessionDocument:
    return SessionDocument(
        id="5b8c1f0e-0000-4000-8000-000000000001",
        status="processed",
        progress=100,
        audio_filename="Jane Doe 2026-11-28.mp3",
        transcript_segments=[
            # Out of order on purpose; the second has a newline, markup characters and a zero length.
            Segment(start=3725.25, end=3727.5, speaker="SPEAKER_01", role="client", text="It was <hard> & long."),
            Segment(start=0.5, end=0.5, speaker="SPEAKER_00", role="therapist", text="Hello,\n\nhow are you?"),
            Segment(start=2.0, end=3.2, speaker="Unknown", role=None, text="Mm-hmm."),
            Segment(start=4.0, end=4.5, speaker="SPEAKER_00", role="therapist", text="   "),  # nothing to show
        ],
        speaker_turns=[
            SpeakerTurn(start=10.0, end=12.5, speaker="SPEAKER_01"),
            SpeakerTurn(start=0.42, end=2.2, speaker="SPEAKER_00"),
            SpeakerTurn(start=5.0, end=5.0, speaker="SPEAKER_00"),  # empty: not a valid RTTM line
        ],
    )


def test_srt_parses_with_valid_ordered_timestamps() -> None:
    subs = list(srt.parse(to_srt(_doc()), ignore_errors=False))
    assert [s.index for s in subs] == [1, 2, 3]
    assert [s.content for s in subs] == [
        "Therapist: Hello, how are you?",
        "Speaker: Mm-hmm.",
        "Client: It was <hard> & long.",
    ]
    assert subs[0].start == timedelta(seconds=0.5) and subs[0].end > subs[0].start
    assert subs[2].start == timedelta(hours=1, minutes=2, seconds=5.25)
    assert all(a.start <= b.start for a, b in itertools.pairwise(subs))
    assert re.search(r"^01:02:05,250 --> 01:02:07,500$", to_srt(_doc()), re.M)


def test_exports_name_speakers_as_the_transcript_page_does() -> None:
    """One rule for a speaker's name: the clinician's display name first, then the role."""
    doc = _doc()
    doc.speakers = [Speaker(label="SPEAKER_00", role="therapist", name="Dr. Ann Lee", talk_seconds=1.0)]
    assert "Dr. Ann Lee: Hello, how are you?" in to_txt(doc)
    assert "Dr. Ann Lee: Hello, how are you?" in to_srt(doc)
    assert "<v Dr. Ann Lee>" in to_vtt(doc)
    assert "Client: It was <hard> & long." in to_txt(doc)


def test_vtt_parses_with_voices_and_escaped_text(tmp_path: Path) -> None:
    text = to_vtt(_doc())
    assert text.startswith("WEBVTT\n\n")
    captions = webvtt.from_string(text).captions
    assert [c.start for c in captions] == ["00:00:00.500", "00:00:02.000", "01:02:05.250"]
    assert all(c.end > c.start for c in captions)  # fixed-width HH:MM:SS.mmm compare as strings
    assert captions[2].voice == "Client" and html.unescape(captions[2].text) == "It was <hard> & long."
    assert "&lt;hard&gt; &amp; long." in text


def test_rttm_lines_are_valid(tmp_path: Path) -> None:
    text = to_rttm(_doc())
    lines = text.splitlines()
    assert len(lines) == 2
    for line in lines:
        fields = line.split()
        assert len(fields) == 10 and fields[0] == "SPEAKER" and fields[2] == "1"
        assert float(fields[3]) >= 0 and float(fields[4]) > 0 and fields[7].startswith("SPEAKER_")
    path = tmp_path / "d.rttm"
    path.write_text(text)
    annotation = load_rttm(path)[_doc().id]
    assert annotation.labels() == ["SPEAKER_00", "SPEAKER_01"]
    assert annotation.get_timeline().duration() == pytest.approx(1.78 + 2.5)
    assert "Jane" not in text  # the file id is the session id, never the upload's name


def test_txt_and_json() -> None:
    txt = to_txt(_doc())
    assert txt.splitlines()[0] == "[00:00:00] Therapist: Hello, how are you?"
    assert "[01:02:05] Client: It was <hard> & long." in txt
    doc = SessionDocument.model_validate(json.loads(to_json(_doc())))
    assert doc == _doc()


def test_empty_document_exports_are_still_valid() -> None:
    empty = SessionDocument(id="x", status="processed")
    assert list(srt.parse(to_srt(empty))) == []
    assert webvtt.from_string(to_vtt(empty)).captions == []
    assert to_rttm(empty) == "" and to_txt(empty) == ""
    assert set(FORMATS) == {"transcript.txt", "transcript.srt", "transcript.vtt", "transcript.json", "diarization.rttm"}
