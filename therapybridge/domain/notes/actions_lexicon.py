"""The action-item lexicon, as data: the cue phrases that show a task being set, accepted or declined.

Regular expressions over sentences (most over normalised, lower-case text; see risk/sentences.py), and
word lists. The logic that reads them is in actions.py. The cues are the everyday wording of homework,
referrals, safety steps and follow-ups in therapy and brief-intervention sessions, not lines of any one
conversation.
"""

from __future__ import annotations

import re

from therapybridge.domain.notes.text import _rx

# Where a task starts: the last directive cue of a therapist sentence ("So for this week, how about X").
DIRECTIVE = re.compile(
    r"\b(?:(?:that's |this is )?what i'd like you to do is(?: to)?,?(?: uh,?| um,?)?"
    r"|i'd (?:also )?like you to|i would (?:also )?like you to|i want you to|could you(?: also)?|can you(?: also)?"
    r"|(?<!if )(?<!when )(?:i think )?you (?:just )?(?:need to|should)(?: maybe)?"
    r"|would you be willing to|how about|please|you could(?: also)?|how would you feel about|let's|aim for|try to"
    r"|remember to|make sure (?:you|to)|for homework,?(?: i'd like you to)?|this week,|to sum up,?)\s+",
    re.I,
)
# A directive only counts when the sentence is about something to do outside the session (not "let's try it now").
IN_SESSION = _rx(
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
HOMEWORK_CUE = _rx(
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
COMMIT = re.compile(
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
COMMIT_MID = re.compile(
    r"\b(?:i'll|i will|i'm going to|i'm gonna)(?: definitely| just| really| probably)? (?:try to |try and )?"
    r"(?P<rest>(?:avoid|stop|quit|cut|call|talk|tell|go|make|start|keep|find|get|throw|take|use|join|ask|look|write"
    r"|set|hang|spend|drink|smoke|bring|carry|book|see a|see the|see my doctor)\b.+)$"
)
ABILITY = re.compile(
    r"^(?:(?:okay|ok|yes|yeah|and|so|well|i mean|i guess|i think)\s+)*(?:maybe\s+)?(?:i can|i could)\b(?! try| do that)"
)
HABIT = re.compile(
    r"\b(?:sometimes|usually|often|always|normally|typically|when|whenever|every|mondays|tuesdays|wednesdays"
    r"|thursdays|fridays|saturdays|sundays|weekends|said|says|told|thought)\b"
)
TAKEN_BACK = re.compile(r"\bbut i (?:really )?(?:am not|'m not|don't|won't|never|can't)\b")
MAYBE_DO = re.compile(
    r"^(?:(?:yes|yeah|okay|ok|and|then|so)[,.]?\s+)*maybe\s+(?P<rest>(?:[a-z]+ing|ask|call|text|go|try|take|look"
    r"|bring|send|write|use)\b.+)$",
    re.I,
)
NOT_ACTION = re.compile(
    r"^(?:get (?:arrested|into|hurt|sick|in trouble|injured|killed|caught|fired|pregnant|worse|better|kicked"
    r"|suspended|expelled|\w+ed\b)"
    r"|have (?!(?:only|no|one|just|fewer|less|at most|a maximum|nothing|a glass|a drink|two|three)\b)"
    r"|be |feel |do anything|do to |do (?:in order|in|for|with|about|so)\b|need |want |end up|lose |die\b)"
)
NOT_TASK = _rx(
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
IMPERATIVE = re.compile(
    r"^(?:(?:and|so|also|good|okay|ok|great|right)[,.]?\s+)*(?P<body>(?:keep|continue|write|practi[cs]e|remember to"
    r"|make sure to|bring|call|text)\b.+)$",
    re.I,
)
WH_QUESTION = re.compile(
    r"^(?:(?:and|so|okay|now|then)[,.]?\s+)*(?:what|why|when|where|who|which|how(?! about| would you feel about))\b",
    re.I,
)
VAGUE = frozenset({"thing", "things", "something", "stuff", "anything"})
TASK_VERB = _rx(
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
GERUND = {
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
SAFETY = _rx(
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
REFERRAL = _rx(
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
FOLLOWUP = _rx(
    r"check in with you",
    r"therapist to",
    r"call you",
    r"bring [a-z ]*(?:next (?:time|session)|to (?:our |the )?next)",
    r"follow up",
    r"sooner than usual",
)
VERBS_ALT = "|".join(sorted(set(GERUND) | set(GERUND.values()), key=len, reverse=True))
SPLIT_ITEM = re.compile(
    rf",\s*(?:and\s+|or\s+)?(?=(?:a|an|the|then|also|and|one|two|three|i'll|i will|{VERBS_ALT})\b)"
    rf"|\s+and\s+(?=(?:{VERBS_ALT})\b)|;\s*",
    re.I,
)
# A dash before a new thought ("and, um-- You know, 'cause ...") ends the task.
TRAILS_OFF = re.compile(
    r"(?i)(?:,?\s*(?:and|or))?,?\s*(?:um|uh)?\s*(?:--|—)\s*(?=you know|i mean|'cause|because|anyway|so\b)"
)
NEGATED_TASK = re.compile(
    r"(?i)^(?:not|never|no longer)\s+(?:\w+\s+)?(?:have|drink|smoke|use|go|buy|keep|drive|take)\b"
)
# A participle after a bare comma describes the task before it ("keep a log, noting where you were").
ELABORATES = re.compile(r"^\s*(?:[a-z]+ing)\b", re.I)
# A part that refers back to the one before ("and then on the other side of the list", "practise it").
POINTS_BACK = re.compile(
    r"^\s*(?:then\s+)?[a-z]+\s+(?:it|them)\b|\b(?:the other side|that list|the list|the same)\b", re.I
)
PURPOSE_TAIL = re.compile(r",?\s+(?:so (?:that )?(?:we|she|he|they|you|it)|just to see|too|(?:right )?now$)\b.*$", re.I)
CHOICE_Q = _rx(
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
ABOUT_Q = re.compile(r"\bwhat about (?:a |the |your )?(?P<x>[a-z ]{3,30}?)\s*\?", re.I)
SHOULD_I = re.compile(r"^(?:so |and |but )?(?:should i|so i should|do i need to|i should)\s+(?P<x>.+?)\??$", re.I)
YES_START = re.compile(r"^(?:yes|yeah|yep|exactly|right|definitely|please)\b[,.!]?\s*", re.I)
# A therapist directive that assigns by itself; softer ones ("you could", "how about") need the client's yes.
STRONG_CUE = re.compile(
    r"(?i)(?:i'd (?:also )?like you to|i would (?:also )?like you to|i want you to|for homework|remember to"
    r"|make sure|this week|to sum up|please)"
)
ACCEPT = re.compile(
    r"^(?:(?:um|uh|well|mm hmm|mm)\s+)*(?:yes|yeah|yep|okay|ok|sure|sounds good|that sounds|that would be|that'd be"
    r"|i can do that|i can try|i'll try|i will|i'll|all right|alright|for sure|definitely|absolutely|fine|that works"
    r"|good idea|i could do that|i think so|i guess|maybe i (?:can|could)|i can)\b"
)
DECLINE = re.compile(
    r"^(?:(?:um|uh|well|mm hmm|mm)\s+)*(?:no|nope|nah|not really|i don't think|i'm not sure|i can't|i won't"
    r"|i don't want|i'd rather not|that's not)\b"
)
# Scheduling the next contact ("see you in two weeks", "come back next week").
FOLLOW_UP = re.compile(
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
FOLLOW_OFFER = re.compile(
    r"\b(?:could|can|shall|may) i (?P<v>call|text|phone|check in with|see) you(?P<rest>[^?.!]*)", re.I
)
SPECIFICS = re.compile(
    r"\b(?:on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|tonight|tomorrow(?: morning| evening)?"
    r"|this weekend|every day|each day)\b|\bmy (?P<who>sister|brother|mom|mother|dad|father|partner|wife|husband"
    r"|friend|son|daughter) (?:could|can|will|would) (?:come|do it|join)\b|\bwith my (?P<with>sister|brother|mom"
    r"|mother|dad|father|partner|wife|husband|friend|son|daughter)\b",
    re.I,
)
KIN_MENTION = re.compile(
    r"\b(?:my|your|the|his|her) (?P<k>partner|husband|wife|boyfriend|girlfriend|boss|manager|sister|brother|mom"
    r"|mother|dad|father|friend|doctor|roommate|son|daughter)\b",
    re.I,
)
STOP = frozenset(
    str.split(
        "a an the to of and or in on at for with your you my i me it its this that these those be is are was were "
        "will would can could should do does did have has had so just also some any each very really maybe please "
        "like then there their them they he she we us our his her"
    )
)
