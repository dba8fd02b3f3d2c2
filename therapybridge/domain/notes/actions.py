"""Action items: assignments, proposals the client accepts, and the client's own commitments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from therapybridge.document import ActionItem, Evidence
from therapybridge.domain.clock import clock
from therapybridge.domain.notes.skills import evidence
from therapybridge.domain.notes.strategies import _window
from therapybridge.domain.notes.text import _rx
from therapybridge.domain.risk import Sentence

# Where a task starts: the last directive cue of a therapist sentence ("So for this week, how about X").
_DIRECTIVE = re.compile(
    r"\b(?:(?:that's |this is )?what i'd like you to do is(?: to)?,?(?: uh,?| um,?)?"
    r"|i'd (?:also )?like you to|i would (?:also )?like you to|i want you to|could you(?: also)?|can you(?: also)?"
    r"|(?<!if )(?<!when )(?:i think )?you (?:just )?(?:need to|should)(?: maybe)?"
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
    r"^(?:(?:okay|ok|yes|yeah|and|so|sure|then|good|fine|um|uh|well|alright|all right|i guess|i think|probably"
    r"|just|honestly|definitely|first|i mean|and then)[,.]?\s+)*(?:maybe\s+)?(?:i'll|i will|i'm going to|i'm gonna"
    r"|i am going to|i'm (?:still|also|just) going to|i can|i could|i'm willing to|i plan to"
    r"|i'm planning (?:on|to)|i'll try (?:to )?"
    r"|i'm going to try (?:to )?|i'm (?:still )?gonna try (?:to )?|what i'd like to do is(?: maybe)?"
    r"|i'd like to (?=try|start|cut|go|quit|stop|get|make|talk|call)|i guess i (?:should|can|could|'ll))"
    r"\s+(?P<rest>.+)$",
    re.I,
)
# A commitment inside the sentence ("I can't control them, but I'll definitely try to get my friends to stop"):
# normalised words, and only with a verb of doing, since "I'll" mid-sentence is often about something else.
_COMMIT_MID = re.compile(
    r"\b(?:i'll|i will|i'm going to|i'm gonna)(?: definitely| just| really| probably)? (?:try to |try and )?"
    r"(?P<rest>(?:avoid|stop|quit|cut|call|talk|tell|go|make|start|keep|find|get|throw|take|use|join|ask|look|write"
    r"|set|hang|spend|drink|smoke|bring|carry|book|see a|see the|see my doctor)\b.+)$"
)
_ABILITY = re.compile(
    r"^(?:(?:okay|ok|yes|yeah|and|so|well|i mean|i guess|i think)\s+)*(?:maybe\s+)?(?:i can|i could)\b(?! try| do that)"
)
_HABIT = re.compile(
    r"\b(?:sometimes|usually|often|always|normally|typically|when|whenever|every|mondays|tuesdays|wednesdays"
    r"|thursdays|fridays|saturdays|sundays|weekends|said|says|told|thought)\b"
)
_TAKEN_BACK = re.compile(r"\bbut i (?:really )?(?:am not|'m not|don't|won't|never|can't)\b")
_MAYBE_DO = re.compile(
    r"^(?:(?:yes|yeah|okay|ok|and|then|so)[,.]?\s+)*maybe\s+(?P<rest>(?:[a-z]+ing|ask|call|text|go|try|take|look"
    r"|bring|send|write|use)\b.+)$",
    re.I,
)
_NOT_ACTION = re.compile(
    r"^(?:get (?:arrested|into|hurt|sick|in trouble|injured|killed|caught|fired|pregnant|worse|better|kicked"
    r"|suspended|expelled|\w+ed\b)"
    r"|have (?!(?:only|no|one|just|fewer|less|at most|a maximum|nothing|a glass|a drink|two|three)\b)"
    r"|be |feel |do anything|do to |do (?:in order|in|for|with|about|so)\b|need |want |end up|lose |die\b)"
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
    r"experiment\w*",
    r"exercis\w+",
    r"meditat\w+",
    r"journal\w*",
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
# A dash before a new thought ("and, um-- You know, 'cause ...") ends the task.
_TRAILS_OFF = re.compile(
    r"(?i)(?:,?\s*(?:and|or))?,?\s*(?:um|uh)?\s*(?:--|—)\s*(?=you know|i mean|'cause|because|anyway|so\b)"
)
_NEGATED_TASK = re.compile(
    r"(?i)^(?:not|never|no longer)\s+(?:\w+\s+)?(?:have|drink|smoke|use|go|buy|keep|drive|take)\b"
)
# A participle after a bare comma describes the task before it ("keep a log, noting where you were").
_ELABORATES = re.compile(r"^\s*(?:[a-z]+ing)\b", re.I)
# A part that refers back to the one before ("and then on the other side of the list", "practise it").
_POINTS_BACK = re.compile(
    r"^\s*(?:then\s+)?[a-z]+\s+(?:it|them)\b|\b(?:the other side|that list|the list|the same)\b", re.I
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
    # change-planning questions: the client's answer is the plan
    r"what (?:is|'s) (?:one|the first|your first|a first|the next|your next) (?:thing|step)",
    r"what (?:do|would|could|can|will) you (?:think )?(?:that )?(?:you )?(?:need to |be able to |might )?do"
    r"(?! (?:for fun|now|for a living|on))",
    r"what (?:might|could|would|will) you do",
    r"what(?:'s| is) your plan",
    r"what are you going to do",
    r"where (?:do|would|could) you (?:want to |like to )?start",
    r"how (?:will|would|could|are) you going to",
    r"what (?:changes|steps) (?:do|would|could|might|will) you",
)
_ABOUT_Q = re.compile(r"\bwhat about (?:a |the |your )?(?P<x>[a-z ]{3,30}?)\s*\?", re.I)
_SHOULD_I = re.compile(r"^(?:so |and |but )?(?:should i|so i should|do i need to|i should)\s+(?P<x>.+?)\??$", re.I)
_YES_START = re.compile(r"^(?:yes|yeah|yep|exactly|right|definitely|please)\b[,.!]?\s*", re.I)
# A therapist directive that assigns by itself; softer ones ("you could", "how about") need the client's yes.
_STRONG_CUE = re.compile(
    r"(?i)(?:i'd (?:also )?like you to|i would (?:also )?like you to|i want you to|for homework|remember to"
    r"|make sure|this week|to sum up|please)"
)
_ACCEPT = re.compile(
    r"^(?:(?:um|uh|well|mm hmm|mm)\s+)*(?:yes|yeah|yep|okay|ok|sure|sounds good|that sounds|that would be|that'd be"
    r"|i can do that|i can try|i'll try|i will|i'll|all right|alright|for sure|definitely|absolutely|fine|that works"
    r"|good idea|i could do that|i think so|i guess|maybe i (?:can|could)|i can)\b"
)
_DECLINE = re.compile(
    r"^(?:(?:um|uh|well|mm hmm|mm)\s+)*(?:no|nope|nah|not really|i don't think|i'm not sure|i can't|i won't"
    r"|i don't want|i'd rather not|that's not)\b"
)
# Scheduling the next contact ("see you in two weeks", "come back next week").
_FOLLOW_UP = re.compile(
    r"\b(?:(?:see|meet with|meet|talk to|check in with|call) you (?:again )?(?:next|in|on|at)"
    r" (?:a |two |three |few |the )?"
    r"(?:week|weeks|month|months|monday|tuesday|wednesday|thursday|friday|appointment|visit|session|checkup)"
    r"|see you next (?:week|month|session|appointment|visit|monday|tuesday|wednesday|thursday|friday)"
    r"|(?:come|coming) back (?:in (?:a|one|two|three|four|six|a few|a couple of) |next |and (?:talk|see)"
    r"|for (?:a|an|your|the|his|her) (?:check|follow|appointment|visit|session|\w+ checkup))"
    r"|(?:getting|get) back together"
    r"|(?:meet|met|meeting) (?:up |with you )?again|(?:your|our|the) appointment next|(?:our|your|the) next"
    r" (?:appointment|session|visit)|follow up (?:appointment|visit|in (?:a|one|two|three|four|six|the next) )"
    r"|(?:schedule|book|set up) (?:a|another|your) (?:follow up|appointment|session|visit))\b"
)
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
    t = re.sub(r"^(?:(?:and|so|also|then|just|okay|ok|yes|but|uh|um)[,.]?\s+)+", "", t, flags=re.I)
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
    """Split "A, B, and C" into single tasks; fragments ("once before the meeting"), elaborations ("keep a log,
    noting ...") and parts that point back ("write it out, and then practise it") stay with their task."""
    out: list[str] = []
    body = _TRAILS_OFF.split(body)[0]  # "experiment with X and, um-- You know, 'cause ...": the task ended there
    tail = ""  # what was said since the last task began, to see whether the next part points back to it
    cuts = [(m.start(), m.end()) for m in _SPLIT_ITEM.finditer(body)]
    bounds = zip([(0, 0), *cuts], [*cuts, (len(body), len(body))], strict=True)
    for (_, a), (b, _) in bounds:
        p, sep = body[a:b], body[:a][-8:] if a else ""
        if not p.strip(" ,."):
            continue
        task = _clean_task(_strip_cues(_clean_task(p)))
        first = task.split(" ", 1)[0].lower() if task else ""
        ok_start = bool(_TASK_VERB.fullmatch(first)) or first in ("a", "an", "the", "one", "two", "three")
        ok_start = ok_start or bool(_NEGATED_TASK.match(task))  # "not have a drink", "never drive after drinking"
        joined = bool(out) and bool(
            (_ELABORATES.match(p) and not re.search(r"\b(?:and|or)\b", sep)) or _POINTS_BACK.search(f"{tail} {p}")
        )
        if ok_start and not joined and len(_content(task)) >= 2 and not _NOT_TASK.search(task.lower()):
            out.append(task)
            tail = ""
        elif out and task and (joined or not ok_start):
            out[-1] = f"{out[-1]}; {task}" if ok_start else f"{out[-1]}, {task}"
            tail = f"{tail} {p}"
    return out


@dataclass
class _Item:
    task: str
    who: str  # therapist | client
    time: float
    sentence: int
    evidence: list[Evidence] = field(default_factory=list)


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

    def add(task: str, who: str, i: int, also: list[Sentence] | None = None) -> None:
        task = _resolve(task, sents, i, marks)
        words = [w for w in re.findall(r"[a-z0-9']+", task.lower()) if w not in _STOP and w not in _VAGUE]
        if _TASK_VERB.fullmatch(words[0] if words else ""):
            words = words[1:]
        if _NOT_ACTION.match(task.lower()):
            return  # a consequence or a state ("get into a crash", "have a good career"), not a thing to do
        if len(words) >= 2:  # "try seven" or "do that" alone is not a task
            items.append(_Item(task, who, sents[i].start, i, evidence([sents[i], *(also or [])])))

    for i, s in enumerate(sents):
        text = s.text.strip()
        prev = sents[i - 1] if i else None
        prev_t = prev is not None and prev.role != "client" and prev.turn != s.turn
        client = s.role == "client" or (s.role is None and bool(_COMMIT.match(text) or _MAYBE_DO.match(text)))
        if client:
            # the normalised words too: "So-so, yeah, I guess, I should, uh, get it" hides the commitment
            m = _COMMIT.match(text) or _MAYBE_DO.match(text) or _COMMIT.match(s.norm) or _commit_mid(s.norm)
            if m and _ABILITY.match(s.norm) and not (prev_t and prev is not None and _CHOICE_Q.search(prev.norm)):
                m = None  # "I can see my kids": what the client is able to do, unless it answers "what could you do?"
            if m:
                for task in _split_tasks(m.group("rest")):
                    add(task, "client", i)
            elif prev_t and prev is not None and _CHOICE_Q.search(prev.norm) and not _declined([s]):
                hedge = r"^(?:(?:um|uh|well|so|yeah|i guess|i think|maybe|probably|just)[,.]?\s+)*"
                body = re.sub(r"^(?:i (?:need|have|want) to|need to)\s+", "", re.sub(hedge, "", text, flags=re.I))
                for task in _split_tasks(body):
                    add(task, "client", i, [prev])
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
        if (
            s.role != "client"
            and (f := _FOLLOW_UP.search(s.norm))
            and not (_last_in_turn(sents, i) and _declined(_next_turn(sents, i)))
            and not re.search(
                r"\b(?:not|never|don't|won't|no|when|until|before|after|next time)\b",
                s.norm[max(0, f.start() - 40) : f.start()],
            )
        ):  # "I don't want to see you coming back in here", "until you come back": not an arrangement
            tail = " ".join(s.norm[f.end() :].split()[:6])
            add(f"follow-up: {f.group(0)} {tail}".strip(), "therapist", i, _next_turn(sents, i)[:1])
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
        safety_advice = safety_advice and not re.search(r"\b(?:need|needs|needing|have|has) to go\b", s.norm)
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
        subordinate = re.match(r"(?i)^\W*(?:\w+\W+){0,2}(?:when|where)\b", text) and not s.is_question
        if _WH_QUESTION.match(text) and not subordinate:
            continue  # "What could you tell yourself?" asks, it does not assign; "So when I see you, ..." may
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
        reply = _next_turn(sents, i)
        strong = (bool(cues) and _STRONG_CUE.match(cues[0].group(0))) or _HOMEWORK_CUE.search(s.norm)
        if _declined(reply) or not (strong or _accepted(reply)):
            continue  # a suggestion the client did not take up ("you could get arrested", "another option is")
        answer = reply if s.is_question else []
        own = any(_COMMIT.match(o.text.strip()) or _MAYBE_DO.match(o.text.strip()) for o in answer)
        extra = _specifics(" ".join(o.text for o in answer)) if answer and not own else ""
        for k, task in enumerate(tasks):
            add(f"{task} ({extra})" if extra and k == len(tasks) - 1 else task, "therapist", i, reply[:1])
    return _dedupe_items(items)


def _commit_mid(norm: str) -> re.Match[str] | None:
    """A commitment inside the sentence, unless it is habit ("Wednesdays, I'll go to happy hour"), reported
    ("so I said, fine, I'll go"), or taken back ("but I'm not a follow-through person")."""
    m = _COMMIT_MID.search(norm)
    if (
        m is None
        or _HABIT.search(norm[: m.start()])
        or _TAKEN_BACK.search(norm[m.end("rest") - len(m.group("rest")) :])
    ):
        return None
    return m


def _last_in_turn(sents: list[Sentence], i: int) -> bool:
    """The client's reply answers the last thing the therapist said, not a sentence before it."""
    return i + 1 >= len(sents) or sents[i + 1].turn != sents[i].turn


def _accepted(reply: list[Sentence]) -> bool:
    return bool(reply) and bool(_ACCEPT.match(reply[0].norm))


def _declined(reply: list[Sentence]) -> bool:
    return bool(reply) and bool(_DECLINE.match(reply[0].norm))


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
            kept[dup] = (  # the fuller wording, both passages as evidence
                _Item(it.task, it.who, kept[dup][0].time, kept[dup][0].sentence, kept[dup][0].evidence + it.evidence),
                c,
            )
    out = []
    for it, _ in kept:
        by = "agreed by the client" if it.who == "client" else "suggested by the therapist"
        out.append(
            ActionItem(
                task=it.task,
                category="follow-up" if it.task.startswith("follow-up: ") else _category(it.task),
                details=f"{by} at {clock(it.time)}",
                evidence=list({(e.start, e.quote): e for e in it.evidence}.values())[:3],
            )
        )
    return out
