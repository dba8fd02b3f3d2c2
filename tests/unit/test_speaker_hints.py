"""Speaker-count hints: session types, explicit counts, validation (therapybridge.domain.speaker_hints),
and the CLI flags that carry them."""

from __future__ import annotations

import pytest

from therapybridge.domain.speaker_hints import HintError, SpeakerHints, parse_count, resolve_hints


@pytest.mark.parametrize(
    ("session_type", "expected"),
    [
        ("individual", SpeakerHints(2, None, None, "individual")),
        ("couple", SpeakerHints(3, None, None, "couple")),
        ("family", SpeakerHints(None, 3, 6, "family")),
        ("group", SpeakerHints(None, 3, None, "group")),
        ("Individual ", SpeakerHints(2, None, None, "individual")),
        (None, SpeakerHints()),
        ("", SpeakerHints()),
    ],
)
def test_session_types_give_counts(session_type: str | None, expected: SpeakerHints) -> None:
    assert resolve_hints(session_type=session_type) == expected


def test_explicit_counts_win_over_the_session_type() -> None:
    assert resolve_hints(4, None, None, "family") == SpeakerHints(4, None, None, "family")
    assert resolve_hints(None, None, 3, "individual") == SpeakerHints(None, None, 3, "individual")
    assert resolve_hints(None, 2, 4) == SpeakerHints(None, 2, 4, None)
    # An exact count inside the range is just the count.
    assert resolve_hints(3, 2, 4) == SpeakerHints(3, None, None, None)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((None, 4, 2, None), "min_speakers"),
        ((5, None, 3, None), "num_speakers"),
        ((2, 3, None, None), "num_speakers"),
        ((0, None, None, None), "num_speakers"),
        ((None, None, 11, None), "max_speakers"),
        ((None, None, None, "triad"), "session_type"),
    ],
)
def test_bad_hints_name_the_field(args: tuple, field: str) -> None:
    with pytest.raises(HintError) as err:
        resolve_hints(*args)
    assert err.value.field == field


def test_parse_count() -> None:
    assert parse_count("num_speakers", None) is None
    assert parse_count("num_speakers", " ") is None
    assert parse_count("num_speakers", " 3 ") == 3
    for bad in ("x", "2.5", "0", "11"):
        with pytest.raises(HintError):
            parse_count("num_speakers", bad)


def test_cli_flags_resolve_into_hints(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from therapybridge.cli import app as cli

    seen: dict[str, object] = {}

    async def fake_process(audio, json_out, speakers, quiet, note, hints=None):  # type: ignore[no-untyped-def]
        seen.update(speakers=speakers, hints=hints)
        return 0

    monkeypatch.setattr(cli, "process", fake_process)
    with pytest.raises(SystemExit) as done:
        cli.main(["process", str(tmp_path / "a.wav"), "--session-type", "couple", "--quiet"])
    assert done.value.code in (0, None)
    assert seen["hints"] == SpeakerHints(3, None, None, "couple")
    with pytest.raises(SystemExit):
        cli.main(["process", str(tmp_path / "a.wav"), "--min-speakers", "2", "--max-speakers", "4"])
    assert seen["hints"] == SpeakerHints(None, 2, 4, None)
    with pytest.raises(SystemExit) as bad:
        cli.main(["process", str(tmp_path / "a.wav"), "--min-speakers", "5", "--max-speakers", "4"])
    assert bad.value.code == 2
