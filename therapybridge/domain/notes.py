"""Deterministic local notes: topics, mood, strategies, action items, therapist note, client summary.

Pure functions over the merged transcript (segments with roles); risk flags come from risk.py and
analytics from analytics.py. Nothing here logs or stores text anywhere.

Strategies come from a catalogue of evidence-based techniques (CATALOGUE): each entry has trigger
patterns, a category and a plain-language description for the client summary. Status rules:
"reviewed" when the session refers to it as earlier work ("last week you started the sleep diary"),
"practiced" when earlier work is also rehearsed in session ("let's practise it now"), else
"introduced". Action items come from assignment sentences ("for homework...", "I'd like you to...",
"could you...", the therapist's summary) and the client's own commitments ("I'll call the doctor
tomorrow"), split into single tasks and categorised homework / referral / safety / follow-up.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from therapybridge.document import ActionItem, Denial, ExtractedNotes, RiskFlag, Segment, Speaker, Strategy
from therapybridge.domain.analytics import session_analytics
from therapybridge.domain.risk import Sentence, detect_risks_in_sentences, split_sentences


def _rx(*alts: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alts) + r")\b")


# --------------------------------------------------------------------------------------------------
# Strategy catalogue
# --------------------------------------------------------------------------------------------------


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


def _window(sents: list[Sentence], idx: list[int], before: int = 2, after: int = 3) -> str:
    keep: set[int] = set()
    for i in idx:
        keep.update(range(max(0, i - before), min(len(sents), i + after + 1)))
    return " ".join(sents[i].norm for i in sorted(keep))


def _name_exposure(sents: list[Sentence], idx: list[int]) -> str:
    m = _FEARED.search(_window(sents, idx))
    return f"gradual exposure to the {m.group(0)}" if m else "gradual exposure"


def _name_rating(sents: list[Sentence], idx: list[int]) -> str:
    text = _window(sents, idx, 1, 1)
    for emo, rx in _EMOTIONS.items():
        if rx.search(text):
            return f"{emo} rating from zero to ten"
    return "rating scale from zero to ten"


def _name_pros_cons(sents: list[Sentence], idx: list[int]) -> str:
    text = _window(sents, idx, 4, 2)
    m = _SUBSTANCE_WORD.search(text)
    if m:
        word = m.group(0)
        word = "drinking" if word.startswith("drink") or word in ("alcohol", "beer", "beers", "wine") else word
        return f"pros and cons of {word}"
    return "pros and cons"


def _name_assertive(sents: list[Sentence], idx: list[int]) -> str:
    return "assertive communication script" if "script" in _window(sents, idx, 1, 3) else "assertive communication"


def _name_distortion(sents: list[Sentence], idx: list[int]) -> str:
    m = _DISTORTION.search(" ".join(sents[i].norm for i in idx))
    if not m:
        return "identifying thinking traps"
    name = m.group(0)
    return f"identifying {name} thinking" if name in ("all or nothing", "black and white") else f"identifying {name}"


def _name_delay(sents: list[Sentence], idx: list[int]) -> str:
    text = _window(sents, idx, 3, 1)
    m = re.search(r"\b(email|phone|social media|news|messages|texts)\b", text)
    thing = m.group(1) if m else "phone"
    return f"delaying morning {thing}" if "morning" in text else f"delaying checking {thing}"


def _name_psychoed(sents: list[Sentence], idx: list[int]) -> str:
    text = _window(sents, idx, 1, 1)
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
        r"meditat\w+",
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
        r"exposure",
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
        "rating how strong a feeling is from 0 to 10",
        r"(?:on a )?scale (?:from|of) (?:zero|0|one|1) to (?:ten|10)",
        r"rat(?:e|ing) (?:your|my) (?:anger|anxiety|mood|distress)(?: level)?(?: from (?:zero|0) to (?:ten|10))?",
        r"(?:anxiety|anger) level from zero to ten",
        namer=_name_rating,
    ),
    _tech(
        "pros_cons",
        "pros and cons",
        "motivational",
        "weighing the good and not-so-good sides of a habit",
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

_PRIOR = _rx(
    r"last (?:week|time|session)",
    r"since we last",
    r"you (?:started|agreed to try|tried|did|kept|were doing)",
    r"how did (?:that|it) go",
    r"we talked about",
    r"you've been (?:doing|practicing|practising|using|filling)",
    r"you mentioned",
    r"from last",
)
_PRACTICE = _rx(
    r"practi[cs]e it now",
    r"try it now",
    r"let's (?:try|practi[cs]e|do) (?:it|that|this)",
    r"i'll play",
    r"role ?play",
    r"would you be willing to practi[cs]e",
    r"using (?:\w+ )?as the example",
)


_NEW = _rx(r"introduce", r"new", r"something with you today", r"it's called", r"an approach called")


def _practice_near(sents: list[Sentence], i: int, mentioned: dict[int, set[str]]) -> bool:
    own = mentioned.get(i, set())
    for j in range(i, min(len(sents), i + 6)):
        if j > i and mentioned.get(j, set()) - own:
            return False  # another technique is being discussed now
        if _PRACTICE.search(sents[j].norm):
            return True
    return False


def find_strategies(sents: list[Sentence], marks: list[tuple[int, str]] | None = None) -> list[Strategy]:
    """Catalogue techniques used in the session; `marks` (if given) receives (sentence, name) mentions."""
    hits: dict[str, list[int]] = {}
    mentioned: dict[int, set[str]] = {}
    for s in sents:
        for tech in CATALOGUE:
            if tech.pattern.search(s.norm):
                hits.setdefault(tech.key, []).append(s.index)
                mentioned.setdefault(s.index, set()).add(tech.key)
    out: list[Strategy] = []
    for tech in CATALOGUE:
        idx = hits.get(tech.key)
        if not idx or any(k in hits for k in tech.superseded_by):
            continue
        # Earlier work when one of the first mentions itself points back ("last week you started the diary");
        # a mention that presents it as new ("I'd like to introduce ...") is never earlier work.
        first = idx[0]
        prior = any(_PRIOR.search(sents[i].norm) and not _NEW.search(sents[i].norm) for i in idx[:2])
        # Practised in session: a practice cue in the mention or the few sentences after it, before another
        # technique takes the floor.
        practiced = any(_practice_near(sents, i, mentioned) for i in idx)
        status = ("practiced" if practiced else "reviewed") if prior else "introduced"
        name = tech.namer(sents, idx) if tech.namer else tech.name
        by = "therapist" if any(sents[i].role == "therapist" for i in idx) else "client"
        when = _clock(sents[first].start)
        context = {
            "introduced": f"introduced at {when}" + ("; tried together in session" if practiced else ""),
            "practiced": f"from earlier work; practised in session at {when}",
            "reviewed": f"from earlier work; reviewed at {when}",
        }[status] + (f" (raised by the {by})" if by == "client" else "")
        out.append(Strategy(name=name, category=tech.category, status=status, context=context))
        if marks is not None and tech.category not in ("psychoeducation", "self-monitoring"):
            marks.extend((i, name) for i in idx)
    if marks is not None:
        marks.sort()
    return out


def _clock(t: float) -> str:
    m, s = divmod(round(t), 60)
    return f"{m}:{s:02d}"


# --------------------------------------------------------------------------------------------------
# Action items
# --------------------------------------------------------------------------------------------------

# Where a task starts: the last directive cue of a therapist sentence ("So for this week, how about X").
_DIRECTIVE = re.compile(
    r"\b(?:i'd (?:also )?like you to|i would (?:also )?like you to|i want you to|could you(?: also)?|can you(?: also)?"
    r"|would you be willing to|how about|please|you could(?: also)?|how would you feel about|let's|aim for|try to"
    r"|remember to|make sure (?:you|to)|for homework,?(?: i'd like you to)?|this week,|to sum up,?)\s+",
    re.I,
)
# A directive only counts when the sentence is about something to do outside the session (not "let's try it now").
_IN_SESSION = _rx(
    r"now",
    r"right now",
    r"today",
    r"together",
    r"tell me",
    r"with you today",
    r"look at one",
    r"go through",
    r"start by",
    r"describe",
    r"remember the structure",
)
_HOMEWORK_CUE = _rx(
    r"this week",
    r"for homework",
    r"homework",
    r"each day",
    r"every day",
    r"a day",
    r"twice",
    r"next time",
    r"next week",
    r"before (?:our|the) next",
    r"on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
    r"tonight",
    r"tomorrow",
    r"at home",
    r"in the morning",
    r"evenings?",
    r"keep",
    r"log",
    r"diary",
    r"record",
    r"to sum up",
    r"at least",
    r"between now and",
    r"in your phone",
)
_COMMIT = re.compile(
    r"^(?:(?:okay|ok|yes|yeah|and|so|sure|then|good|fine)[,.]?\s+)*(?:maybe\s+)?(?:i'll|i will|i'm going to"
    r"|i am going to|i can|i could)\s+(?P<rest>.+)$",
    re.I,
)
_MAYBE_DO = re.compile(
    r"^(?:(?:yes|yeah|okay|ok|and|then|so)[,.]?\s+)*maybe\s+(?P<rest>(?:[a-z]+ing|ask|call|text|go|try|take|look"
    r"|bring|send|write|use)\b.+)$",
    re.I,
)
_NOT_TASK = _rx(
    r"how does that sound",
    r"how did",
    r"what would",
    r"what might",
    r"what could",
    r"how long",
    r"do you remember",
    r"what do you",
    r"would you be open to",
    r"would you like to",
    r"it now",
    r"how angry",
    r"how do you feel",
    r"is that okay",
    r"what's one thing",
    r"which",
    r"tell me",
    r"keep that in mind",
    r"talk myself out",
    r"think less of me",
    r"end up",
    r"do that",
    r"do it",
    r"try it",
    r"handle",
    r"see how it goes",
    r"we'll talk",
    r"we'll look",
    r"we'll go over",
    r"the one from",
)
_IMPERATIVE = re.compile(
    r"^(?:(?:and|so|also|good|okay|ok|great|right)[,.]?\s+)*(?P<body>(?:keep|continue|write|practi[cs]e|remember to"
    r"|make sure to|bring|call|text)\b.+)$",
    re.I,
)
_WH_QUESTION = re.compile(
    r"^(?:(?:and|so|okay|now|then)[,.]?\s+)*(?:what|why|when|where|who|which|how(?! about| would you feel about))\b",
    re.I,
)
_VAGUE = frozenset({"thing", "things", "something", "stuff", "anything"})
_TASK_VERB = _rx(
    r"practi[cs]e\w*",
    r"keep\w*",
    r"writ\w+",
    r"wrote",
    r"rate",
    r"rating",
    r"tak\w+",
    r"try\w*",
    r"tri\w+",
    r"call\w*",
    r"text\w*",
    r"ride",
    r"riding",
    r"hold\w*",
    r"wait\w*",
    r"use",
    r"using",
    r"look\w*",
    r"suggest\w*",
    r"propos\w+",
    r"bring\w*",
    r"send\w*",
    r"stop\w*",
    r"cut\w*",
    r"charg\w+",
    r"get\w*",
    r"go",
    r"going",
    r"save",
    r"put",
    r"let",
    r"tell",
    r"ask\w*",
    r"make",
    r"plan\w*",
    r"note",
    r"jot\w*",
    r"continue",
    r"complete",
    r"walk\w*",
    r"read\w*",
    r"check\w*",
    r"add\w*",
    r"avoid\w*",
    r"skip\w*",
    r"limit\w*",
    r"schedule\w*",
    r"book\w*",
    r"see",
    r"visit\w*",
    r"attend\w*",
    r"join\w*",
    r"fill\w*",
    r"log\w*",
    r"track\w*",
    r"have",
    r"aim",
    r"wake",
    r"record\w*",
    r"bring\w*",
    r"share",
    r"talk",
    r"do",
    r"spend",
    r"join",
    r"reach",
)
_GERUND = {
    "practicing": "practice",
    "practising": "practise",
    "holding": "hold",
    "keeping": "keep",
    "writing": "write",
    "taking": "take",
    "riding": "ride",
    "using": "use",
    "getting": "get",
    "making": "make",
    "rating": "rate",
    "calling": "call",
    "texting": "text",
    "trying": "try",
    "bringing": "bring",
    "sending": "send",
    "stopping": "stop",
    "cutting": "cut",
    "charging": "charge",
    "going": "go",
    "saving": "save",
    "putting": "put",
    "telling": "tell",
    "asking": "ask",
    "planning": "plan",
    "noting": "note",
    "jotting": "jot",
    "walking": "walk",
    "reading": "read",
    "checking": "check",
    "adding": "add",
    "avoiding": "avoid",
    "skipping": "skip",
    "limiting": "limit",
    "scheduling": "schedule",
    "booking": "book",
    "seeing": "see",
    "filling": "fill",
    "logging": "log",
    "tracking": "track",
    "suggesting": "suggest",
    "proposing": "propose",
    "looking": "look",
    "waiting": "wait",
    "continuing": "continue",
    "completing": "complete",
    "having": "have",
    "aiming": "aim",
    "waking": "wake",
    "recording": "record",
    "sharing": "share",
    "talking": "talk",
    "doing": "do",
    "spending": "spend",
    "joining": "join",
    "reaching": "reach",
    "letting": "let",
}
_SAFETY = _rx(
    r"crisis line",
    r"emergency room",
    r"emergency",
    r"911",
    r"988",
    r"safety plan",
    r"hotline",
    r"feel (?:very )?(?:shaky|unsafe)",
    r"nearest hospital",
    r"crisis",
)
_REFERRAL = _rx(
    r"doctor",
    r"gp",
    r"physician",
    r"psychiatrist",
    r"specialist",
    r"clinic",
    r"support group",
    r"aa",
    r"alcoholics anonymous",
    r"refer\w*",
    r"dietitian",
    r"appointment",
)
_FOLLOWUP = _rx(
    r"check in with you",
    r"therapist to",
    r"call you",
    r"bring [a-z ]*(?:next (?:time|session)|to (?:our |the )?next)",
    r"follow up",
    r"sooner than usual",
)
_VERBS_ALT = "|".join(sorted(set(_GERUND) | set(_GERUND.values()), key=len, reverse=True))
_SPLIT_ITEM = re.compile(
    rf",\s*(?:and\s+|or\s+)?(?=(?:a|an|the|then|also|and|one|two|three|i'll|i will|{_VERBS_ALT})\b)"
    rf"|\s+and\s+(?=(?:{_VERBS_ALT})\b)|;\s*",
    re.I,
)
_PURPOSE_TAIL = re.compile(
    r",?\s+(?:so (?:that )?(?:we|she|he|they|you|it)|just to see|too|(?:right )?now$)\b.*$", re.I
)
_CHOICE_Q = _rx(
    r"which (?:ones?|of these) (?:feel|seem|sound|would you like to try|could you)",
    r"what's one thing",
    r"what would (?:a )?first step",
    r"what could you try",
    r"what feels (?:most )?doable",
    r"most doable",
)
_ABOUT_Q = re.compile(r"\bwhat about (?:a |the |your )?(?P<x>[a-z ]{3,30}?)\s*\?", re.I)
_SHOULD_I = re.compile(r"^(?:so |and |but )?(?:should i|so i should|do i need to|i should)\s+(?P<x>.+?)\??$", re.I)
_YES_START = re.compile(r"^(?:yes|yeah|yep|exactly|right|definitely|please)\b[,.!]?\s*", re.I)
_FOLLOW_OFFER = re.compile(
    r"\b(?:could|can|shall|may) i (?P<v>call|text|phone|check in with|see) you(?P<rest>[^?.!]*)", re.I
)
_SPECIFICS = re.compile(
    r"\b(?:on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|tonight|tomorrow(?: morning| evening)?"
    r"|this weekend|every day|each day)\b|\bmy (?P<who>sister|brother|mom|mother|dad|father|partner|wife|husband"
    r"|friend|son|daughter) (?:could|can|will|would) (?:come|do it|join)\b|\bwith my (?P<with>sister|brother|mom"
    r"|mother|dad|father|partner|wife|husband|friend|son|daughter)\b",
    re.I,
)
_KIN_MENTION = re.compile(
    r"\b(?:my|your|the|his|her) (?P<k>partner|husband|wife|boyfriend|girlfriend|boss|manager|sister|brother|mom"
    r"|mother|dad|father|friend|doctor|roommate|son|daughter)\b",
    re.I,
)
_STOP = frozenset(
    str.split(
        "a an the to of and or in on at for with your you my i me it its this that these those be is are was were "
        "will would can could should do does did have has had so just also some any each very really maybe please "
        "like then there their them they he she we us our his her"
    )
)


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in _STOP}


def _clean_task(text: str) -> str:
    t = text.strip().strip(",.;:!? ")
    t = re.sub(r"^(?:(?:and|so|also|then|just|okay|ok|yes|but)[,.]?\s+)+", "", t, flags=re.I)
    t = re.sub(r"^(?:i'd (?:also )?like you to|try to|please|let's|i'll|i will)\s+", "", t, flags=re.I)
    t = _PURPOSE_TAIL.sub("", t).strip(",.;:!? ")
    words = t.split()
    if words and words[0].lower() in _GERUND:
        words[0] = _GERUND[words[0].lower()]
    t = " ".join(words)
    return t[:1].lower() + t[1:] if not t.startswith("I ") else t


def _category(text: str) -> str:
    n = text.lower()
    if _SAFETY.search(n):
        return "safety"
    if _FOLLOWUP.search(n):
        return "follow-up"
    if _REFERRAL.search(n):
        return "referral"
    return "homework"


def _strip_cues(text: str) -> str:
    t = text.strip()
    while (m := _DIRECTIVE.match(t)) is not None and not m.group(0).lower().startswith("aim for"):
        t = t[m.end() :]
    return t


def _split_tasks(body: str) -> list[str]:
    """Split "A, B, and C" into single tasks; fragments ("once before the meeting") stay with their task."""
    out: list[str] = []
    for p in _SPLIT_ITEM.split(body):
        if not p or not p.strip(" ,."):
            continue
        task = _clean_task(_strip_cues(_clean_task(p)))
        first = task.split(" ", 1)[0].lower() if task else ""
        ok_start = bool(_TASK_VERB.fullmatch(first)) or first in ("a", "an", "the", "one", "two", "three")
        if ok_start and len(_content(task)) >= 2 and not _NOT_TASK.search(task.lower()):
            out.append(task)
        elif out and task and not ok_start:
            out[-1] = f"{out[-1]}, {task}"
    return out


@dataclass
class _Item:
    task: str
    who: str  # therapist | client
    time: float
    sentence: int


def _recent(marks: list[tuple[int, str]], i: int, span: int = 40) -> str | None:
    names = [n for j, n in marks if i - span <= j <= i]
    return names[-1] if names else None


def _resolve(task: str, sents: list[Sentence], i: int, marks: list[tuple[int, str]]) -> str:
    """Make a task stand alone: "practice it" → the strategy in play; "him" → who was last named."""
    m = re.match(r"(?i)(practi[cs]e|use|try)\b(\s+(?:it|that|this|even|once|twice|every|when|at|in|for)\b|$)", task)
    strategy = _recent(marks, i)
    if m and strategy:
        rest = task[m.end(1) :]
        rest = re.sub(r"^\s+(?:it|that|this)\b", "", rest)
        task = f"{m.group(1)} {strategy}{rest}"
    if re.search(r"\b(?:that|the) number\b", task) and re.search(r"crisis line", _window(sents, [i], 3, 0)):
        task = re.sub(r"\b(?:that|the) number\b", "the crisis line number", task)
    if re.search(r"\b(?:him|her)\b", task):
        for j in range(i, max(-1, i - 20), -1):
            k = _KIN_MENTION.findall(sents[j].text)
            if k:
                task = re.sub(r"\b(him|her)\b", rf"\1 ({k[-1].lower()})", task, count=1)
                break
    return task


def _specifics(text: str) -> str:
    """Day, time and companion the client names when agreeing ("My sister could come with me on Sunday")."""
    bits = []
    for m in _SPECIFICS.finditer(text):
        who = m.group("who") or m.group("with")
        bits.append(f"with {who.lower()}" if who else m.group(0).lower())
    return ", ".join(dict.fromkeys(bits))


def _next_turn(sents: list[Sentence], i: int) -> list[Sentence]:
    later = [o for o in sents[i + 1 :] if o.turn != sents[i].turn]
    if not later or later[0].start - sents[i].end > 15.0:
        return []
    return [o for o in later if o.turn == later[0].turn]


def find_action_items(sents: list[Sentence], marks: list[tuple[int, str]] | None = None) -> list[ActionItem]:
    """Homework, referrals, safety steps and follow-ups agreed in the session, one task each."""
    marks = marks or []
    items: list[_Item] = []

    def add(task: str, who: str, i: int) -> None:
        task = _resolve(task, sents, i, marks)
        words = [w for w in re.findall(r"[a-z0-9']+", task.lower()) if w not in _STOP and w not in _VAGUE]
        if _TASK_VERB.fullmatch(words[0] if words else ""):
            words = words[1:]
        if len(words) >= 2:  # "try seven" or "do that" alone is not a task
            items.append(_Item(task, who, sents[i].start, i))

    for i, s in enumerate(sents):
        text = s.text.strip()
        prev = sents[i - 1] if i else None
        prev_t = prev is not None and prev.role != "client" and prev.turn != s.turn
        client = s.role == "client" or (s.role is None and bool(_COMMIT.match(text) or _MAYBE_DO.match(text)))
        if client:
            m = _COMMIT.match(text) or _MAYBE_DO.match(text)
            if m:
                for task in _split_tasks(m.group("rest")):
                    add(task, "client", i)
            elif prev_t and prev is not None and _CHOICE_Q.search(prev.norm):
                for task in _split_tasks(re.sub(r"^(?:maybe|probably)\s+", "", text, flags=re.I)):
                    add(task, "client", i)
            elif (
                prev_t
                and prev is not None
                and (q := _ABOUT_Q.search(prev.text))
                and re.search(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+)\b", s.norm)
            ):
                answer = re.sub(r"^(?:maybe|probably|about)\s+", "", text.strip(" .?!"), flags=re.I)
                add(f"{q.group('x').strip()} at {answer}", "client", i)
            continue
        # Therapist (or unknown) speech.
        if (f := _FOLLOW_OFFER.search(text)) is not None:
            add(f"therapist to {f.group('v').lower()} the client{f.group('rest').rstrip()}", "therapist", i)
            continue
        q = _SHOULD_I.match(prev.text.strip()) if prev is not None and prev.turn != s.turn else None
        if q and _YES_START.match(text):
            # "So I should practise even when I'm fine?" "Yes. Once a day ..." → one task from both turns;
            # a new directive inside the answer ("..., I'd also like you to keep a log") is handled below.
            turn = [_YES_START.sub("", o.text).strip(" .") for o in sents[i:] if o.turn == s.turn][:2]
            answer = turn[0] or (turn[1] if len(turn) > 1 else "")
            cue = _DIRECTIVE.search(answer)
            pre, text = (answer[: cue.start()], answer[cue.start() :]) if cue and cue.start() > 0 else (answer, "")
            pre = pre.strip(" ,.")
            first = re.sub(r"^please\s+", "", pre, flags=re.I).split(" ", 1)[0].lower()
            if _TASK_VERB.fullmatch(first or "-"):
                text, pre = answer, ""  # the answer is itself an instruction ("Yes, please jot down ...")
            if pre:
                task = re.sub(r"\bI\b", "you", re.sub(r"\bI'm\b", "you're", q.group("x").strip(" ?.")))
                add(f"{task}: {pre[:1].lower()}{pre[1:]}", "therapist", i)
            if not text:
                continue
        safety_advice = _SAFETY.search(s.norm) and re.search(r"\b(?:you can|go to|call|text)\b", s.norm)
        if safety_advice and not s.is_question and not _DIRECTIVE.search(text):
            # "If X, you can call the crisis line ..." → "call the crisis line ..., if X"
            m = re.match(
                r"(?i)^(?:and\s+)?(?P<cond>if\b.+?),\s*(?:you can\s+)?(?P<act>(?:go|call|text|use|contact|reach out"
                r"|get)\b.+)$",
                text,
            )
            body = f"{m.group('act').rstrip(' .')}, {m.group('cond')}" if m else re.split(r"(?i)\byou can\s+", text)[-1]
            add(_clean_task(body), "therapist", i)
            continue
        if _WH_QUESTION.match(text):
            continue  # "What could you tell yourself?" asks, it does not assign
        cues = list(_DIRECTIVE.finditer(text))
        imp = _IMPERATIVE.match(text)
        if not cues and not imp:
            continue
        body = text[cues[0].start() :] if cues else imp.group("body") if imp else ""
        if _IN_SESSION.search(body.lower()) and not (_HOMEWORK_CUE.search(s.norm) or _SAFETY.search(s.norm)):
            continue
        if cues and cues[0].group(0).lower().startswith("let's") and not _HOMEWORK_CUE.search(body.lower()):
            continue  # "Let's also try X" introduces something in session
        tasks = _split_tasks(body)
        answer = _next_turn(sents, i) if s.is_question else []
        own = any(_COMMIT.match(o.text.strip()) or _MAYBE_DO.match(o.text.strip()) for o in answer)
        extra = _specifics(" ".join(o.text for o in answer)) if answer and not own else ""
        for k, task in enumerate(tasks):
            add(f"{task} ({extra})" if extra and k == len(tasks) - 1 else task, "therapist", i)
    return _dedupe_items(items)


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _dedupe_items(items: list[_Item]) -> list[ActionItem]:
    kept: list[tuple[_Item, set[str]]] = []
    for it in items:
        c = _content(it.task)
        dup = next((i for i, (_k, kc) in enumerate(kept) if _dice(c, kc) >= 0.6 or c <= kc), None)
        if dup is None:
            kept.append((it, c))
        elif len(c) > len(kept[dup][1]):
            kept[dup] = (_Item(it.task, it.who, kept[dup][0].time, kept[dup][0].sentence), c)  # the fuller wording
    out = []
    for it, _ in kept:
        by = "agreed by the client" if it.who == "client" else "suggested by the therapist"
        out.append(ActionItem(task=it.task, category=_category(it.task), details=f"{by} at {_clock(it.time)}"))
    return out


# --------------------------------------------------------------------------------------------------
# Topics and mood
# --------------------------------------------------------------------------------------------------

TOPICS: list[tuple[str, str, re.Pattern[str]]] = [  # (label, plain words for the client, pattern)
    (
        "work stress",
        "stress at work",
        _rx(
            r"work",
            r"job",
            r"boss",
            r"manager",
            r"deadline",
            r"launch",
            r"meetings?",
            r"colleagues?",
            r"office",
            r"proposal",
            r"report",
        ),
    ),
    ("job loss", "losing your job", _rx(r"layoff", r"laid off", r"lost my job", r"job hunting", r"unemploy\w*")),
    (
        "anxiety",
        "worry and anxiety",
        _rx(r"anxious", r"anxiety", r"nervous", r"tense", r"tight", r"on edge", r"pounding", r"scary"),
    ),
    ("panic attacks", "panic attacks", _rx(r"panic\w*", r"heart (?:started )?racing", r"heart attack")),
    ("avoidance", "avoiding difficult situations", _rx(r"avoid\w*", r"instead(?: of)?", r"got off at")),
    (
        "low mood",
        "feeling low",
        _rx(r"low", r"flat", r"depress\w*", r"sad", r"down", r"empty", r"heavy", r"not great", r"worse"),
    ),
    (
        "social withdrawal",
        "pulling away from people",
        _rx(r"didn't answer", r"isolat\w*", r"withdraw\w*", r"lonel\w*", r"bad company", r"staying home"),
    ),
    (
        "loss of interest",
        "losing interest in things you enjoyed",
        _rx(r"used to go", r"haven't been since", r"miss that", r"lost interest"),
    ),
    ("low motivation", "low energy and motivation", _rx(r"motivat\w*", r"energy", r"drained")),
    ("sleep difficulties", "sleep", _rx(r"sleep\w*", r"insomnia", r"awake", r"nap\w*", r"can't sleep", r"bed")),
    ("fatigue", "tiredness", _rx(r"tired", r"exhausted", r"fatigue")),
    ("caffeine intake", "coffee and caffeine", _rx(r"coffee", r"caffeine")),
    ("phone use in bed", "phone use at night", _rx(r"phone", r"scroll\w*", r"screens?")),
    (
        "relationship conflict",
        "your relationship",
        _rx(r"arguments?", r"fights?", r"argu\w+", r"exploded", r"nagging", r"partner", r"husband", r"wife"),
    ),
    ("household chores", "sharing chores at home", _rx(r"chores", r"kitchen", r"cleaning", r"dishes")),
    (
        "communication patterns",
        "how you talk with each other",
        _rx(r"i statements?", r"communicat\w*", r"never or always", r"say it"),
    ),
    (
        "feeling unappreciated",
        "feeling unseen",
        _rx(r"unseen", r"unappreciated", r"taken for granted", r"only one who notices"),
    ),
    ("alcohol use", "drinking", _rx(r"drink\w*", r"drank", r"beers?", r"wine", r"alcohol", r"hangovers?", r"empties")),
    ("shame", "feelings of shame", _rx(r"ashamed", r"shame", r"guilty", r"guilt")),
    ("family concerns", "family", _rx(r"kids", r"daughter", r"son", r"family", r"dad", r"the dad")),
    ("anger", "anger", _rx(r"angry", r"anger", r"mad", r"furious", r"rage", r"yelling", r"snap")),
    (
        "feeling dismissed",
        "feeling dismissed",
        _rx(r"cut me off", r"dismissed", r"took credit", r"taking credit", r"credit"),
    ),
    ("perfectionism", "wanting things to be perfect", _rx(r"perfect\w*", r"good enough", r"just right")),
    ("fear of making mistakes", "worry about making mistakes", _rx(r"mistakes?", r"typo", r"careless", r"incompetent")),
    (
        "self-criticism",
        "being hard on yourself",
        _rx(r"not good enough", r"failure", r"messing things up", r"letting everyone down"),
    ),
    (
        "parental expectations",
        "expectations from your parents",
        _rx(r"my dad", r"my father", r"my mom", r"my mother", r"my parents"),
    ),
    (
        "feeling like a burden",
        "feeling like a burden",
        _rx(r"burden", r"letting everyone down", r"better off without me"),
    ),
    ("grief", "loss and grief", _rx(r"passed away", r"funeral", r"grief", r"griev\w+")),
]
_RISK_TOPIC = {
    "suicidal_ideation": ("suicidal thoughts", "some very painful thoughts"),
    "self_harm": ("self-harm", "urges to hurt yourself"),
    "harm_to_others": ("thoughts of harming others", "strong feelings toward someone"),
    "substance_use": ("substance use", "drinking or substance use"),
    "abuse_or_neglect": ("safety at home", "safety at home"),
}

MOODS: list[tuple[str, re.Pattern[str]]] = [
    (
        "anxious",
        _rx(
            r"anxious",
            r"anxiety",
            r"nervous",
            r"worried",
            r"scared",
            r"scary",
            r"panic\w*",
            r"terrif\w+",
            r"on edge",
            r"pounding",
            r"racing",
            r"frightening",
        ),
    ),
    ("tense", _rx(r"tense", r"tight", r"tension", r"wound up", r"clenched")),
    (
        "low",
        _rx(
            r"sad",
            r"down",
            r"low",
            r"flat",
            r"empty",
            r"hopeless",
            r"lonel\w*",
            r"numb",
            r"heavy",
            r"not great",
            r"worse",
            r"letting everyone down",
            r"better off without me",
        ),
    ),
    ("angry", _rx(r"angry", r"mad", r"furious", r"exploded", r"rage", r"yelling", r"sick of")),
    ("frustrated", _rx(r"frustrat\w*", r"annoyed", r"fed up", r"unfair", r"sick of")),
    ("tired", _rx(r"tired", r"exhausted", r"drained", r"worn out", r"can't sleep")),
    ("ashamed", _rx(r"ashamed", r"shame", r"guilty", r"embarrass\w*")),
    ("self-critical", _rx(r"careless", r"incompetent", r"failure", r"not good enough", r"messing things up")),
    ("skeptical", _rx(r"skeptical", r"sceptical", r"backwards", r"not sure")),
    ("hurt", _rx(r"hurt", r"unseen", r"painful")),
]
_POSITIVE_END = _rx(
    r"calmer",
    r"calm",
    r"relaxed",
    r"better",
    r"helps?",
    r"helped",
    r"manageable",
    r"less heavy",
    r"lighter",
    r"hopeful",
    r"makes sense",
    r"good to know",
    r"doable",
    r"sounds good",
)
_AGREE = _rx(
    r"okay",
    r"ok",
    r"sure",
    r"i can do that",
    r"i'll try",
    r"makes sense",
    r"sounds good",
    r"willing",
    r"doable",
    r"i can try",
    r"yes",
)


def find_topics(sents: list[Sentence], flags: list[RiskFlag], limit: int = 5) -> list[str]:
    score: Counter[str] = Counter()
    for s in sents:
        w = 1.0 if s.role in ("client", None) else 0.6
        for label, _plain, rx in TOPICS:
            if rx.search(s.norm):
                score[label] += w
    risk = []
    for f in flags:
        label = _RISK_TOPIC[f.type][0]
        if f.type == "suicidal_ideation" and "passive" in f.rationale:
            label = "passive suicidal ideation"
        if label not in risk:
            risk.append(label)
    ranked = [label for label, sc in score.most_common() if sc >= 2.0]
    if "alcohol use" in ranked and "substance use" in risk:
        risk[risk.index("substance use")] = "alcohol use"  # the specific word for the same topic
    return (risk + [t for t in ranked if t not in risk])[: max(limit, len(risk))]


def find_mood(sents: list[Sentence]) -> str:
    client = [s for s in sents if s.role in ("client", None)]
    if not client:
        return ""
    cut = int(len(client) * 0.75)
    counts: Counter[str] = Counter()
    for s in client[: max(cut, 1)]:
        for label, rx in MOODS:
            if rx.search(s.norm):
                counts[label] += 1
    top = [label for label, n in counts.most_common(2) if n >= 1]
    end = client[cut:]
    better = sum(1 for s in end if _POSITIVE_END.search(s.norm))
    agree = sum(1 for s in client if _AGREE.search(s.norm))
    parts = [" and ".join(top) if top else "calm"]
    if better >= 1 and top:
        parts.append("calmer and more hopeful by the end" if better >= 2 else "somewhat calmer by the end")
    if agree >= 3:
        parts.append("engaged")
    return ", ".join(parts)


# --------------------------------------------------------------------------------------------------
# Narrative: therapist note, client summary, goals, response
# --------------------------------------------------------------------------------------------------

_PLAIN_TOPIC = (
    {label: plain for label, plain, _ in TOPICS}
    | {v[0]: v[1] for v in _RISK_TOPIC.values()}
    | {"passive suicidal ideation": "some very painful thoughts"}
)
_PLAIN_STRATEGY = {t.name: t.plain for t in CATALOGUE}
_TYPE_WORDS = {
    "suicidal_ideation": "suicidal ideation",
    "self_harm": "self-harm",
    "harm_to_others": "thoughts of harming others",
    "substance_use": "risky substance use",
    "abuse_or_neglect": "abuse or neglect concerns",
}


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plain_strategy(s: Strategy) -> str:
    """The catalogue's plain description; a context-specific name ("anger rating ...") finds its entry too."""
    if s.name in _PLAIN_STRATEGY:
        return _PLAIN_STRATEGY[s.name]
    words = _content(s.name)
    for tech in CATALOGUE:
        if tech.namer and s.category == tech.category and words & _content(tech.name):
            return tech.plain
    return s.name


def _risk_sentence(flags: list[RiskFlag], denials: list[Denial]) -> str:
    if flags:
        parts = []
        for type_ in dict.fromkeys(f.type for f in flags):
            fs = [f for f in flags if f.type == type_]
            worst = max(fs, key=lambda f: ("low", "moderate", "high").index(f.severity))
            desc = worst.rationale.split(";")[0] if worst.rationale else _TYPE_WORDS[type_]
            parts.append(f"{desc} ({worst.severity}, {len(fs)} statement{'s' if len(fs) > 1 else ''})")
        text = "Risk: client disclosed " + _join(parts) + "."
        denied = sorted({_TYPE_WORDS[d.type] for d in denials if d.type not in {f.type for f in flags}})
        if denied:
            text += " Client denied " + _join(denied) + "."
        plan_denied = any(d.type == "suicidal_ideation" and "question" in d.rationale for d in denials)
        if plan_denied and any(f.type == "suicidal_ideation" for f in flags):
            text += " Client denied a plan when asked directly."
        return text + " Review the flagged statements and document the risk assessment."
    if denials:
        return (
            "Risk: no risk indicators identified; client denied "
            + _join(sorted({_TYPE_WORDS[d.type] for d in denials}))
            + " when asked."
        )
    return "Risk: no risk indicators identified in the transcript."


def therapist_note(
    topics: list[str],
    mood: str,
    strategies: list[Strategy],
    actions: list[ActionItem],
    flags: list[RiskFlag],
    denials: list[Denial],
    analytics: dict[str, float | int | None],
    response: str,
) -> str:
    parts: list[str] = []
    if mood:
        parts.append(f"Client presented as {mood}.")
    if topics:
        parts.append(f"Session focused on {_join(topics)}.")
    by_status = {st: [s.name for s in strategies if s.status == st] for st in ("introduced", "practiced", "reviewed")}
    if by_status["reviewed"]:
        parts.append(f"Reviewed {_join(by_status['reviewed'])} from previous work.")
    if by_status["practiced"]:
        parts.append(f"Practised {_join(by_status['practiced'])} in session.")
    if by_status["introduced"]:
        parts.append(f"Therapist introduced {_join(by_status['introduced'])}.")
    if response:
        parts.append(response)
    parts.append(_risk_sentence(flags, denials))
    hw = [a.task for a in actions if a.category == "homework"]
    if hw:
        parts.append(f"Homework: {'; '.join(hw)}.")
    other = [f"{a.task} ({a.category})" for a in actions if a.category != "homework"]
    if other:
        parts.append(f"Plan: {'; '.join(other)}.")
    share = analytics.get("talk_share_client")
    if isinstance(share, float):
        parts.append(f"Client spoke for {round(share * 100)}% of the session.")
    return " ".join(parts)


def patient_summary(
    topics: list[str], strategies: list[Strategy], actions: list[ActionItem], flags: list[RiskFlag]
) -> str:
    """Plain language, second person, no jargon; risk is mentioned gently and with where to get help."""
    parts = ["Thank you for coming in today."]
    plain_topics = list(dict.fromkeys(_PLAIN_TOPIC.get(t, t) for t in topics[:4]))
    if plain_topics:
        parts.append(f"We talked about {_join(plain_topics)}.")
    tried = list(dict.fromkeys(_plain_strategy(s) for s in strategies if s.category != "psychoeducation"))[:4]
    if tried:
        parts.append(f"Together we looked at {_join(tried)}.")
    todo = [a.task for a in actions if a.category in ("homework", "referral", "safety")]
    if todo:
        parts.append("Before next time, you planned to: " + "; ".join(_second_person(t) for t in todo) + ".")
    follow = [a.task for a in actions if a.category == "follow-up"]
    if follow:
        parts.append("For next time: " + "; ".join(_second_person(t) for t in follow) + ".")
    types = {f.type for f in flags}
    if types & {"suicidal_ideation", "self_harm"}:
        parts.append(
            "You shared that some things have felt very hard lately, and that took courage. If those feelings "
            "get stronger, please use your plan, reach out to someone you trust, call or text your local crisis "
            "line, or go to the nearest emergency room. You don't have to face it alone."
        )
    elif types & {"harm_to_others", "abuse_or_neglect"}:
        parts.append(
            "Your safety and the safety of the people around you matter. If you ever feel unsafe, "
            "please contact your local emergency number or a crisis line right away."
        )
    elif "substance_use" in types:
        parts.append("We also talked about drinking or substance use. Small, steady steps count.")
    parts.append("We'll look at how things went next time.")
    return " ".join(parts)


def _second_person(task: str) -> str:
    """A task as the client reads it: "therapist to call the client" → "your therapist will call you"."""
    t = re.sub(r"^therapist to (\w+) the client\b", r"your therapist will \1 you", task)
    t = re.sub(r"\bmy\b", "your", t)
    t = re.sub(r"\bI'm\b", "you're", t)
    return re.sub(r"\bI\b", "you", t)


_RESPONSE_POS = _rx(
    r"calmer",
    r"helps?",
    r"helped",
    r"makes sense",
    r"manageable",
    r"less heavy",
    r"dropped",
    r"slower",
    r"good to know",
    r"doable",
    r"surprised me",
    r"sounds good",
    r"i like that",
)
_RESPONSE_DOUBT = _rx(r"skeptical", r"backwards", r"scary", r"weird", r"hard to", r"not sure", r"nervous")


def client_response(sents: list[Sentence], strategies: list[Strategy], actions: list[ActionItem]) -> str:
    client = [s for s in sents if s.role in ("client", None)]
    pos = sum(1 for s in client if _RESPONSE_POS.search(s.norm))
    doubt = sum(1 for s in client if _RESPONSE_DOUBT.search(s.norm))
    agreed = any("client" in a.details for a in actions) or sum(1 for s in client if _AGREE.search(s.norm)) >= 3
    parts = []
    if strategies:
        if pos and doubt:
            parts.append("Client voiced some hesitation but responded positively to the interventions")
        elif pos:
            parts.append("Client responded positively to the interventions")
        elif doubt:
            parts.append("Client was hesitant about the interventions")
        else:
            parts.append("Client's response to the interventions was not clearly stated")
    if actions:
        parts.append("agreed to the plan" if agreed else "the plan was discussed")
    return (_join(parts) + ".") if parts else ""


def session_goals(topics: list[str], strategies: list[Strategy], flags: list[RiskFlag]) -> list[str]:
    goals = []
    if any(f.type in ("suicidal_ideation", "self_harm") for f in flags):
        goals.append("Keep the client safe: assess risk and agree a safety plan")
    if any(f.type == "substance_use" for f in flags):
        goals.append("Reduce risky substance use")
    for t in topics[:3]:
        if t not in {_RISK_TOPIC[f.type][0] for f in flags} and "suicidal" not in t:
            goals.append(f"Address {t}")
    for s in strategies[:3]:
        if s.category != "psychoeducation":
            goals.append(f"Build skills: {s.name}")
    return goals


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def _with_roles(segments: list[Segment], speakers: list[Speaker]) -> list[Segment]:
    """Segments whose role is missing get their speaker's role, when the speaker list knows it."""
    roles = {sp.label: sp.role for sp in speakers if sp.role}
    if not roles:
        return segments
    return [
        s if s.role or s.speaker not in roles else s.model_copy(update={"role": roles[s.speaker]}) for s in segments
    ]


def extract_notes(segments: list[Segment], speakers: list[Speaker]) -> ExtractedNotes:
    """The local, deterministic notes for one session, risk flags and analytics included."""
    segments = _with_roles(segments, speakers)
    sents = split_sentences(segments)
    flags, denials = detect_risks_in_sentences(sents)
    marks: list[tuple[int, str]] = []
    strategies = find_strategies(sents, marks)
    actions = find_action_items(sents, marks)
    topics = find_topics(sents, flags)
    mood = find_mood(sents)
    analytics = session_analytics(segments, speakers, sents)
    response = client_response(sents, strategies, actions)
    return ExtractedNotes(
        key_topics=topics,
        patient_mood=mood,
        strategies=strategies,
        action_items=actions,
        risk_flags=flags,
        documented_denials=denials,
        therapist_notes=therapist_note(topics, mood, strategies, actions, flags, denials, analytics, response),
        patient_summary=patient_summary(topics, strategies, actions, flags),
        analytics=analytics,
        provider="local",
        session_goals=session_goals(topics, strategies, flags),
        client_response=response,
    )
