from __future__ import annotations

import itertools
from pathlib import Path

from tests.support.harness import CORPUS
from therapybridge.speech.audio import to_wav16k
from therapybridge.speech.vad import plan_windows, regions_within, speech_regions


def test_windows_cover_timeline_and_cut_in_silence() -> None:
    regions = [(0.5, 40.0), (40.6, 90.0), (91.0, 130.0), (131.0, 200.0), (202.0, 250.0)]
    windows = plan_windows(regions, duration=260.0, target_s=100.0)
    assert windows[0][0] == 0.0 and windows[-1][1] == 260.0
    for (_, e), (s, _) in itertools.pairwise(windows):
        assert e == s  # contiguous
        assert not any(r0 < e < r1 for r0, r1 in regions)  # never inside speech


def test_long_region_stays_whole() -> None:
    assert plan_windows([(0.0, 500.0)], duration=500.0, target_s=60.0) == [[0.0, 500.0]]


def test_regions_within_a_window_are_clipped_and_relative() -> None:
    regions = [(1.0, 5.0), (118.0, 125.0), (130.0, 140.0), (250.0, 260.0)]
    assert regions_within(regions, 120.0, 240.0) == [(0.0, 5.0), (10.0, 20.0)]
    assert regions_within(regions, 0.0, 120.0) == [(1.0, 5.0), (118.0, 120.0)]
    assert regions_within(regions, 200.0, 240.0) == []


def test_no_speech_means_no_windows() -> None:
    assert plan_windows([], duration=10.0) == []


def test_silence_has_no_speech_and_speech_has_some(tmp_path: Path) -> None:
    wav = tmp_path / "empty.wav"
    to_wav16k(CORPUS / "real" / "empty.wav", wav)
    assert speech_regions(wav) == []
    jfk = tmp_path / "jfk.wav"
    to_wav16k(CORPUS / "real" / "jfk.flac", jfk)
    regions = speech_regions(jfk)
    assert 6.0 < sum(e - s for s, e in regions) < 11.0


def test_far_field_blocks_get_the_sensitive_pass(tmp_path: Path) -> None:
    """trn01 (AMI, distant microphone): Silero's strict pass finds nothing; the far-field pass finds
    the one reference word at 2.98-3.37 s. Near-field speech keeps the strict regions."""
    from therapybridge.speech.vad import FAR_FIELD_OPTIONS

    wav = tmp_path / "trn01.wav"
    to_wav16k(CORPUS / "real" / "trn01.wav", wav)
    assert speech_regions(wav, far_field=None) == []
    regions = speech_regions(wav)
    assert regions and all(s > 2.8 and e < 3.6 for s, e in regions)
    jfk = tmp_path / "jfk.wav"
    to_wav16k(CORPUS / "real" / "jfk.flac", jfk)
    assert speech_regions(jfk) == speech_regions(jfk, far_field=None)
    assert FAR_FIELD_OPTIONS.threshold < 0.5
