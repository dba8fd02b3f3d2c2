"""The counselling-skills lexicon, as data: how a therapist's sentences show each intervention.

Each entry has the gold key (bench/gold/README.md), a display name, a category, a plain description for
the client, the cue phrases (regular expressions over normalised therapist sentences) and how many
sentences must show it before the session counts as using it. The logic is in skills.py.

The cues are the standard wording of motivational interviewing and brief interventions (OARS: open
questions, affirmations, reflections, summaries; asking permission; decisional balance; rulers; change
planning; menus of options) as the MI literature and training material phrase them, not lines of any one
conversation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Skill:
    key: str
    name: str
    category: str
    plain: str  # for the client summary
    cues: tuple[str, ...]
    min_sentences: int = 1
    # A question never shows it (affirmations, summaries), except a "so ..." question for a reflection,
    # which is how reflections often come out in speech ("So you're worried about the weight?").
    statement_only: bool = False


_YOU = r"(?:you|you're|you've|you'd|you'll)"

SKILLS: tuple[Skill, ...] = (
    Skill(
        "reflective_listening",
        "reflective listening",
        "motivational interviewing",
        "going over what you said so that we understood it the same way",
        (
            r"^(?:so |and |okay so |ok so |right so |yeah so |mm hmm so |well )?(?:it )?sounds like",
            r"^(?:so |and |okay so |ok so |right so |yeah so |mm hmm so )?(?:it seems|seems like|it's like you|"
            r"what i'm hearing|i'm hearing|i hear)",
            r"^(?:so |and |okay so |ok so |right so |yeah so |mm hmm so |and so |so it's )?(?:you (?:feel|felt|really"
            r"|don't|didn't|want|wanted|think|thought|are|were|have|had|can't|sound|seem|like|just|also|still|both"
            r"|kind of|sort of|would|wouldn't|might|believe|enjoy|love|hate|wish|worry|see|mentioned|said)"
            r"|(?:you're|you've|you'd) (?!likely|going to have|gonna have|required|supposed)[a-z']+)",
            r"^(?:so |and |okay so |right so )?your (?:[a-z]+ ){0,2}(?:is|are|was|were|seems?|sounds?)\b",
            r"^(?:so |and )?(?:part of you|on the one hand|for you|in your mind|to you)",
            r"^so (?:it's|that's|this is) (?:been |really )?(?:hard|difficult|important|a big|something|not|kind of)",
        ),
        min_sentences=2,
        statement_only=True,
    ),
    Skill(
        "affirmation",
        "affirmations",
        "motivational interviewing",
        "the strengths and efforts you showed",
        (
            r"\bgood for you\b",
            r"\bwell done\b",
            r"\b(?:great|good|nice|excellent|awesome) (?:job|work|for you|question|point)\b",
            r"\bthat's (?:really |so |very )?(?:great|wonderful|awesome|fantastic|impressive|excellent|amazing"
            r"|terrific|a big step|a great step|a huge step|a good step|quite an accomplishment|an accomplishment)\b",
            r"\bi'm (?:really |so |very )?(?:impressed|proud)\b",
            r"\b(?:should|can) be (?:really |very )?proud\b",
            r"\b(?:takes|took|shows|showed|showing) (?:a lot of |real |some )?(?:courage|strength|guts|commitment"
            r"|determination|insight|maturity)\b",
            rf"\b{_YOU} (?:have |'ve )?(?:done|made|worked|come) (?:so |really |such )?(?:well|great|a great job|a lot"
            r"|so much|a long way|real progress|progress|a good job)\b",
            r"\bthank you for (?:being (?:so )?(?:honest|open)|your honesty|sharing (?:that|this|so)|telling me)\b",
            r"\bi (?:really )?appreciate (?:your (?:honesty|openness|effort|work|commitment)|you(?:r)? (?:being|sharing"
            r"|telling|coming)|that you|how)\b",
            r"\b(?:that's|those are|it's) (?:a )?(?:very |really )?good (?:reasons?|ideas?|points?|insight)\b",
            r"\b(?:really|some|a couple of|a few) (?:really )?good ideas\b",
            rf"\b{_YOU} (?:really |clearly |obviously )?(?:care|love) (?:about|a lot|so much|deeply)\b",
            rf"\b(?:it's|that's) (?:clear|obvious) (?:that )?{_YOU} (?:really )?(?:care|love|want)\b",
            rf"\b{_YOU} (?:are|'re) (?:a |really |very |so )?(?:determined|committed|strong|resourceful|caring"
            r"|responsible|good (?:mom|mother|dad|father|parent|friend)|smart|motivated|honest)\b",
        ),
        statement_only=True,
    ),
    Skill(
        "summary",
        "summaries",
        "motivational interviewing",
        "a summary of what we talked about",
        (
            r"\blet me (?:just )?(?:summari[sz]e|sum up|recap|pull (?:this|that|it|together)|see if i (?:understand|got"
            r"|have|'ve got))\b",
            r"\b(?:to|just to|if i (?:could|can|may)) (?:sum (?:it |this |that )?up|summari[sz]e|recap)\b",
            r"\bso (?:far|overall|all in all|in summary|to sum up)[a-z' ]{0,20} (?:you(?:'ve| have)? (?:told|said"
            r"|mentioned|talked)|what i)\b",
            r"\bwhat i(?:'ve| have) heard (?:you say|so far|today)\b",
            r"\blet me (?:make sure|check) (?:that )?i(?:'ve| have)? (?:got|understood|understand|heard)\b",
            r"\bif i(?:'ve| have) (?:got|understood) (?:this|that|you|it) (?:right|correctly)\b",
            r"\bi(?:'ve)? heard you say\b",
            r"\bwhat i'm hearing is\b",
            r"\b(?:the other|another) (?:idea|thing|reason) you (?:talked about|mentioned|said)\b",
            r"\bsome of the (?:benefits|reasons|things|costs|concerns) you(?:'re| are)?"
            r" (?:expecting|mentioned|said|see)\b",
            r"\b(?:right now )?where we are is\b",
        ),
        statement_only=True,
    ),
    Skill(
        "asking_permission",
        "asking permission",
        "motivational interviewing",
        "information shared with your permission",
        (
            r"\b(?:would|will|is) it (?:be )?(?:ok|okay|alright|all right|fine) (?:with you )?if (?:i|we)\b",
            r"\b(?:do|would) you mind if (?:i|we)\b",
            r"\b(?:can|could|may) i (?:share|tell you|give you|offer|suggest|make a suggestion|mention|go over"
            r"|show you|talk (?:to you|with you) about|ask you (?:about|a few|some))\b",
            r"\bwould you (?:like|want) (?:me to (?:share|tell|give|go over|explain)|(?:to hear|some|more)"
            r" (?:information|ideas|suggestions|about))\b",
            r"\bwould you be (?:interested|open|willing) (?:in|to) (?:hearing|learning|knowing|talking|looking)\b",
            r"\bwith your permission\b",
            r"\bif that's (?:ok|okay|alright|all right)(?: with you)?\b",
        ),
    ),
    Skill(
        "information_advice",
        "information and advice",
        "psychoeducation",
        "information about your health and what can help",
        (
            r"\b(?:research|studies|the evidence|science) (?:shows?|suggests?|has shown|says?|tells us)\b",
            r"\b(?:i|we) (?:would |'d |strongly |really )?(?:recommend|advise|suggest) (?:that|you|to|trying|cutting"
            r"|quitting|getting|taking)\b",
            r"\b(?:doctors?|experts?|guidelines?|recommendations?) (?:recommend|say|suggest|advise)\b",
            r"\b(?:increases?|raises?|reduces?|lowers?|doubles?|cuts?) (?:your|the) (?:risk|chances?|odds)\b",
            r"\b(?:the |a )?(?:risks?|dangers?|side effects?|benefits?|effects?) (?:of|from) (?:drinking|smoking"
            r"|alcohol|using|taking|the|this|that|not|quitting|exercise|being)\b",
            r"\b(?:can|could|may|will|might) (?:cause|lead to|damage|harm|affect your|increase|raise|trigger"
            r"|interact|make (?:it|you|your))\b",
            r"\b(?:low risk|recommended|safe|healthy) (?:drinking )?(?:limits?|guidelines?|levels?|amount|range)\b",
            r"\bstandard drinks?\b",
            r"\bis associated with\b",
            r"\b(?:what|one thing) (?:we|i) know\b",
            r"\bmy (?:advice|recommendation|suggestion)\b",
            r"\b(?:it's|it is) (?:really |very )?(?:important|recommended|a good idea|best) (?:to|that|for you)\b",
            r"\b(?:patches?|nicotine gum|nicotine replacement|lozenges?|medications?|vaccines?|the shot|inhalers?)"
            r" (?:can|will|help|work|are|is)\b",
            r"\b(?:most|many|a lot of) people (?:who|find|that)\b",
            r"\bwe (?:actually )?(?:know|consider) (?:that|if|\d|twenty|a)\b",
            r"\b(?:causes?|caused) (?:things like|cancer|damage|problems|disease)",
            r"\b(?:is|are|it's) (?:not legal|illegal|against the law)\b",
            r"\b(?:drinking|legal) age\b",
            r"\b(?:is|are|it's) (?:really |very )?(?:bad|harmful|dangerous|good|healthy)"
            r" for (?:you|your|them|her|him)\b",
            r"\bthe (?:good|bad) news is\b",
            r"\b(?:can't|cannot|wouldn't|would not|i'd) recommend\b",
            r"\ba lot of times\b",
            r"\b(?:the )?(?:odds|chances) are\b",
            r"\bwhat happens when (?:someone|you|people)\b",
            r"\b(?:consequences|side effects) (?:of|with|from)\b",
            r"\b(?:protects?|protecting) (?:you|them|your|her|him)\b",
        ),
        statement_only=True,
    ),
    Skill(
        "screening_feedback",
        "personalised feedback",
        "motivational interviewing",
        "what your results mean",
        (
            r"\byour (?:score|scores|results?|numbers|a1c|a1 c|blood (?:pressure|sugar|tests?)|cholesterol|levels?"
            r"|readings?|test results?|answers) (?:is|are|was|were|came|come|show|shows|showed|puts?|put|indicate)\b",
            r"\b(?:based on|according to|looking at|from) (?:your|the) (?:answers|responses|screening|questionnaire"
            r"|form|score|results|survey)\b",
            r"\bputs you (?:in|at|into|above)\b",
            r"\bcompared (?:to|with) (?:other|most) (?:people|men|women|students|adults|people your age)\b",
            r"\b(?:percent|percentile) of (?:people|men|women|students|adults|the population)\b",
            r"\b(?:hazardous|harmful|at risk|risky|high risk|moderate risk) (?:drinking|category|range|level|zone)\b",
            r"\b(?:screening|questionnaire|form|survey) (?:you )?(?:filled|completed|did|took)\b",
        ),
    ),
    Skill(
        "decisional_balance",
        "decisional balance (pros and cons)",
        "motivational interviewing",
        "the good and the not-so-good sides of change",
        (
            r"\bpros and cons\b",
            r"\b(?:good|positive|not so good|less good|bad|negative|best|worst) (?:things?|parts?|sides?)"
            r" (?:about|of)\b",
            r"\bwhat do you (?:like|enjoy|get out of|not like|dislike|like least|like most) about\b",
            r"\b(?:upside|downside|upsides|downsides|benefits?|costs?|advantages?|disadvantages?|drawbacks?)"
            r" (?:of|to|about|for you)\b",
            r"\bon the other hand\b",
            r"\bwhat (?:would|might|could) be (?:good|better|different|hard|the (?:good|bad|hard) (?:things?|part))"
            r" (?:about|if) (?:cutting|quitting|stopping|changing|making|not)\b",
        ),
        min_sentences=2,
    ),
    Skill(
        "scaling_question",
        "scaling questions",
        "motivational interviewing",
        "rating how important and how confident you feel about the change",
        (
            r"\bon a scale\b",
            r"\bscale (?:of|from) (?:0|zero|1|one)\b",
            r"\b(?:from|between) (?:0|zero|1|one) (?:to|and) (?:10|ten|100|a hundred)\b",
            r"\b(?:0|zero|1|one) (?:being|is|means) (?:not|no|the least|never)\b",
            r"\b(?:10|ten|100|a hundred) (?:being|is|means) (?:the most|very|extremely|completely|totally|really)\b",
            r"\bwhy (?:a|an) (?:\w+) and not (?:a |an )?(?:\w+)\b",
            r"\bwhat would (?:it )?take (?:for you )?to (?:go|get|move) (?:from|up|to) (?:a|an)\b",
        ),
    ),
    Skill(
        "exploring_values_goals",
        "exploring values and goals",
        "motivational interviewing",
        "what matters most to you and where you want to go",
        (
            r"\bwhat(?:'s| is| are) (?:most |really |the most )?important (?:to|for) you\b",
            r"\bwhat matters (?:most )?(?:to you|for you)\b",
            r"\byour (?:values|goals?|dreams?|hopes?|priorities)\b",
            r"\bwhat (?:do|would) you (?:want|like|hope) (?:for (?:yourself|your)|your life|to see|to be"
            r"|in (?:the|your) future)\b",
            r"\bwhere (?:do|would) you (?:want|like|see) (?:to be|yourself)\b",
            r"\b(?:in|over|the next) (?:five|5|ten|10|a few|two|2) years\b",
            r"\bwhat kind of (?:person|father|mother|parent|life|dad|mom)\b",
            r"\bhow does (?:drinking|smoking|using|that|this|it) fit\b",
            r"\bwhat are you hoping\b",
            r"\bwhat would you like to (?:see|happen|change|be different)\b",
        ),
    ),
    Skill(
        "change_planning",
        "change planning",
        "motivational interviewing",
        "a plan for the next steps",
        (
            r"\b(?:first|next|small|little|first few) steps?\b",
            r"\b(?:your|a|the) (?:game )?plan (?:is|would be|might be|for)\b",
            r"\bwhat (?:will|would|could|can|might) you do\b",
            r"\bhow (?:will|would|could|can|might) you (?:go about|do that|make (?:that|it|this) happen|start|get there"
            r"|manage|handle|approach)\b",
            r"\bwhen (?:will|would|could|do) you (?:start|begin|want to start|like to start)\b",
            r"\b(?:set|pick|choose|setting|picking) a (?:quit |start |target )?(?:date|day|goal)\b",
            r"\b(?:make|come up with|put together|work out|making|write) (?:a|your) plan\b",
            r"\bwhat do you think you(?:'ll| will| might| could| can) (?:do|try)\b",
            r"\bwhere (?:do|would|could) you (?:like to )?(?:start|begin)\b",
            r"\bwhat (?:might|would) (?:that|it|this) look like\b",
            r"\b(?:what's|what is) your goal\b",
            r"\bwhat (?:is it|are you) (?:that )?(?:you'd like|you would like|willing) to"
            r" (?:work on|do|think about|try)",
            r"\b(?:any )?(?:thoughts|ideas) (?:on|about) (?:what|how) (?:you|concretely)",
            r"\bhow would you go about\b",
            r"\bwhat would that look like\b",
            r"\b(?:do you|you) (?:feel|think) (?:pretty |fairly )?confident (?:that )?you (?:could|can)\b",
            r"\bhave you thought about how\b",
            r"\b(?:that's|that is) (?:gonna|going to) be your goal\b",
            r"\b(?:from now|between now) (?:to|and|until) (?:the )?next time\b",
        ),
        min_sentences=2,
    ),
    Skill(
        "menu_of_options",
        "menu of options",
        "motivational interviewing",
        "different options you could choose from",
        (
            r"\b(?:a few|several|a couple of|a number of|two|three|different) (?:options|choices|alternatives"
            r"|approaches|things you (?:could|can|might) (?:do|try))\b",
            r"\bone (?:option|thing you could do|possibility|choice) (?:is|would be|might be)\b",
            r"\banother (?:option|possibility|thing you could|choice|way)\b",
            r"\bthere (?:are|'re) (?:lots of|many|several|a few|a number of|different) (?:ways|options|programs"
            r"|treatments|medications|choices|products|kinds)\b",
            r"\byou (?:could|can|might) (?:either|also try)\b",
        ),
    ),
    Skill(
        "relapse_prevention",
        "relapse prevention",
        "relapse prevention",
        "planning for tempting situations and how to handle them",
        (
            r"\btriggers?\b",
            r"\bhigh risk (?:situations?|times?|places?)\b",
            r"\bwhat (?:might|could|would|will) (?:get in the way|make it (?:hard|harder|difficult)"
            r"|be (?:hard|difficult|a challenge|tough))\b",
            r"\b(?:if|when) you (?:slip|relapse|have a slip|feel tempted|get (?:the|an) urge|have a craving"
            r"|get a craving|are tempted|feel pressured)\b",
            r"\bhow (?:will|would|could|can|might|do) you (?:handle|cope with|deal with|resist|say no|turn (?:it|them)"
            r" down)\b",
            r"\b(?:cravings?|urges?|temptations?) (?:come|hit|happen|get strong)\b",
            r"\bstay (?:on track|sober|clean|quit|smoke free)\b",
        ),
    ),
    Skill(
        "harm_reduction",
        "harm reduction",
        "harm reduction",
        "ways to lower the harm",
        (
            r"\bharm reduction\b",
            r"\b(?:safer|less harmful|less risky)\b",
            r"\b(?:designated driver|a ride home|call a cab|an uber|a taxi)\b",
            r"\b(?:don't|not|never) (?:drive|driving|get in the car) (?:after|when|if)\b",
            r"\b(?:alternate|alternating|pace|pacing|space|spacing) (?:your |the )?(?:drinks|it out|with water)\b",
            r"\b(?:eat|food|eating) (?:before|while) (?:drinking|you drink)\b",
            r"\b(?:smoke|smoking) (?:outside|away from)\b",
            r"\b(?:clean needles|needle exchange|naloxone|narcan|fentanyl test)\b",
            r"\b(?:change|changing|wash|washing) (?:your )?(?:clothes|hands) (?:after|before)\b",
        ),
    ),
    Skill(
        "self_monitoring",
        "self-monitoring",
        "self-monitoring",
        "keeping track of how things go",
        (
            r"\b(?:keep|keeping|kept|write|track|tracking|log|logging|record|recording|fill out|fill in)"
            r" (?:a |your |the )?(?:diary|journal|log|record|tally)\b",
            r"\bkeep(?:ing)? (?:a )?track\b",
            r"\b(?:write|jot|writing|jotting) (?:it|them|that|those|each one|every) down\b",
            r"\b(?:drink|drinking|sleep|food|mood|thought|smoking|craving|cigarette|exercise|blood sugar)"
            r" (?:diary|log|journal|record|tracker)\b",
            r"\b(?:track|count|monitor|counting|monitoring) (?:how (?:many|much|often)|your (?:drinks|cigarettes|steps"
            r"|blood sugar))\b",
        ),
    ),
)

# The technique catalogue's entries (strategies.py, mostly CBT) under the same keys.
CATALOGUE_KIND: dict[str, str] = {
    "box_breathing": "breathing_relaxation",
    "breathing": "breathing_relaxation",
    "pmr": "breathing_relaxation",
    "grounding_54321": "grounding_mindfulness",
    "grounding": "grounding_mindfulness",
    "mindfulness": "grounding_mindfulness",
    "thought_records": "cognitive_restructuring",
    "restructuring": "cognitive_restructuring",
    "distortions": "cognitive_restructuring",
    "behavioral_activation": "behavioral_activation",
    "activity_log": "behavioral_activation",
    "behavioral_experiment": "cognitive_restructuring",
    "exposure": "exposure",
    "sleep_hygiene": "sleep_hygiene",
    "stimulus_control": "sleep_hygiene",
    "sleep_restriction": "sleep_hygiene",
    "sleep_diary": "self_monitoring",
    "safety_planning": "safety_planning",
    "means_safety": "safety_planning",
    "i_statements": "assertive_communication",
    "assertive": "assertive_communication",
    "time_out": "assertive_communication",
    "pros_cons": "decisional_balance",
    "drink_diary": "self_monitoring",
    "values": "exploring_values_goals",
    "problem_solving": "problem_solving",
    "role_play": "assertive_communication",
    "rating": "scaling_question",
    "relapse_prevention": "relapse_prevention",
    "psychoeducation": "information_advice",
    "worry_time": "cognitive_restructuring",
    "delay_checking": "behavioral_activation",
    "self_soothing": "coping_skills",
    "social_support": "coping_skills",
    "check_in": "assertive_communication",
    "dbt": "coping_skills",
}
