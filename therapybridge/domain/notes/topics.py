"""Topics and mood of the session."""

from __future__ import annotations

import re
from collections import Counter

from therapybridge.document import RiskFlag
from therapybridge.domain.notes.text import _rx
from therapybridge.domain.risk import Sentence

TOPICS: list[tuple[str, str, re.Pattern[str]]] = [  # (label, plain words for the client, pattern)
    (
        "work stress",
        "work",
        _rx(  # not "work on it" or "that might work": the job itself
            r"at work",
            r"my work",
            r"work (?:is|was|has been|stress|load|hours)",
            r"(?:my|the|a|new|full time|part time|this) job",
            r"boss",
            r"manager",
            r"deadlines?",
            r"launch",
            r"colleagues?",
            r"co ?workers?",
            r"the office",
            r"workplace",
            r"employer",
            r"proposal",
        ),
    ),
    ("job loss", "losing your job", _rx(r"layoff", r"laid off", r"lost my job", r"job hunting", r"unemploy\w*")),
    (
        "anxiety",
        "worry and anxiety",
        _rx(r"anxious", r"anxiety", r"nervous", r"tense", r"tight", r"on edge", r"pounding", r"scary"),
    ),
    ("panic attacks", "panic attacks", _rx(r"panic\w*", r"heart (?:started )?racing")),
    ("avoidance", "avoiding difficult situations", _rx(r"avoid\w*", r"instead(?: of)?", r"got off at")),
    (
        "low mood",
        "feeling low",
        _rx(r"feel(?:ing)? (?:low|down|flat|empty)", r"been (?:low|down)", r"depress\w*", r"sad", r"low mood"),
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
    ("low motivation", "energy and motivation", _rx(r"motivat\w*", r"energy", r"drained")),
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
    ("smoking", "smoking", _rx(r"smok\w*", r"cigarettes?", r"cigs", r"nicotine", r"tobacco", r"quit date")),
    ("vaping", "vaping", _rx(r"vap(?:e|es|ed|ing)", r"vape pens?", r"e ?cigs?", r"juul")),
    (
        "drug use",
        "drug use",
        _rx(r"weed", r"marijuana", r"cannabis", r"pot", r"meth", r"heroin", r"cocaine", r"drugs", r"pills", r"oxy\w*"),
    ),
    ("gambling", "gambling", _rx(r"gambl\w*", r"pokies", r"poker", r"casino", r"betting", r"slots", r"credit cards?")),
    (
        "physical activity",
        "being more active",
        _rx(
            r"(?<!breathing )(?<!relaxation )(?<!grounding )exercis\w*",
            r"gym",
            r"physically active",
            r"more active",
            r"workouts?",
        ),
    ),
    ("weight", "your weight", _rx(r"weight", r"pounds", r"kilos", r"lose \w+ (?:pounds|kilos)", r"scales?")),
    ("diet", "food and eating", _rx(r"diet\w*", r"eating", r"food", r"calories", r"snacks?", r"meals?")),
    (
        "medical condition",
        "health conditions",
        _rx(r"diabet\w*", r"asthma", r"blood (?:sugar|pressure)", r"insulin", r"inhaler", r"a1c", r"stroke"),
    ),
    (
        "medication",
        "medicines",
        _rx(r"medications?", r"medicines?", r"prescri\w+", r"pills", r"doses?", r"tablets?"),
    ),
    ("vaccination", "vaccines", _rx(r"vaccin\w*", r"flu shots?", r"immuni[sz]\w+", r"the shot")),
    (
        "legal problems",
        "legal matters",
        _rx(r"probation", r"court", r"police", r"arrest\w*", r"jail", r"prison", r"charged", r"offen[cs]es?", r"judge"),
    ),
    ("school", "school", _rx(r"school", r"class(?:es)?", r"grades", r"teachers?", r"college", r"homework")),
    ("shame", "feelings of shame", _rx(r"ashamed", r"shame", r"guilty", r"guilt")),
    ("family concerns", "family", _rx(r"kids", r"daughter", r"son", r"family", r"children", r"baby")),
    ("anger", "anger", _rx(r"angry", r"anger", r"mad", r"furious", r"rage", r"yelling", r"snap")),
    (
        "feeling dismissed",
        "feeling dismissed",
        _rx(r"cut me off", r"dismissed", r"took credit", r"taking credit"),
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
    "substance_use": ("substance use", "alcohol or drug use"),
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
            r"feel(?:ing)? (?:down|low|flat|empty)",
            r"hopeless",
            r"lonel\w*",
            r"numb",
            r"not great",
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


def topic_sentences(sents: list[Sentence], label: str) -> list[Sentence]:
    """The sentences that show a topic, the client's first: its evidence."""
    rx = next((r for lab, _p, r in TOPICS if lab == label), None)
    hits = [s for s in sents if rx is not None and rx.search(s.norm)]
    if label == "smoking":  # "smoking weed", "I vape it": drug use, not tobacco
        drugs = next(r for lab, _p, r in TOPICS if lab == "drug use")
        hits = [s for s in hits if not drugs.search(s.norm)]
    return [s for s in hits if s.role != "therapist"] + [s for s in hits if s.role == "therapist"]


def mood_sentences(sents: list[Sentence], mood: str) -> list[Sentence]:
    """The client sentences behind the mood statement."""
    rxs = [rx for label, rx in MOODS if label in mood]
    return [s for s in sents if s.role in ("client", None) and any(rx.search(s.norm) for rx in rxs)]


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
