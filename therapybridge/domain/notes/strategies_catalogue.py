"""The catalogue of techniques, as data: each technique's trigger phrases, category and plain description,
and how to name the specific variant from the talk around it (e.g. which feared situation an exposure
targets). strategies.py decides how a session used them (introduced, practiced, reviewed)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from therapybridge.domain.notes.text import _rx, window
from therapybridge.domain.risk import Sentence


@dataclass(frozen=True)
class Technique:
    key: str
    name: str
    category: str
    pattern: re.Pattern[str]
    plain: str  # for the client: what it is, without jargon
    superseded_by: tuple[str, ...] = ()  # a more specific entry that replaces this one when both appear
    namer: Callable[[list[Sentence], list[int]], str] | None = None  # a more specific name from context


_FEARED = _rx(
    r"trains?",
    r"buses",
    r"bus",
    r"subway",
    r"tube",
    r"planes?",
    r"flying",
    r"driving",
    r"elevators?",
    r"lifts?",
    r"crowds?",
    r"supermarkets?",
    r"grocery stores?",
    r"shopping",
    r"parties",
    r"public speaking",
    r"dogs",
    r"heights",
    r"needles",
    r"escalators?",
    r"highways?",
    r"motorways?",
    r"bridges?",
    r"social situations",
)
_EMOTIONS = {
    "anger": _rx(r"angry", r"anger", r"mad", r"furious", r"rage"),
    "anxiety": _rx(r"anxious", r"anxiety", r"nervous", r"worried", r"worry"),
    "mood": _rx(r"mood"),
    "distress": _rx(r"distress\w*", r"upset"),
    "craving": _rx(r"crav\w*", r"urges?"),
}
_SUBSTANCE_WORD = _rx(r"drink\w*", r"alcohol", r"beers?", r"wine", r"smok\w*", r"weed", r"using", r"gambl\w*")
_PSYCHOED_TOPICS = [
    ("panic", _rx(r"panic( attacks?)?")),
    ("anxiety", _rx(r"anxiety", r"anxious", r"nervous system", r"fight or flight")),
    ("alcohol withdrawal", _rx(r"stopping suddenly", r"withdrawal")),
    ("low mood", _rx(r"mood is low", r"low mood", r"depress\w*")),
    ("sleep", _rx(r"sleep", r"insomnia")),
    ("perfectionism", _rx(r"perfectionism")),
    ("anger", _rx(r"anger", r"angry")),
    ("trauma", _rx(r"trauma\w*", r"flashbacks?")),
    ("grief", _rx(r"grief", r"grieving")),
]
_PSYCHOED_CUE = _rx(
    r"what you're describing (?:sounds like|is)",
    r"that sounds like (?:a |an )?panic",
    r"is (?:really |very )?common",
    r"are (?:really |very )?common",
    r"a lot of people",
    r"your body's alarm",
    r"fight or flight",
    r"aren't dangerous",
    r"isn't dangerous",
    r"sends? a signal",
    r"keep the cycle going",
    r"the basic idea is",
    r"it's normal",
    r"is normal",
    r"can be physically risky",
    r"is called",
)


def _name_exposure(sents: list[Sentence], idx: list[int]) -> str:
    m = _FEARED.search(window(sents, idx))
    return f"gradual exposure to the {m.group(0)}" if m else "gradual exposure"


def _name_rating(sents: list[Sentence], idx: list[int]) -> str:
    text = window(sents, idx, 1, 1)
    for emo, rx in _EMOTIONS.items():
        if rx.search(text):
            return f"{emo} rating from zero to ten"
    return "rating scale from zero to ten"


def _name_pros_cons(sents: list[Sentence], idx: list[int]) -> str:
    text = window(sents, idx, 4, 2)
    m = _SUBSTANCE_WORD.search(text)
    if m:
        word = m.group(0)
        word = "drinking" if word.startswith("drink") or word in ("alcohol", "beer", "beers", "wine") else word
        return f"pros and cons of {word}"
    return "pros and cons"


def _name_assertive(sents: list[Sentence], idx: list[int]) -> str:
    return "assertive communication script" if "script" in window(sents, idx, 1, 3) else "assertive communication"


def _name_distortion(sents: list[Sentence], idx: list[int]) -> str:
    m = _DISTORTION.search(" ".join(sents[i].norm for i in idx))
    if not m:
        return "identifying thinking traps"
    name = m.group(0)
    return f"identifying {name} thinking" if name in ("all or nothing", "black and white") else f"identifying {name}"


def _name_delay(sents: list[Sentence], idx: list[int]) -> str:
    text = window(sents, idx, 3, 1)
    m = re.search(r"\b(email|phone|social media|news|messages|texts)\b", text)
    thing = m.group(1) if m else "phone"
    return f"delaying morning {thing}" if "morning" in text else f"delaying checking {thing}"


def _name_psychoed(sents: list[Sentence], idx: list[int]) -> str:
    text = window(sents, idx, 1, 1)
    for topic, rx in _PSYCHOED_TOPICS:
        if rx.search(text):
            return f"psychoeducation about {topic}"
    return "psychoeducation"


_DISTORTION = _rx(
    r"all or nothing thinking",
    r"black and white thinking",
    r"all or nothing",
    r"black and white",
    r"catastrophi[sz]\w*",
    r"mind reading",
    r"fortune telling",
    r"overgenerali[sz]\w*",
    r"should statements",
    r"emotional reasoning",
    r"personali[sz]ation",
    r"labell?ing",
    r"thinking traps?",
    r"cognitive distortions?",
)


def _tech(key: str, name: str, category: str, plain: str, *alts: str, **kw: object) -> Technique:
    return Technique(key, name, category, _rx(*alts), plain, **kw)  # type: ignore[arg-type]


CATALOGUE: list[Technique] = [
    _tech(
        "box_breathing",
        "box breathing",
        "relaxation",
        "a slow 4-count breathing exercise to calm your body",
        r"box breathing",
        r"square breathing",
        r"four square breathing",
    ),
    _tech(
        "breathing",
        "paced breathing",
        "relaxation",
        "slow breathing to help your body settle",
        r"diaphragmatic breathing",
        r"belly breathing",
        r"paced breathing",
        r"breathing exercises?",
        r"deep breathing",
        r"four seven eight breathing",
        superseded_by=("box_breathing",),
    ),
    _tech(
        "pmr",
        "progressive muscle relaxation",
        "relaxation",
        "tensing and relaxing your muscles one at a time",
        r"progressive muscle relaxation",
        r"tense and (?:then )?relax",
        r"muscle relaxation",
    ),
    _tech(
        "grounding_54321",
        "five four three two one grounding",
        "grounding",
        "the 5-4-3-2-1 exercise: naming things you can see, feel, hear, smell and taste",
        r"five four three two one",
        r"5 4 3 2 1",
        r"name five things you can see",
    ),
    _tech(
        "grounding",
        "grounding",
        "grounding",
        "grounding yourself in the present moment",
        r"grounding (?:exercise|technique|skill)s?",
        r"ground yourself",
        superseded_by=("grounding_54321",),
    ),
    _tech(
        "mindfulness",
        "mindfulness",
        "mindfulness",
        "paying gentle attention to the present moment",
        r"mindful(?:ness)?",
        r"body scan",
        r"(?:guided )?meditation (?:exercise|practice|technique|app)s?",
        r"(?:try|practi[cs]e|do) (?:a |some )?meditation",
    ),
    _tech(
        "thought_records",
        "thought records",
        "cognitive",
        "writing down upsetting thoughts and looking at the evidence for and against them",
        r"thought records?",
        r"thought diary",
        r"thought log",
        r"balanced thought",
        r"evidence columns?",
    ),
    _tech(
        "restructuring",
        "cognitive restructuring",
        "cognitive",
        "looking for more balanced ways to see things",
        r"cognitive restructuring",
        r"reframe",
        r"reframing",
        r"challeng\w+ (?:the|that|those|your) thoughts?",
        r"alternative (?:thought|explanation)s?",
        superseded_by=("thought_records",),
    ),
    _tech(
        "distortions",
        "identifying thinking traps",
        "cognitive",
        "spotting unhelpful thinking patterns",
        r"all or nothing(?: thinking)?",
        r"black and white thinking",
        r"catastrophi[sz]\w*",
        r"mind reading",
        r"fortune telling",
        r"overgenerali[sz]\w*",
        r"should statements",
        r"emotional reasoning",
        r"thinking traps?",
        r"cognitive distortions?",
        namer=_name_distortion,
    ),
    _tech(
        "behavioral_activation",
        "behavioral activation",
        "behavioral",
        "planning small, doable activities that can lift your mood",
        r"behaviou?ral activation",
        r"activity scheduling",
        r"plan small activities",
        r"schedule (?:some )?pleasant activities",
    ),
    _tech(
        "activity_log",
        "activity and mood log",
        "self-monitoring",
        "keeping a simple log of activities and how they felt",
        r"activ(?:ity|ities|ation) (?:log|diary|record)",
        r"mood (?:log|diary|tracker|chart)",
    ),
    _tech(
        "behavioral_experiment",
        "behavioral experiment",
        "behavioral",
        "a small real-life test of what actually happens",
        r"behaviou?ral experiments?",
        r"small experiment",
        r"(?:the|an|this) (?:email )?experiment",
        r"test (?:the|that|your) prediction",
        r"write that prediction down",
    ),
    _tech(
        "exposure",
        "gradual exposure",
        "exposure",
        "facing a feared situation step by step",
        r"(?:gradual|graded|exposure) (?:exposure|therapy|exercises?|hierarchy|ladder|practice)",
        r"exposure (?:to|with) (?:the |your |that )?(?:fear|feared|situation|trigger|anxiety|panic)",
        r"work (?:our way )?up to (?:that|it)(?: gradually)?",
        r"fear ladder",
        r"fear hierarchy",
        r"step by step",
        namer=_name_exposure,
    ),
    _tech(
        "sleep_hygiene",
        "sleep hygiene",
        "sleep",
        "habits that make good sleep more likely",
        r"sleep hygiene",
        r"(?:consistent|same|regular) (?:wake up|wake|waking|bed) time",
        r"bed for sleep only",
        r"cut(?:ting)? off caffeine",
    ),
    _tech(
        "stimulus_control",
        "getting out of bed when unable to sleep (stimulus control)",
        "sleep",
        "getting up for a while when you can't sleep, and going back to bed when sleepy",
        r"stimulus control",
        r"get up go to another room",
        r"awake for what feels like",
        r"get out of bed (?:if|when) you can't sleep",
        r"the getting up thing",
    ),
    _tech(
        "sleep_restriction",
        "sleep restriction",
        "sleep",
        "matching time in bed to the sleep you actually get",
        r"sleep restriction",
        r"sleep window",
    ),
    _tech(
        "sleep_diary",
        "sleep diary",
        "self-monitoring",
        "writing down when and how you slept",
        r"sleep diary",
        r"sleep log",
    ),
    _tech(
        "safety_planning",
        "safety planning",
        "safety",
        "a written plan for hard moments: warning signs, what helps, and who to contact",
        r"safety plan(?:ning)?",
        r"crisis plan",
    ),
    _tech(
        "means_safety",
        "means safety check",
        "safety",
        "making home safer on difficult nights",
        r"anything at home that you'd be worried about",
        r"lock (?:up|away) (?:the|your|any) (?:medication|pills"
        r"|guns?|firearms?)",
        r"means restriction",
    ),
    _tech(
        "self_soothing",
        "self-soothing activities",
        "coping",
        "calming things you can do on your own",
        r"self sooth\w*",
        r"soothe yourself",
        r"what could you do on your own",
        r"comfort yourself",
        r"coping (?:skills|strategies|activities)",
    ),
    _tech(
        "social_support",
        "reaching out to supports",
        "coping",
        "people you can reach out to",
        r"who could you reach out to",
        r"reach out to",
        r"support (?:network|system)",
        r"people you trust",
    ),
    _tech(
        "i_statements",
        "I statements",
        "communication",
        "saying how you feel and what you need, instead of blaming",
        r"(?:i|eye|ice|aye) statements?",
    ),
    _tech(
        "time_out",
        "time out during heated arguments",
        "communication",
        "agreeing to pause a heated argument and come back to it calmer",
        r"time outs?",
        r"timeouts?",
        r"pause for (?:\w+ )?minutes",
    ),
    _tech(
        "check_in",
        "weekly check in",
        "communication",
        "a short regular talk before problems build up",
        r"(?:weekly|regular|short weekly) check(?: ?ins?)?",
        r"check in (?:about|on) (?:the )?chores",
    ),
    _tech(
        "assertive",
        "assertive communication",
        "communication",
        "planning calm, clear words for a difficult conversation",
        r"assertive\w*",
        r"assertiveness",
        r"plan what you'd say",
        r"write out what you want to say",
        namer=_name_assertive,
    ),
    _tech(
        "role_play",
        "role-play",
        "skills practice",
        "practising a conversation together",
        r"role ?play\w*",
        r"i'll play your",
    ),
    _tech(
        "rating",
        "rating scale from zero to ten",
        "self-monitoring",
        "rating things on a scale",
        r"(?:on a )?scale (?:from|of) (?:zero|0|one|1) to (?:ten|10)",
        r"rat(?:e|ing) (?:your|my) (?:anger|anxiety|mood|distress)(?: level)?(?: from (?:zero|0) to (?:ten|10))?",
        r"(?:anxiety|anger) level from zero to ten",
        namer=_name_rating,
    ),
    _tech(
        "pros_cons",
        "pros and cons",
        "motivational",
        "weighing the good and not-so-good sides",
        r"pros and cons",
        r"decisional balance",
        r"costs and benefits",
        namer=_name_pros_cons,
    ),
    _tech(
        "drink_diary",
        "drink diary",
        "self-monitoring",
        "writing down what and how much you drink, and when",
        r"drink(?:ing)? diary",
        r"drink log",
        r"track (?:your|how many) drinks",
    ),
    _tech(
        "values",
        "values clarification",
        "motivational",
        "naming what matters most to you",
        r"what matters most",
        r"your values",
        r"what's important to you",
    ),
    _tech(
        "dbt",
        "DBT skills",
        "DBT",
        "skills for handling strong emotions",
        r"dbt",
        r"distress tolerance",
        r"opposite action",
        r"wise mind",
        r"radical acceptance",
        r"dear man",
        r"emotion regulation skills?",
        r"tipp skills?",
    ),
    _tech(
        "problem_solving",
        "problem solving",
        "behavioral",
        "breaking a problem into steps and options",
        r"problem solving",
        r"brainstorm (?:some )?(?:options|solutions)",
    ),
    _tech(
        "worry_time",
        "scheduled worry time",
        "cognitive",
        "setting aside a short time for worries",
        r"worry time",
        r"scheduled worry",
        r"worry period",
    ),
    _tech(
        "relapse_prevention",
        "relapse prevention",
        "relapse prevention",
        "planning for risky moments",
        r"relapse prevention",
        r"high risk situations",
    ),
    _tech(
        "delay_checking",
        "delaying checking",
        "behavioral",
        "waiting a while before checking messages",
        r"(?:wait|waiting) until after breakfast",
        r"hold(?:ing)? off on (?:email|checking|your phone)",
        r"delay(?:ing)? (?:checking )?(?:email|your phone|social media|the news)",
        r"look at the email habit",
        namer=_name_delay,
    ),
    _tech(
        "psychoeducation",
        "psychoeducation",
        "psychoeducation",
        "learning how these reactions work",
        r"what you're describing (?:sounds like|is)",
        r"your body's alarm system",
        r"fight or flight",
        r"aren't dangerous",
        r"stopping suddenly after heavy drinking",
        namer=_name_psychoed,
    ),
]
