"""Action items: assignments, proposals the client accepts, and the client's own commitments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from therapybridge.document import ActionItem, Evidence
from therapybridge.domain.clock import clock
from therapybridge.domain.notes import actions_lexicon as lx
from therapybridge.domain.notes.skills import evidence
from therapybridge.domain.notes.text import window
from therapybridge.domain.risk import Sentence


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in lx.STOP}


def _clean_task(text: str) -> str:
    t = text.strip().strip(",.;:!? ")
    t = re.sub(r"^(?:(?:and|so|also|then|just|okay|ok|yes|but|uh|um)[,.]?\s+)+", "", t, flags=re.I)
    t = re.sub(r"^(?:i'd (?:also )?like you to|try to|please|let's|i'll|i will)\s+", "", t, flags=re.I)
    t = lx.PURPOSE_TAIL.sub("", t).strip(",.;:!? ")
    words = t.split()
    if words and words[0].lower() in lx.GERUND:
        words[0] = lx.GERUND[words[0].lower()]
    t = " ".join(words)
    return t[:1].lower() + t[1:] if not t.startswith("I ") else t


def _category(text: str) -> str:
    n = text.lower()
    if lx.SAFETY.search(n):
        return "safety"
    if lx.FOLLOWUP.search(n):
        return "follow-up"
    if lx.REFERRAL.search(n):
        return "referral"
    return "homework"


def _strip_cues(text: str) -> str:
    t = text.strip()
    while (m := lx.DIRECTIVE.match(t)) is not None and not m.group(0).lower().startswith("aim for"):
        t = t[m.end() :]
    return t


def _split_tasks(body: str) -> list[str]:
    """Split "A, B, and C" into single tasks; fragments ("once before the meeting"), elaborations ("keep a log,
    noting ...") and parts that point back ("write it out, and then practise it") stay with their task."""
    out: list[str] = []
    body = lx.TRAILS_OFF.split(body)[0]  # "experiment with X and, um-- You know, 'cause ...": the task ended there
    tail = ""  # what was said since the last task began, to see whether the next part points back to it
    cuts = [(m.start(), m.end()) for m in lx.SPLIT_ITEM.finditer(body)]
    bounds = zip([(0, 0), *cuts], [*cuts, (len(body), len(body))], strict=True)
    for (_, a), (b, _) in bounds:
        p, sep = body[a:b], body[:a][-8:] if a else ""
        if not p.strip(" ,."):
            continue
        task = _clean_task(_strip_cues(_clean_task(p)))
        first = task.split(" ", 1)[0].lower() if task else ""
        ok_start = bool(lx.TASK_VERB.fullmatch(first)) or first in ("a", "an", "the", "one", "two", "three")
        ok_start = ok_start or bool(lx.NEGATED_TASK.match(task))  # "not have a drink", "never drive after drinking"
        joined = bool(out) and bool(
            (lx.ELABORATES.match(p) and not re.search(r"\b(?:and|or)\b", sep)) or lx.POINTS_BACK.search(f"{tail} {p}")
        )
        if ok_start and not joined and len(_content(task)) >= 2 and not lx.NOT_TASK.search(task.lower()):
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
    if re.search(r"\b(?:that|the) number\b", task) and re.search(r"crisis line", window(sents, [i], 3, 0)):
        task = re.sub(r"\b(?:that|the) number\b", "the crisis line number", task)
    if re.search(r"\b(?:him|her)\b", task):
        for j in range(i, max(-1, i - 20), -1):
            k = lx.KIN_MENTION.findall(sents[j].text)
            if k:
                task = re.sub(r"\b(him|her)\b", rf"\1 ({k[-1].lower()})", task, count=1)
                break
    return task


def _specifics(text: str) -> str:
    """Day, time and companion the client names when agreeing ("My sister could come with me on Sunday")."""
    bits = []
    for m in lx.SPECIFICS.finditer(text):
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
        words = [w for w in re.findall(r"[a-z0-9']+", task.lower()) if w not in lx.STOP and w not in lx.VAGUE]
        if lx.TASK_VERB.fullmatch(words[0] if words else ""):
            words = words[1:]
        if lx.NOT_ACTION.match(task.lower()):
            return  # a consequence or a state ("get into a crash", "have a good career"), not a thing to do
        if len(words) >= 2:  # "try seven" or "do that" alone is not a task
            items.append(_Item(task, who, sents[i].start, i, evidence([sents[i], *(also or [])])))

    for i, s in enumerate(sents):
        text = s.text.strip()
        prev = sents[i - 1] if i else None
        prev_t = prev is not None and prev.role != "client" and prev.turn != s.turn
        client = s.role == "client" or (s.role is None and bool(lx.COMMIT.match(text) or lx.MAYBE_DO.match(text)))
        if client:
            # the normalised words too: "So-so, yeah, I guess, I should, uh, get it" hides the commitment
            m = lx.COMMIT.match(text) or lx.MAYBE_DO.match(text) or lx.COMMIT.match(s.norm) or _commit_mid(s.norm)
            if m and lx.ABILITY.match(s.norm) and not (prev_t and prev is not None and lx.CHOICE_Q.search(prev.norm)):
                m = None  # "I can see my kids": what the client is able to do, unless it answers "what could you do?"
            if m:
                for task in _split_tasks(m.group("rest")):
                    add(task, "client", i)
            elif prev_t and prev is not None and lx.CHOICE_Q.search(prev.norm) and not _declined([s]):
                hedge = r"^(?:(?:um|uh|well|so|yeah|i guess|i think|maybe|probably|just)[,.]?\s+)*"
                body = re.sub(r"^(?:i (?:need|have|want) to|need to)\s+", "", re.sub(hedge, "", text, flags=re.I))
                for task in _split_tasks(body):
                    add(task, "client", i, [prev])
            elif (
                prev_t
                and prev is not None
                and (q := lx.ABOUT_Q.search(prev.text))
                and re.search(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+)\b", s.norm)
            ):
                answer = re.sub(r"^(?:maybe|probably|about)\s+", "", text.strip(" .?!"), flags=re.I)
                add(f"{q.group('x').strip()} at {answer}", "client", i)
            continue
        # Therapist (or unknown) speech.
        if (f := lx.FOLLOW_OFFER.search(text)) is not None:
            add(f"therapist to {f.group('v').lower()} the client{f.group('rest').rstrip()}", "therapist", i)
            continue
        if (
            s.role != "client"
            and (f := lx.FOLLOW_UP.search(s.norm))
            and not (_last_in_turn(sents, i) and _declined(_next_turn(sents, i)))
            and not re.search(
                r"\b(?:not|never|don't|won't|no|when|until|before|after|next time)\b",
                s.norm[max(0, f.start() - 40) : f.start()],
            )
        ):  # "I don't want to see you coming back in here", "until you come back": not an arrangement
            tail = " ".join(s.norm[f.end() :].split()[:6])
            add(f"follow-up: {f.group(0)} {tail}".strip(), "therapist", i, _next_turn(sents, i)[:1])
            continue
        q = lx.SHOULD_I.match(prev.text.strip()) if prev is not None and prev.turn != s.turn else None
        if q and lx.YES_START.match(text):
            # "So I should practise even when I'm fine?" "Yes. Once a day ..." → one task from both turns;
            # a new directive inside the answer ("..., I'd also like you to keep a log") is handled below.
            turn = [lx.YES_START.sub("", o.text).strip(" .") for o in sents[i:] if o.turn == s.turn][:2]
            answer = turn[0] or (turn[1] if len(turn) > 1 else "")
            cue = lx.DIRECTIVE.search(answer)
            pre, text = (answer[: cue.start()], answer[cue.start() :]) if cue and cue.start() > 0 else (answer, "")
            pre = pre.strip(" ,.")
            first = re.sub(r"^please\s+", "", pre, flags=re.I).split(" ", 1)[0].lower()
            if lx.TASK_VERB.fullmatch(first or "-"):
                text, pre = answer, ""  # the answer is itself an instruction ("Yes, please jot down ...")
            if pre:
                task = re.sub(r"\bI\b", "you", re.sub(r"\bI'm\b", "you're", q.group("x").strip(" ?.")))
                add(f"{task}: {pre[:1].lower()}{pre[1:]}", "therapist", i)
            if not text:
                continue
        safety_advice = lx.SAFETY.search(s.norm) and re.search(r"\b(?:you can|go to|call|text)\b", s.norm)
        safety_advice = safety_advice and not re.search(r"\b(?:need|needs|needing|have|has) to go\b", s.norm)
        if safety_advice and not s.is_question and not lx.DIRECTIVE.search(text):
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
        if lx.WH_QUESTION.match(text) and not subordinate:
            continue  # "What could you tell yourself?" asks, it does not assign; "So when I see you, ..." may
        cues = list(lx.DIRECTIVE.finditer(text))
        imp = lx.IMPERATIVE.match(text)
        if not cues and not imp:
            continue
        body = text[cues[0].start() :] if cues else imp.group("body") if imp else ""
        if lx.IN_SESSION.search(body.lower()) and not (lx.HOMEWORK_CUE.search(s.norm) or lx.SAFETY.search(s.norm)):
            continue
        if cues and cues[0].group(0).lower().startswith("let's") and not lx.HOMEWORK_CUE.search(body.lower()):
            continue  # "Let's also try X" introduces something in session
        tasks = _split_tasks(body)
        reply = _next_turn(sents, i)
        strong = (bool(cues) and lx.STRONG_CUE.match(cues[0].group(0))) or lx.HOMEWORK_CUE.search(s.norm)
        if _declined(reply) or not (strong or _accepted(reply)):
            continue  # a suggestion the client did not take up ("you could get arrested", "another option is")
        answer = reply if s.is_question else []
        own = any(lx.COMMIT.match(o.text.strip()) or lx.MAYBE_DO.match(o.text.strip()) for o in answer)
        extra = _specifics(" ".join(o.text for o in answer)) if answer and not own else ""
        for k, task in enumerate(tasks):
            add(f"{task} ({extra})" if extra and k == len(tasks) - 1 else task, "therapist", i, reply[:1])
    return _dedupe_items(items)


def _commit_mid(norm: str) -> re.Match[str] | None:
    """A commitment inside the sentence, unless it is habit ("Wednesdays, I'll go to happy hour"), reported
    ("so I said, fine, I'll go"), or taken back ("but I'm not a follow-through person")."""
    m = lx.COMMIT_MID.search(norm)
    if (
        m is None
        or lx.HABIT.search(norm[: m.start()])
        or lx.TAKEN_BACK.search(norm[m.end("rest") - len(m.group("rest")) :])
    ):
        return None
    return m


def _last_in_turn(sents: list[Sentence], i: int) -> bool:
    """The client's reply answers the last thing the therapist said, not a sentence before it."""
    return i + 1 >= len(sents) or sents[i + 1].turn != sents[i].turn


def _accepted(reply: list[Sentence]) -> bool:
    return bool(reply) and bool(lx.ACCEPT.match(reply[0].norm))


def _declined(reply: list[Sentence]) -> bool:
    return bool(reply) and bool(lx.DECLINE.match(reply[0].norm))


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
