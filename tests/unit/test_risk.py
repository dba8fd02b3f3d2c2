"""Risk detection phrase suites: positive, negated, therapist-spoken, third-person, hypothetical, ASR-like.

The phrases are written for these tests (not copied from the corpus). Every positive phrase must raise a
flag of its type, every negated one a documented denial and no flag, and the rest nothing at all.
"""

from __future__ import annotations

import pytest

from therapybridge.document import Segment, Word
from therapybridge.domain.risk import detect_risks, normalise, split_sentences


def seg(text: str, role: str | None = "client", start: float = 10.0, speaker: str | None = None) -> Segment:
    spk = speaker or {"client": "SPEAKER_01", "therapist": "SPEAKER_00", None: "SPEAKER_01"}[role]
    return Segment(start=start, end=start + max(1.0, len(text) / 15), speaker=spk, role=role, text=text)  # type: ignore[arg-type]


def flags_for(text: str, role: str | None = "client") -> list[str]:
    flags, _ = detect_risks([seg(text, role)])
    return [f.type for f in flags]


POSITIVE: dict[str, list[str]] = {
    "suicidal_ideation": [
        "I've been thinking about killing myself.",
        "Sometimes I just want to die.",
        "I wish I could go to sleep and never wake up.",
        "Honestly my family would be better off without me.",
        "I don't want to be alive anymore.",
        "There's no reason to keep going.",
        "I have a plan to end my life.",
        "Nobody would even notice if I was gone.",
        "I keep having suicidal thoughts at night.",
        "I tried to kill myself two years ago.",
        "Life isn't worth living anymore.",
        "I wish I was dead.",
        "I'm tired of being alive.",
        "What's the point of living?",
        "Some days I wish I wasn't here.",
        "Part of me wants to end it all.",
        "It would be easier for everyone if I just disappeared.",
        "I can't stop thinking about ending my life.",
        "I keep thinking it would be easier to just not exist.",
        "Lately I've been looking up ways to kill myself.",
        "I've written a goodbye letter to my kids.",
        "I've thought about jumping off the bridge near work.",
        "I just want it all to end.",
        "Sometimes I hope I get hit by a car.",
    ],
    "self_harm": [
        "I cut myself last night.",
        "I've been cutting my arms again.",
        "Last week I burned myself with a lighter.",
        "I get the urge to hurt myself when I'm upset.",
        "I started self-harming again.",
        "I punched myself in the face after the fight.",
        "I scratch my skin until it bleeds.",
        "I used to cut myself in high school.",
        "I want to hurt myself.",
        "Last month I needed stitches after I cut myself.",
        "When it gets bad I hit myself.",
        "I'm scared I'll hurt myself again.",
        "I've been burning my arms with cigarettes.",
        "When I get overwhelmed I bang my head against the wall until it hurts.",
        "I relapsed and started cutting last week.",
    ],
    "harm_to_others": [
        "I want to kill him.",
        "I'm going to hurt her if she does that again.",
        "I've been thinking about stabbing my boss.",
        "I drive past her house every night to see who's there.",
        "I know where he lives now.",
        "He'll get what's coming to him.",
        "I'm going to make him pay for this.",
        "I've been following her after work.",
        "Sometimes I imagine hurting my brother.",
        "I put a tracker on her car.",
        "I swear I will hit him next time.",
        "I've been planning my revenge.",
        "I wait outside her apartment until the lights go off.",
        "I keep picturing myself strangling him.",
        "If he shows up again I'll kill him.",
        "I've been watching her house from my car at night.",
        "I want to make her suffer like I did.",
        "I slashed his tires last week.",
    ],
    "substance_use": [
        "I've been drinking every night since the divorce.",
        "I'm up to a bottle of wine a night.",
        "Last weekend I blacked out after drinking.",
        "I need a drink to get through the day.",
        "I started using again.",
        "I've been smoking weed all day every day.",
        "I drove home drunk on Friday.",
        "I've been taking more of my pain pills than prescribed.",
        "I drink in the morning to stop the shakes.",
        "Most days I have six or seven beers.",
        "My drinking has gotten out of hand.",
        "I can't stop drinking once I start.",
        "I've been drinking alone every night.",
        "I finish a bottle of vodka most weekends.",
        "I took a few extra Xanax to get through work.",
        "I've been doing coke at parties every weekend.",
        "I can't sleep without a few drinks anymore.",
    ],
    "abuse_or_neglect": [
        "My husband hit me last week.",
        "He pushed me against the wall.",
        "She threw a plate at me.",
        "I'm scared of my boyfriend.",
        "He won't let me see my friends.",
        "My dad used to beat me when I was a kid.",
        "Sometimes I leave the kids home alone when I go out.",
        "The kids have been getting themselves to school because I can't get out of bed.",
        "I was too drunk to pick up my son from school.",
        "He threatened to kill me if I leave.",
        "I smacked my daughter across the face.",
        "He forced me to have sex.",
        "My partner controls all the money.",
        "I forgot to feed the baby yesterday.",
        "My stepdad hits my little brother.",
        "He choked me during the argument.",
        "My husband takes my bank card and checks my phone.",
        "The baby has been left in his crib all day while I sleep.",
        "I'm afraid to go home tonight.",
    ],
}

NEGATED: list[tuple[str, str]] = [
    ("suicidal_ideation", "I would never kill myself."),
    ("suicidal_ideation", "I'm not suicidal."),
    ("suicidal_ideation", "I've never tried to end my life."),
    ("suicidal_ideation", "I don't want to die, I want things to get better."),
    ("suicidal_ideation", "No, I haven't had any thoughts of ending my life."),
    ("suicidal_ideation", "It's not that I want to die."),
    ("suicidal_ideation", "I don't think my family would be better off without me."),
    ("suicidal_ideation", "I don't think I want to kill myself."),
    ("self_harm", "I have never cut myself."),
    ("self_harm", "I don't self-harm anymore."),
    ("self_harm", "No, I haven't hurt myself."),
    ("self_harm", "I wouldn't hurt myself."),
    ("harm_to_others", "I would never hurt anyone."),
    ("harm_to_others", "I'm not going to hurt him."),
    ("harm_to_others", "I don't want to kill her, I just want her to leave me alone."),
    ("harm_to_others", "I've never hit my wife."),
    ("substance_use", "I don't drink every day."),
    ("substance_use", "I haven't been drinking heavily."),
    ("abuse_or_neglect", "He has never hit me."),
    ("abuse_or_neglect", "I'm not scared of him."),
    ("abuse_or_neglect", "I've never left the kids alone."),
    ("suicidal_ideation", "I've never wanted to die, not even at my lowest."),
    ("suicidal_ideation", "Killing myself has never crossed my mind."),
    ("self_harm", "I have never self-harmed."),
    ("harm_to_others", "I'd never lay a hand on her."),
    ("harm_to_others", "I don't want to hurt anybody."),
    ("substance_use", "I haven't had a drink in six months."),
    ("abuse_or_neglect", "My partner has never been violent with me."),
]

# Said by the therapist: never a flag, whether the role is known or not.
THERAPIST: list[str] = [
    "Are you having thoughts of ending your life?",
    "Have you ever tried to hurt yourself?",
    "Do you ever feel like your family would be better off without you?",
    "Have you had any thoughts of hurting him?",
    "How much are you drinking on a typical night?",
    "Does anyone at home hit you?",
    "If you ever feel like hurting yourself, call the crisis line.",
    "Some people feel like they want to die when things get this bad.",
    "You mentioned drinking every night last week.",
    "When you say you wish you could disappear, what do you mean?",
    "Have you been cutting yourself again?",
    "Do you want to kill yourself?",
    "Have you been drinking every day?",
    "Is anyone hurting you at home?",
    "Do you still think about ending it all?",
    "That's important, because stopping suddenly after heavy drinking can be physically risky.",
    "I'd also like you to keep a drink diary, writing down how many drinks you had each evening.",
    "For homework, I'd like you to notice when you feel like drinking every night.",
]

# The client talking about someone else: not the client's risk.
THIRD_PERSON: list[str] = [
    "My friend tried to kill herself last year.",
    "My brother drinks every night.",
    "My sister used to cut herself.",
    "My mom worries that I'll hurt myself.",
    "He told me he wanted to die.",
    "My neighbour's husband hits her.",
    "My coworker said she wishes she was dead.",
    "My roommate has been smoking weed every day.",
    "Her boyfriend threatened to kill her.",
    "My friend thinks everyone would be better off without her.",
    "My cousin overdosed on purpose last spring.",
    "My grandmother died last year and I think about her every day.",
    "My best friend was suicidal in college.",
    "My dad was an alcoholic who drank every night.",
    "She said she wanted to kill herself.",
]

HYPOTHETICAL: list[str] = [
    "If I ever felt like killing myself, I would call you.",
    "What if I hurt someone by accident?",
    "I'd tell my sister if I ever started drinking every day.",
    "In case I ever wanted to hurt myself, I keep your number.",
    "Suppose I wanted to end my life, what would happen?",
    "I'd call the crisis line if I ever wanted to die.",
    "What if I snapped and hurt someone?",
    "If I ever drank every day again, I'd go back to AA.",
]

# Not risk at all, although risk-like words appear.
BENIGN: list[str] = [
    "I thought I was going to die when my heart started racing.",
    "I've been drinking coffee all afternoon just to function.",
    "I had a glass of wine at dinner on Saturday.",
    "I was so angry I wanted to throw my phone across the room.",
    "This job is killing me.",
    "I'm dying to see the new movie.",
    "I want to hit the gym more often.",
    "I hurt myself playing football last weekend.",
    "I cut my hand chopping onions.",
    "I'd rather stay home than go to that party.",
    "I'm cutting back on sugar.",
    "My boss pushed me to apply for the promotion.",
    "The team would be fine without me for a week.",
    "I told him to leave me alone.",
    "I'm so tired of my job.",
    "I killed it at my presentation today.",
    "I could murder a burger right now.",
    "The deadline is killing me.",
    "We had a few drinks at the wedding.",
    "I'm dying of embarrassment.",
    "I shot him a text after work.",
    "He beat me at chess again.",
    "It's like banging my head against a wall.",
    "I watched his house while he was on holiday.",
]

ASR_LIKE: list[tuple[str, str]] = [
    ("suicidal_ideation", "sometimes i think everyone would be better of without me"),
    ("suicidal_ideation", "i wish i could just not wake up"),
    ("suicidal_ideation", "i dont want to live anymore"),
    ("self_harm", "i been cutting my self again"),
    ("harm_to_others", "im gonna kill him"),
    ("substance_use", "i been drinking way more than i used to"),
    ("abuse_or_neglect", "he hit me again last night"),
]


def _cases(d: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(t, p) for t, ps in d.items() for p in ps]


@pytest.mark.parametrize(("type_", "text"), _cases(POSITIVE))
def test_positive_phrases_are_flagged(type_: str, text: str) -> None:
    flags, denials = detect_risks([seg(text)])
    assert type_ in [f.type for f in flags]
    assert all(f.quote == text and f.speaker == "SPEAKER_01" for f in flags)
    assert not [d for d in denials if d.type == type_]


@pytest.mark.parametrize(("type_", "text"), _cases(POSITIVE))
def test_positive_phrases_are_flagged_without_roles(type_: str, text: str) -> None:
    assert type_ in flags_for(text, role=None)


@pytest.mark.parametrize(("type_", "text"), NEGATED)
def test_negated_phrases_are_denials_not_flags(type_: str, text: str) -> None:
    flags, denials = detect_risks([seg(text)])
    assert flags == []
    assert type_ in [d.type for d in denials]
    assert all(d.quote == text for d in denials)


@pytest.mark.parametrize("text", THERAPIST)
@pytest.mark.parametrize("role", ["therapist", None])
def test_therapist_speech_never_flags(text: str, role: str | None) -> None:
    assert flags_for(text, role=role) == []


@pytest.mark.parametrize("text", THIRD_PERSON)
def test_third_person_is_not_the_clients_risk(text: str) -> None:
    flags, denials = detect_risks([seg(text)])
    assert flags == [] and denials == []


@pytest.mark.parametrize("text", HYPOTHETICAL)
def test_hypotheticals_do_not_flag(text: str) -> None:
    assert flags_for(text) == []


@pytest.mark.parametrize("text", BENIGN)
def test_benign_phrases_do_not_flag(text: str) -> None:
    assert flags_for(text) == []


@pytest.mark.parametrize(("type_", "text"), ASR_LIKE)
def test_asr_like_text_without_punctuation(type_: str, text: str) -> None:
    assert type_ in flags_for(text)


# --- severity rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "type_", "severity"),
    [
        ("Sometimes I wish I wasn't here.", "suicidal_ideation", "moderate"),
        ("I want to kill myself.", "suicidal_ideation", "moderate"),
        ("I have pills saved up and I'm planning to end my life this weekend.", "suicidal_ideation", "high"),
        ("Last night I wanted to kill myself.", "suicidal_ideation", "high"),
        ("When I was a teenager I thought about killing myself.", "suicidal_ideation", "low"),
        ("I can't go on like this anymore.", "suicidal_ideation", "low"),
        ("I used to cut myself in high school.", "self_harm", "low"),
        ("I cut myself last night.", "self_harm", "moderate"),
        ("I cut myself so deep I needed stitches.", "self_harm", "high"),
        ("I'm going to kill him.", "harm_to_others", "high"),
        ("I drive past her house every night.", "harm_to_others", "moderate"),
        ("I could kill him sometimes.", "harm_to_others", "low"),
        ("I've been drinking a bit more than usual.", "substance_use", "low"),
        ("I've been drinking every night.", "substance_use", "moderate"),
        ("I drink first thing in the morning to stop the shakes.", "substance_use", "high"),
        ("My husband hit me last week.", "abuse_or_neglect", "high"),
        ("My dad used to hit me when I was a kid.", "abuse_or_neglect", "low"),
        ("Sometimes I leave the kids home alone.", "abuse_or_neglect", "moderate"),
    ],
)
def test_severity_rules(text: str, type_: str, severity: str) -> None:
    flags, _ = detect_risks([seg(text)])
    got = [f for f in flags if f.type == type_]
    assert got and got[0].severity == severity, (got[0].severity if got else None, got[0].rationale if got else "")


def test_context_plan_raises_passive_ideation() -> None:
    segs = [
        seg("Sometimes I think everyone would be better off without me.", start=10),
        seg("I've been saving up my sleeping pills.", start=20),
    ]
    flags, _ = detect_risks(segs)
    si = [f for f in flags if f.type == "suicidal_ideation"]
    assert si and si[0].severity == "high" and "means" in si[0].rationale


def test_denied_plan_does_not_raise() -> None:
    segs = [
        seg("Sometimes I think everyone would be better off without me.", start=10),
        seg("I don't have a plan and I don't keep pills at home.", start=20),
    ]
    flags, _ = detect_risks(segs)
    assert [f.severity for f in flags if f.type == "suicidal_ideation"] == ["moderate"]


# --- direct questions answered yes or no -----------------------------------------------------------


@pytest.mark.parametrize("roles", [("therapist", "client"), (None, None)])
def test_yes_to_a_direct_question_is_a_flag(roles: tuple[str | None, str | None]) -> None:
    segs = [
        seg("Have you had thoughts of killing yourself?", roles[0], start=0, speaker="SPEAKER_00"),
        seg("Yes, sometimes.", roles[1], start=4, speaker="SPEAKER_01"),
    ]
    flags, denials = detect_risks(segs)
    assert [(f.type, f.quote) for f in flags] == [("suicidal_ideation", "Yes, sometimes.")]
    assert flags[0].start == 4 and denials == []


@pytest.mark.parametrize("roles", [("therapist", "client"), (None, None)])
def test_no_to_a_direct_question_is_a_denial(roles: tuple[str | None, str | None]) -> None:
    segs = [
        seg("Have you thought about hurting yourself?", roles[0], start=0, speaker="SPEAKER_00"),
        seg("No, never.", roles[1], start=4, speaker="SPEAKER_01"),
    ]
    flags, denials = detect_risks(segs)
    assert flags == []
    assert [(d.type, d.quote) for d in denials] == [("self_harm", "No, never.")]


def test_partial_answer_with_passive_ideation_is_a_flag_not_a_denial() -> None:
    segs = [
        seg("Are you having thoughts of ending your life?", "therapist", start=0),
        seg("Not really. More like I wish I could fall asleep and not wake up.", "client", start=5),
    ]
    flags, denials = detect_risks(segs)
    assert [f.type for f in flags] == ["suicidal_ideation"]
    assert flags[0].quote == "More like I wish I could fall asleep and not wake up."
    assert denials == []


# --- sentences, quotes and times -------------------------------------------------------------------


def test_quote_is_the_sentence_within_a_longer_segment() -> None:
    s = Segment(
        start=0.0,
        end=9.0,
        speaker="SPEAKER_01",
        role="client",
        text="Work has been awful. I want to die. Anyway, the weekend was fine.",
    )
    flags, _ = detect_risks([s])
    assert len(flags) == 1
    f = flags[0]
    assert f.quote == "I want to die."
    assert 0.0 < f.start < f.end < 9.0


def test_sentence_spanning_two_segments_is_joined() -> None:
    segs = [
        Segment(start=1.0, end=3.0, speaker="SPEAKER_01", role="client", text="Sometimes I think everyone would be"),
        Segment(start=3.2, end=5.0, speaker="SPEAKER_01", role="client", text="better off without me."),
    ]
    flags, _ = detect_risks(segs)
    assert [(f.quote, f.start, f.end) for f in flags] == [
        ("Sometimes I think everyone would be better off without me.", 1.0, 5.0)
    ]


def test_times_come_from_words_when_present() -> None:
    words = [Word(start=2.0 + i, end=2.5 + i, word=w) for i, w in enumerate(["Fine.", "I", "want", "to", "die."])]
    s = Segment(start=2.0, end=7.5, speaker="SPEAKER_01", role="client", text="Fine. I want to die.", words=words)
    flags, _ = detect_risks([s])
    assert (flags[0].start, flags[0].end) == (3.0, 6.5)


def test_unpunctuated_text_splits_on_long_pauses() -> None:
    toks = ["work", "was", "fine", "i", "guess", "i", "just", "want", "to", "die"]
    times = [0, 0.4, 0.8, 1.2, 1.6, 4.0, 4.4, 4.8, 5.2, 5.6]  # a 2 s pause before "i just"
    words = [Word(start=t, end=t + 0.3, word=" " + w) for t, w in zip(times, toks, strict=True)]
    s = Segment(start=0, end=6, speaker="SPEAKER_01", role="client", text=" ".join(toks), words=words)
    sents = split_sentences([s])
    assert [x.text for x in sents] == ["work was fine i guess", "i just want to die"]
    flags, _ = detect_risks([s])
    assert [f.quote for f in flags] == ["i just want to die"]


def test_only_client_sentences_in_a_mixed_session_are_flagged() -> None:
    segs = [
        seg("Do you ever wish you were dead?", "therapist", start=0, speaker="SPEAKER_00"),
        seg("I wish I was dead most days.", "client", start=4),
        seg(
            "Thank you for telling me. I want to understand what makes you want to die.",
            "therapist",
            start=8,
            speaker="SPEAKER_00",
        ),
    ]
    flags, _ = detect_risks(segs)
    assert [f.quote for f in flags] == ["I wish I was dead most days."]


def test_normalise_repairs_common_asr_spellings() -> None:
    assert normalise("I dont want to hurt my self, im tired") == "i don't want to hurt myself i'm tired"


def test_phrase_suite_sizes() -> None:
    """Guards against the suites silently shrinking."""
    assert sum(len(v) for v in POSITIVE.values()) >= 60
    assert all(len(v) >= 10 for v in POSITIVE.values())
    assert len(NEGATED) >= 20 and len(THERAPIST) >= 10 and len(THIRD_PERSON) >= 10
