"""Risk detection on the kinds of talk real counselling conversations have (issue 11): everyday words that
look like risk, drug slang and routes, client questions, answers to screening questions, minimised use,
neglect of a dependent adult. Phrases are written for the rules, not copied from the dev gold."""

from __future__ import annotations

import pytest

from therapybridge.document import Segment
from therapybridge.domain.risk import detect_risks


def dialog(*turns: tuple[str, str]) -> list[Segment]:
    segs, t = [], 0.0
    for role, text in turns:
        d = 0.4 * len(text.split())
        spk = "SPEAKER_00" if role == "T" else "SPEAKER_01"
        segs.append(Segment(start=t, end=t + d, speaker=spk, role="therapist" if role == "T" else "client", text=text))
        t += d + 0.5
    return segs


def types(*turns: tuple[str, str]) -> set[str]:
    return {f.type for f in detect_risks(dialog(*turns))[0]}


EVERYDAY = [
    "I need to cut back on the fruit juice.",
    "I should cut, you know, stop eating so much sugar.",
    "I got high cholesterol and my doctor is worried.",
    "My blood pressure was high at the last visit.",
    "I was just killing time at the mall.",
    "I hurt my knee playing football.",
    "My joints ache every morning, especially my knees.",
    "I got my flu shots last week.",
    "I drink a lot of water during the day.",
    "I smoke about a pack a day.",
    "We made a big pot of soup.",
    "I had a glass of wine at dinner on Saturday.",
    "I'm afraid of needles.",
    "My diabetes drugs make me tired.",
]


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_words_are_not_risk(text: str) -> None:
    assert types(("C", text)) == set()


DRUG_TALK = [
    "When I shoot up my anxiety goes away.",
    "I'm scared of accidentally overdosing.",
    "Pot just helps me calm my nerves.",
    "I smoke weed most days after work.",
    "I've been using meth on weekends.",
    "I take more of my pain pills than the doctor said.",
    "I was kind of drunk when it happened.",
    "I started using again after the funeral.",
    "Honestly I get high before school.",
]


@pytest.mark.parametrize("text", DRUG_TALK)
def test_drug_slang_routes_and_misuse_are_flagged(text: str) -> None:
    assert "substance_use" in types(("C", text))


def test_injecting_is_high_severity() -> None:
    flags, _ = detect_risks(dialog(("C", "I've been shooting up heroin every day.")))
    assert [f.severity for f in flags] == ["high"]


def test_a_client_question_is_not_a_disclosure_and_the_answer_is_a_denial() -> None:
    flags, denials = detect_risks(
        dialog(
            ("T", "Have you had any thoughts of ending your life?"),
            ("C", "What, like suicidal?"),
            ("T", "Yes."),
            ("C", "No. I would never do that."),
        )
    )
    assert flags == []
    assert [d.type for d in denials] == ["suicidal_ideation"]
    assert "never" in denials[0].quote


def test_an_amount_answering_a_screening_question_is_a_flag() -> None:
    flags, denials = detect_risks(
        dialog(("T", "On a typical Friday, how many drinks do you have?"), ("C", "Seven, maybe eight."))
    )
    assert [f.type for f in flags] == ["substance_use"] and denials == []
    assert flags[0].quote.startswith("Seven")


def test_not_really_with_an_amount_is_use_not_a_denial() -> None:
    flags, denials = detect_risks(
        dialog(("T", "Do you drink at parties?"), ("C", "Not really. Maybe one or two drinks at the most."))
    )
    assert [f.type for f in flags] == ["substance_use"] and denials == []


def test_minimised_drinking_is_not_a_denial() -> None:
    flags, denials = detect_risks(
        dialog(
            ("T", "Tell me about your drinking."),
            ("C", "I don't drink that much, just on weekends with friends."),
            ("C", "Maybe four or five beers on a Saturday."),
        )
    )
    assert "substance_use" in {f.type for f in flags}
    assert denials == []


def test_denied_drugs_beside_flagged_drinking_is_kept() -> None:
    flags, denials = detect_risks(
        dialog(
            ("T", "How much do you drink in a week?"),
            ("C", "About twenty drinks a week, mostly on weekends."),
            ("T", "Do you use any street drugs?"),
            ("C", "No, I don't use drugs."),
        )
    )
    assert [f.type for f in flags] == ["substance_use"]
    assert [d.type for d in denials] == ["substance_use"]


def test_plans_not_to_drink_are_not_denials() -> None:
    _, denials = detect_risks(dialog(("C", "At the next party I'll just not have a drink at all.")))
    assert denials == []


def test_neglect_of_a_dependent_adult_by_a_caregiver() -> None:
    text = "She went without her pills on those days because I forgot to pick them up."
    assert types(("C", text)) == {"abuse_or_neglect"}
    assert types(("C", "I didn't give my mother her medication for three days.")) == {"abuse_or_neglect"}


def test_other_peoples_use_is_not_the_clients() -> None:
    assert types(("C", "My dad drinks a lot and it scares me.")) == set()


def test_it_is_not_like_is_a_denial() -> None:
    flags, denials = detect_risks(dialog(("C", "It's not like I'm out killing people or anything.")))
    assert flags == [] and [d.type for d in denials] == ["harm_to_others"]


def test_coffee_is_not_a_substance_answer() -> None:
    flags, _ = detect_risks(dialog(("T", "How much coffee do you drink?"), ("C", "I have about four cups a day.")))
    assert flags == []


def test_someone_else_in_a_relative_clause() -> None:
    assert types(("C", "I have family members who drink a lot more than that per day.")) == set()


def test_naming_alcohol_without_drinking_it() -> None:
    assert types(("C", "I was just in charge of the wine."), ("C", "I'll look for some better wine.")) == set()


def test_an_accidental_injury_is_not_self_harm() -> None:
    assert types(("C", "If I move around I'll really fall and hurt myself.")) == set()


def test_weeding_out_and_taking_medication_are_not_drugs() -> None:
    assert types(("C", "I want to weed out the people who are bad for me.")) == set()
    assert types(("C", "I'm pretty good at taking my drugs for the diabetes.")) == set()


def test_a_yes_to_having_tried_a_named_drug() -> None:
    flags, _ = detect_risks(dialog(("T", "So you tried oxy?"), ("C", "Yeah.")))
    assert [f.type for f in flags] == ["substance_use"]


def test_it_refers_back_to_a_named_drug() -> None:
    assert types(("C", "My cousin had some meth at the party."), ("C", "So I tried it.")) == {"substance_use"}
    assert types(("C", "My cousin had some meth at the party."), ("C", "I never tried it.")) == set()
