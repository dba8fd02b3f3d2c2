"""The risk lexicon, as data: trigger phrases per risk type, the word lists the clause rules use, and the cues
for severity. The logic that reads them is in clauses.py, detect.py and severity.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from therapybridge.document import RiskType

# A pattern's group "v" is its key phrase: negation is looked for between the subject and "v".
_I = r"(?:i|i'm|i've|i'd|i'll)"
_GAP = r"(?:\s+(?!(?:he|she|they|you|we|him|her|them|it)\b)[a-z']+){0,4}?"  # up to 4 words, no other subject
_OBJ = (
    r"(?:him|her|them|someone|somebody|anyone|anybody|people|everyone|everybody|that (?:guy|man|woman|idiot|jerk|"
    r"bastard|bitch)|the (?:guy|man|woman|boss|neighbou?r|landlord)|(?:his|her) (?:new )?(?:boyfriend|girlfriend|"
    r"husband|wife|partner)|my (?:boss|manager|wife|husband|partner|ex|ex wife|ex husband|girlfriend|boyfriend|dad|"
    r"father|mom|mother|mum|stepdad|stepmom|brother|sister|neighbou?rs?|coworkers?|co workers?|colleagues?|"
    r"roommate|landlord|teacher|son|daughter|kids?|child|children|baby|family|in laws|supervisor))"
)
_HARM_V = (
    r"(?:kill|killing|hurt|hurting|hit|hitting|punch|punching|beat|beating|beat up|stab|stabbing|shoot|shooting|"
    r"strangle|strangling|choke|choking|smash|smashing|run over|murder|murdering|slap|slapping|"
    r"harm|harming|batter|strangled|stabbed|shot|punched|killed|harmed|slapped)"
)
_DEP = (
    r"(?:the kids|my kids|the children|my children|my son|my daughter|the baby|my baby|my toddler|the little ones|"
    r"my little (?:boy|girl))"
)
_PERP = (
    r"(?:he|she|they|he's|she's|they've|he'd|she'd|my (?:husband|wife|partner|boyfriend|girlfriend|ex|dad|father|"
    r"mom|mother|mum|stepdad|stepfather|stepmom|stepmother|brother|sister|uncle|aunt|grandfather|grandpa|cousin|"
    r"carer|caregiver|coach|teacher|roommate))"
)
_VICT = r"(?:me|us|my (?:son|daughter|kids?|children|child|baby|mom|mother|mum|little (?:boy|girl|brother|sister)))"
_ABUSE_V = (
    r"(?:(?:hits|hit|hitting|beats|beat|beating|punched|punches|punch|punching|slapped|slaps|slap|slapping|kicked"
    r"|kicks|kick|kicking|choked|chokes|choking|strangled|strangles|strangling|smacked|smacks|spanked|bit|bites"
    r"|burned|raped|rapes|molested|bruised) {V}(?! (?:up|out|at|in|to|back)\b)"
    r"|(?:pushed|pushes|shoved|shoves|threw|throws|slammed|slams|pinned|pins|grabbed|grabs|dragged|drags|locked"
    r"|locks) {V} (?:against|into|down|over|onto|off|out of|in|by the|to the (?:floor|ground|wall)|up against)"
    r"|(?:threw|throws|thrown) (?:[a-z]+ ){{0,2}}at {V}|physically hurt(?:s)? {V}|hurt {V} physically)"
)
_CHILD_HARM_V = (
    r"(?:hit|hits|smacked|smack|slapped|slap|spanked|spank|beat|kicked|punched|shook|shake|choked) {D}"
    r"|(?:pushed|shoved|threw|grabbed|dragged|locked) {D} (?:against|into|down|over|onto|off|in|by the|to the)"
)


# Alcohol and drug words (the lexicon of the substance_use trigger). Ambiguous words carry their own
# guards: "got high" but not "got high cholesterol", "pot" but not "a pot of tea", "coke" but not "a diet coke".
ALCOHOL = (
    r"(?:drink|drinks|drinking|drank|drunk|beers?|wine|vodka|whiske?y|booze|liquor|alcohol|pints|gin|rum|tequila"
    r"|(?<!flu )(?<!insulin )(?<!vaccine )(?<!booster )(?<!the )shots|(?<!good )(?<!high )(?<!low )spirits"
    r"|tipsy|buzzed|hung ?over|hangovers?|(?:got|get|getting|was) (?:wasted|hammered|smashed)"
    r"|binge(?:s|d|ing)?(?! (?:eat\w*|watch\w*))|six pack|a fifth)"
)
DRUGS = (
    r"(?:weed(?! out)|cannabis|marijuana|(?:a|smoke|smoking|smoked|roll|rolled|rolling|couple of|few) joints?"
    r"|blunts?|edibles"
    r"|(?<!a )(?<!cooking )(?<!flower )(?<!tea )(?<!coffee )pot(?! (?:of|roast|luck|holes?|belly|plants?)\b)"
    r"|hash(?! browns?)|cocaine|crack|(?:doing|do|did|snort\w*|lines? of|bump of|some|on|using|use|used|tried|into"
    r"|gram of) coke|meth|methamphetamine|heroin|dope"
    r"|smack|fentanyl|opioids?|opiates?|oxy|oxys|oxycodone|oxycontin|percocet|percs|vicodin|hydrocodone|morphine"
    r"|methadone|suboxone|xanax|benzos?|valium|klonopin|ativan|painkillers|molly|mdma|ecstasy|ketamine|lsd"
    r"|acid tabs?|shrooms|(?:street|recreational|hard|illegal|party) drugs|drugs and alcohol|alcohol and drugs"
    r"|(?:doing|do|did|does|on|using|use|used|into|tried|try|sell|selling|sold) drugs)"
)
DRUG_USE = (
    r"(?:(?:get|gets|getting|got|i'm|stay|staying) (?:so )?high(?! (?:cholesterol|blood|school|grades?|marks?"
    r"|scores?|fever|temperature|sugar|risk|levels?|standards|hopes|expectations)\b)|stoned|shoot(?:ing)? up|shot up"
    r"|inject(?:s|ed|ing)? (?:heroin|meth|drugs|dope)|iv drugs|snort(?:s|ed|ing)?|lines of coke|overdos(?:e|ed|es|ing)"
    r"|od'?d|using again|started using|been using|stopped using|quit using|detox(?:ing)?|doing (?:coke|lines)"
    r"|pop(?:ping)? pills|(?:my|someone else's|a friend's|his|her) (?:pain )?pills(?= (?:to|that|when|more|not))"
    r"|(?:more|extra|too many) (?:of )?(?:my )?(?:pain )?(?:pills|meds|tablets) than)"
)
# A drink that is not alcohol: "drinking water", "a drink of juice".
NOT_A_SOFT_DRINK = (
    r"(?! (?:of |some |more |a |a lot of |lots of |plenty of )?(?:coffee|tea|water|juice|fruit juice|soda|pop|milk"
    r"|energy drinks?|smoothies?"
    r"|cola|decaf|lemonade|shakes?|sports drinks?|diet coke))"
)


# Dependent adults and the care they need, for neglect by a caregiver.
_CARED = (
    r"(?:she|he|mom|dad|grandma|grandpa|my (?:mother|father|mom|mum|dad|grandmother|grandfather|grandma|grandpa"
    r"|husband|wife|partner|aunt|uncle|brother|sister|patient|client))"
)
_GIVE = r"(?:give|get|pick up|fill|refill|bring|giving|getting|picking up)"
_CARED_POS = r"(?:mom's|dad's|my (?:mother's|father's|mom's|mum's|dad's|grandmother's|grandfather's|husband's|wife's))"
_CARE = (
    r"(?:pills|medication|medications|meds|medicine|insulin|prescriptions?|food|meals|dinner|lunch|breakfast|oxygen"
    r"|water)"
)


@dataclass(frozen=True)
class Trigger:
    type: RiskType
    kind: str  # what the phrase says: passive, active, act, urge, threat, stalking, use, victim, neglect...
    pattern: re.Pattern[str]
    self_subject: bool = True  # the client must be the subject (checked by walking back from "v")
    builtin_negation: bool = False  # the phrase carries its own negation ("don't want to live")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _t(type_: RiskType, kind: str, rx: str, *, self_subject: bool = True, builtin_negation: bool = False) -> Trigger:
    return Trigger(type_, kind, re.compile(rx), self_subject, builtin_negation)


TRIGGERS: list[Trigger] = [
    # ---- suicidal ideation: active -----------------------------------------------------------
    _t("suicidal_ideation", "active", r"\b(?P<v>(?:kill|killing|killed|off|offing) myself)\b(?! laughing)"),
    _t("suicidal_ideation", "active", r"\b(?P<v>(?:end|ending|ended|take|taking|took) my (?:own )?life)\b"),
    _t("suicidal_ideation", "active", r"\b(?P<v>end(?:ing)? it all|end(?:ing)? everything)\b"),
    _t("suicidal_ideation", "active", r"\b(?P<v>(?:commit|committing|committed) suicide)\b"),
    _t("suicidal_ideation", "active", r"\b(?P<v>suicidal)\b"),
    _t(
        "suicidal_ideation",
        "active",
        r"\b(?P<v>(?:want|wanted|wanting|planning|plan|ready|decided|intend|intending|tempted)"
        r" to (?:die|be dead|not be alive|not exist|stop living))\b",
    ),
    _t(
        "suicidal_ideation",
        "active",
        r"\b(?P<v>(?:thinking|thought|think|thoughts|dreaming|fantasi[sz]ing|fantasies) (?:about|of)"
        r" (?:dying(?! (?:of|from|in)\b)|being dead|not being (?:here|alive|around)"
        r"|ending (?:it|my life|things)|suicide"
        r"|taking my (?:own )?life|not existing|not waking up|how (?:i'd|i would|to) (?:do it|die|end it)))\b",
    ),
    _t(
        "suicidal_ideation",
        "attempt",
        r"\b(?P<v>(?:tried|attempted|try|trying|attempt) to (?:kill myself|end my life|end it all"
        r"|take my (?:own )?life|commit suicide)|suicide attempts?|(?:overdosed|took an overdose) on purpose)\b",
    ),
    # ---- suicidal ideation: passive ------------------------------------------------------------
    _t(
        "suicidal_ideation",
        "passive",
        r"\b(?P<v>(?:better off|happier|easier|better)(?: for [a-z]+(?: [a-z]+)?)?"
        r" (?:without me|if i (?:wasn't|weren't) (?:here|around|alive)"
        r"|if i (?:was|were) (?:gone|dead|not here|not around|never born)|if i (?:just )?(?:died|disappeared"
        r"|didn't exist)))",
        self_subject=False,
    ),
    _t("suicidal_ideation", "passive", r"\b(?P<v>better off dead)\b"),
    _t(
        "suicidal_ideation",
        "passive",
        r"\b(?P<v>(?:easier|better|rather) (?:to )?(?:just )?(?:not exist|not be alive|not be here|be dead"
        r"|not wake up|disappear for good))\b",
    ),
    _t("suicidal_ideation", "passive", r"\b(?P<v>(?:want|wanted|need|needed) (?:it all|everything) to (?:end|stop))\b"),
    _t(
        "suicidal_ideation",
        "passive",
        r"\b(?P<v>(?:hope|hoping|wish|wishing|pray|praying) (?:that )?i (?:get|got|would get|'d get) (?:hit by"
        r"|killed|in a (?:fatal )?(?:crash|accident)|cancer))",
        self_subject=False,
    ),
    _t(
        "suicidal_ideation",
        "plan",
        r"\b(?P<v>(?:wrote|written|writing|write) (?:a |my )?(?:suicide note|goodbye (?:letters?|notes?)"
        r"|farewell (?:letters?|notes?)))",
    ),
    _t(
        "suicidal_ideation",
        "active",
        r"\b(?P<v>(?:thought|thinking|think|thoughts|fantasi[sz]ing) (?:about|of) (?:jumping (?:off|in front of)"
        r"|hanging myself|overdosing|taking all (?:my|the) (?:pills|tablets|meds)|driving (?:my car )?(?:into|off)"
        r"|slitting my wrists|shooting myself))",
    ),
    _t(
        "suicidal_ideation",
        "passive",
        r"\b(?P<v>wish(?:ed|ing)? (?:that )?i (?:(?:wasn't|weren't) (?:here|alive|around)|(?:was|were|'d|had)"
        r" (?:never been born|never born|dead|not born"
        r"|not here|gone)))",
        self_subject=False,
    ),
    _t(
        "suicidal_ideation",
        "passive",
        r"\b(?P<v>wish(?:ed|ing)? (?:that )?i (?:could|would|'d|might|can)(?: [a-z']+){0,2}? (?:die|disappear"
        r"|vanish|not wake up|never wake up|stop existing|cease to exist|sleep forever|not be here|not exist"
        r"|be dead|go to sleep and (?:not|never) wake up|fall asleep and (?:not|never) wake up))\b",
        self_subject=False,
    ),
    _t(
        "suicidal_ideation",
        "passive",
        r"\b(?P<v>(?:hope|hoping|wish|wishing|pray|praying) (?:that )?i (?:don't|won't|do not|will not|never"
        r"|wouldn't) wake up)\b",
        self_subject=False,
    ),
    _t("suicidal_ideation", "passive", r"\b(?P<v>(?:go|went|going) to sleep and (?:not|never) wake up)\b"),
    _t(
        "suicidal_ideation",
        "passive",
        r"\b(?:don't|do not|didn't|no longer|never) (?:really )?(?P<v>want to (?:live|be alive|exist|keep living"
        r"|go on|be around|wake up|be here (?:anymore|any more)))\b(?! (?:with|in|at|near|there|on|by|alone|together))",
        builtin_negation=True,
    ),
    _t(
        "suicidal_ideation",
        "passive",
        r"\b(?P<v>(?:no|not any|don't have (?:a|any)|don't see (?:a|any|the)|can't see (?:a|any|the)|there's no"
        r"|what's the|what is the) (?:reason|point) (?:to|in|of) (?:live|living|going on|being alive|being here"
        r"|carrying on|keep going|keeping going))\b",
        self_subject=False,
        builtin_negation=True,
    ),
    _t("suicidal_ideation", "passive", r"\b(?P<v>nothing (?:left )?to live for)\b", builtin_negation=True),
    _t("suicidal_ideation", "passive", r"\b(?P<v>(?:tired|sick) of (?:living|being alive))\b"),
    _t(
        "suicidal_ideation",
        "passive",
        r"\b(?P<v>(?:life|living|my life|it)(?: just)? (?:isn't|is not|'s not|ain't|doesn't feel|does not feel"
        r"|don't feel) worth (?:living|it anymore|it any more))\b",
        self_subject=False,
        builtin_negation=True,
    ),
    _t(
        "suicidal_ideation",
        "passive",
        r"\b(?P<v>(?:noone|nobody) (?:would|'d|will|'ll|is going to|even)(?: [a-z']+){0,2}? (?:care|notice|miss me)"
        r"(?: [a-z']+){0,3}? if i (?:was|were|died|disappeared|wasn't|weren't|just|killed|was gone|were gone))",
        self_subject=False,
        builtin_negation=True,
    ),
    _t(
        "suicidal_ideation",
        "distress",
        r"\b(?P<v>can't (?:go on|keep going|keep doing this|take it) (?:anymore|any more|like this))\b",
        builtin_negation=True,
    ),
    # ---- self-harm -------------------------------------------------------------------------------
    _t(
        "self_harm",
        "act",
        r"\b(?P<v>(?:cut|cutting|cuts|burn|burning|burned|burnt|scratch|scratching|scratched|hit|hitting|punch"
        r"|punching|punched|harm|harming|harmed|hurt|hurting|injure|injuring|injured|starve|starving|starved"
        r"|bite|biting|bit|pinch|pinching) myself)\b",
    ),
    _t(
        "self_harm",
        "act",
        r"\b(?P<v>(?:cut|cutting|burn|burning|burned|burnt|scratch|scratching|scratched) (?:my (?:arms?|wrists?"
        r"|legs?|thighs?|skin|stomach|hips?)))\b",
    ),
    _t("self_harm", "act", r"\b(?P<v>self harm(?:ing|ed|s)?)\b"),
    _t(
        "self_harm", "act", r"\b(?P<v>(?:started|start|been|keep|kept|went back to) cutting(?: again)?|cutting again)\b"
    ),
    _t(
        "self_harm",
        "act",
        r"(?<!like )(?<!as if )\b(?P<v>bang(?:ing|ed)? my head (?:against|on|into) (?:the |a )?(?:wall|floor|door))"
        r"(?= until| so hard| till)",
    ),
    _t(
        "self_harm",
        "urge",
        r"\b(?P<v>(?:urges?|urged|tempted|temptation|need|wanting|want|wanted|feel like|felt like|craving)"
        r" to (?:cut(?= myself| my (?:arms?|wrists?|legs?|skin)| again|$)|hurt myself|harm myself|burn myself"
        r"|self harm))\b",
    ),
    # ---- harm to others ---------------------------------------------------------------------------
    _t(
        "harm_to_others",
        "threat",
        rf"\b{_I}{_GAP}\s+(?P<v>(?:{_HARM_V}|lay (?:a )?(?:hand|finger) on|put (?:a )?(?:hand|finger) on) {_OBJ})\b"
        r"(?! (?:a|an) (?:text|message|email|look|glance|smile|call|note|line|dm)\b)",
        self_subject=False,
    ),
    _t("harm_to_others", "revenge", r"\b(?P<v>make (?:him|her|them) (?:suffer|regret|sorry))\b"),
    _t(
        "harm_to_others",
        "stalking",
        r"\b(?P<v>(?:watch|watching|watched|stake out|staking out) (?:his|her|their|my ex's) (?:house|place|apartment"
        r"|flat|home|building|window))\b(?= (?:from|at night|every|for hours|all night|until|through))",
    ),
    _t(
        "harm_to_others",
        "revenge",
        r"\b(?P<v>(?:slash|slashed|slashing|key|keyed|keying|smash|smashed|smashing|trash|trashed|burn|burned)"
        r" (?:his|her|their|my ex's) (?:tires|tyres|car|windows|house|stuff|things|place))\b",
    ),
    _t(
        "harm_to_others",
        "ideation",
        rf"\b(?P<v>(?:thoughts?|thinking|thought|fantasies|fantasi[sz]ing|images|imagining|dreaming) (?:about|of)"
        rf" {_HARM_V} {_OBJ})\b",
    ),
    _t(
        "harm_to_others",
        "revenge",
        r"\b(?P<v>(?:make|making|made) (?:him|her|them|[a-z]+) pay)\b(?! for (?:the|my|it))",
    ),
    _t(
        "harm_to_others",
        "revenge",
        r"\b(?P<v>(?:get|getting|got|take|taking) (?:back at|even with|revenge on|my revenge)"
        r"(?: on)? (?:him|her|them|[a-z]+))\b",
    ),
    _t(
        "harm_to_others",
        "revenge",
        r"\b(?P<v>(?:planning|plan|planned|want|wanted|thinking about|get|getting) (?:my )?"
        r"(?:revenge|payback))\b",
    ),
    _t(
        "harm_to_others",
        "revenge",
        r"\b(?P<v>(?:he|she|they)(?:'ll| will|'s going to|'re going to| is going to| are going to) (?:get what's"
        r" coming|regret (?:it|this|that|what)|be sorry|pay for (?:it|this|that|what)))",
        self_subject=False,
    ),
    _t("harm_to_others", "revenge", r"\b(?P<v>what's coming to (?:him|her|them)|teach (?:him|her|them) a lesson)\b"),
    _t(
        "harm_to_others",
        "revenge",
        r"\b(?P<v>(?:won't|will not|never) (?:even )?see it coming)\b",
        builtin_negation=True,
    ),
    _t(
        "harm_to_others",
        "stalking",
        r"\b(?P<v>(?:know|found out|figured out|find out|tracked down|looked up) where (?:he|she|they|my ex)"
        r" (?:lives?|works?|stays?|parks?|goes))\b",
    ),
    _t(
        "harm_to_others",
        "stalking",
        r"\b(?P<v>(?:drive|drove|driving|drives|walk|walked|walking|go|went|going|swing|swung) (?:past|by)"
        r" (?:his|her|their|my ex's) (?:house|place|apartment|flat|work|office|home|building|school|gym))\b",
    ),
    _t(
        "harm_to_others",
        "stalking",
        r"\b(?P<v>(?:wait|waiting|waited|sit|sitting|sat|park|parked|parking|hang around|hanging around|hung around"
        r"|watch|watching|watched|stand|standing|stood) (?:outside|near|across from|opposite) (?:his|her|their"
        r"|my ex's) (?:house|place|apartment|flat|work|office|home|building|school|gym|door))\b",
    ),
    _t(
        "harm_to_others",
        "stalking",
        r"\b(?P<v>(?:follow|following|followed|tracking|tracked|track) (?:him|her|them|my ex))\b"
        r"(?! (?:on|online|around on) (?:instagram|twitter|facebook|tiktok|social media|the app))",
    ),
    _t(
        "harm_to_others",
        "stalking",
        r"\b(?P<v>(?:show|showed|turn|turned|showing|turning) up (?:at|outside) (?:his|her"
        r"|their|my ex's) (?:house|place|apartment|work|office|home|door))\b",
    ),
    _t(
        "harm_to_others",
        "stalking",
        r"\b(?P<v>(?:put|installed|hid|placed|hidden) (?:a |an )?(?:tracker|tracking app|gps"
        r"|air tag|airtag|spyware|camera) (?:on|in) (?:his|her|their))\b",
    ),
    _t(
        "harm_to_others",
        "stalking",
        r"\b(?P<v>(?:keep|kept|been|still) (?:texting|calling|messaging|emailing) (?:him|her"
        r"|them)) (?:[a-z']+ ){0,2}(?:though|after|when) (?:he|she|they) (?:told|asked|said|blocked)",
    ),
    # ---- substance use: the client's own alcohol or drug use (tobacco, caffeine and food are not) ----
    _t("substance_use", "use", rf"\b(?P<v>{ALCOHOL}|{DRUGS}|{DRUG_USE})\b{NOT_A_SOFT_DRINK}"),
    _t(
        "substance_use",
        "use",
        r"\b(?P<v>(?:taking|take|took|using|use|used) (?:a few |some |a couple of )?(?:more|extra|too many) (?:of )?"
        r"(?:my )?(?:[a-z]+ )?(?:pills|meds|medication|tablets|painkillers|xanax|benzos|valium|oxy|oxycodone"
        r"|adderall|percocet|vicodin|klonopin|ativan))\b",
    ),
    _t(
        "substance_use",
        "use",
        r"\b(?P<v>can't (?:sleep|relax|function|cope|get through (?:the day|the night|work)|face (?:the day|people))"
        r" without (?:a |a few |some |my |a couple of )?(?:drinks?|beers?|wine|pills|weed|a joint|a drink|vodka"
        r"|xanax|smoking))\b",
        builtin_negation=True,
    ),
    # ---- abuse or neglect -------------------------------------------------------------------------
    _t(
        "abuse_or_neglect",
        "victim",
        rf"\b{_PERP}(?: [a-z']+){{0,2}}? (?P<v>{_ABUSE_V.format(V=_VICT)})",
        self_subject=False,
    ),
    _t(
        "abuse_or_neglect",
        "threatened",
        rf"\b{_PERP}(?: [a-z']+){{0,2}}? (?P<v>(?:threatened|threatens|threatening|said he'd|said she'd|said he would"
        rf"|said she would|says he'll|says she'll|told me he'd|told me she'd|would|will|'ll|is going to|'s going to)"
        rf" (?:to )?(?:kill|hurt|hit|take) (?:me|the kids|my kids|us))\b",
        self_subject=False,
    ),
    _t(
        "abuse_or_neglect",
        "fear",
        r"\b(?P<v>(?:scared|afraid|terrified|frightened) (?:of (?:him|her|my (?:husband|wife|partner|boyfriend"
        r"|girlfriend|dad|father|mom|mother|ex|stepdad))|to go home|(?:of )?what (?:he|she)(?:'ll| will| might"
        r"| would) do|(?:that )?(?:he|she)(?:'ll| will| might| would) (?:hurt|hit|kill)))",
    ),
    _t(
        "abuse_or_neglect",
        "control",
        rf"\b{_PERP} (?P<v>(?:won't|doesn't|does not|will not|never|didn't) (?:let|allow) me (?:to )?(?:see|leave|go"
        rf"|have|talk|use|work|spend|get|keep))\b",
        self_subject=False,
        builtin_negation=True,
    ),
    _t(
        "abuse_or_neglect",
        "control",
        rf"\b{_PERP} (?P<v>(?:controls|controlled|takes|took|keeps) (?:all )?(?:the|my|our)"
        r" (?:money|finances|phone|car keys|keys|passport|bank card))\b",
        self_subject=False,
    ),
    _t(
        "abuse_or_neglect",
        "sexual",
        r"\b(?P<v>(?:forced|forces|made|makes|pressured|pressures) me (?:to )?(?:have sex|do (?:things|stuff)|sleep"
        r" with)|touched me inappropriately|raped me|molested me|sexually abused me)\b",
        self_subject=False,
    ),
    _t(
        "abuse_or_neglect",
        "victim",
        r"\b(?P<v>(?:abused|abusive|abusing) (?:me|us))\b|\b(?P<w>he's abusive|she's abusive"
        r"|was abusive|is abusive|abusive relationship)\b",
        self_subject=False,
    ),
    _t(
        "abuse_or_neglect",
        "neglect",
        rf"\b(?P<v>(?:leave|left|leaving|leaves) {_DEP}(?: [a-z']+){{0,2}}? (?:alone|home alone|by themselves"
        r"|by himself|by herself|on their own|on his own|on her own|unattended|in the car))\b",
    ),
    _t("abuse_or_neglect", "neglect", r"\b(?P<v>fend(?:ing)? for themselves|home alone)\b"),
    # A dependent adult (a parent, a partner) left without their medication, food or care by a caregiver.
    _t(
        "abuse_or_neglect",
        "neglect_adult",
        rf"\b(?P<v>{_CARED} (?:went|goes|go|has gone|had gone|was going|has been going|'s been going|going) without"
        rf" (?:her|his|their) {_CARE})\b",
        self_subject=False,
    ),
    _t(
        "abuse_or_neglect",
        "neglect_adult",
        rf"\b(?:forgot to|forget to|forgotten to|forgetting to|didn't|couldn't|haven't|hasn't|wasn't able to|stopped)"
        rf" (?:always )?(?P<v>{_GIVE} (?:her|him|them|{_CARED})(?: [a-z']+)? {_CARE}"
        rf"|{_GIVE} (?:her|his|their|{_CARED_POS}) {_CARE})\b",
        builtin_negation=True,
    ),
    _t(
        "abuse_or_neglect",
        "neglect_adult",
        rf"\b(?P<v>(?:left|leave|leaving|leaves) (?:her|him|{_CARED}) (?:alone )?(?:in bed|on the floor|in (?:her|his)"
        rf" own (?:mess|urine|waste)|without (?:food|water|help|her pills|his pills|her medication|his medication)"
        rf"|alone all day|for days))\b",
    ),
    _t(
        "abuse_or_neglect",
        "neglect",
        r"\b(?P<v>(?:baby|kids|children|son|daughter|toddler|little ones) (?:has|have|had|is|are|was|were)(?: been)?"
        r" left (?:alone|home alone|on (?:their|his|her) own|in (?:his|her|their|the) (?:crib|cot|room|car)))",
        self_subject=False,
    ),
    _t(
        "abuse_or_neglect",
        "victim",
        rf"\b{_PERP}(?: [a-z']+){{0,3}}? (?P<v>(?:violent|rough|physical|abusive) (?:with|towards|toward|to)"
        r" (?:me|us))\b",
        self_subject=False,
    ),
    _t(
        "abuse_or_neglect",
        "neglect",
        rf"\b(?P<v>{_DEP}(?: have| has|'ve)?(?: been)? (?:getting|making|fixing|putting)"
        r" themselves (?:to bed|breakfast|dinner|lunch|to school|food|meals))\b",
        self_subject=False,
    ),
    _t(
        "abuse_or_neglect",
        "neglect",
        rf"\b(?:haven't|hasn't|didn't|don't|couldn't|can't|not|forgot to|forget to|forgotten to|forgetting to)"
        rf" (?:been able to |always )?(?P<v>(?:feed|fed|feeding|bathe|bathed|pick up|picked up) {_DEP}"
        rf"|(?:feed|fed|feeding|bathe|bathed|pick|picked) (?:them|him|her) up|take {_DEP} to (?:school|the doctor))\b",
        builtin_negation=True,
    ),
    _t(
        "abuse_or_neglect",
        "neglect",
        rf"\b(?P<v>too (?:drunk|high|wasted|hungover|out of it) to (?:look after|take care"
        rf" of|watch|mind|feed|drive|pick up) (?:{_DEP}|them|him|her))\b",
    ),
    _t(
        "abuse_or_neglect",
        "neglect",
        r"\b(?P<v>no food (?:in the house|for the kids|in the fridge))\b",
        builtin_negation=True,
    ),
    _t(
        "abuse_or_neglect",
        "perpetrator",
        rf"\b{_I}{_GAP}\s+(?P<v>{_CHILD_HARM_V.format(D=_DEP)})\b",
        self_subject=False,
    ),
]

# Tokens that make a clause negative; a few fixed phrases that look negative but are not.
_NEGATORS = _words(
    "not never no noone nobody nothing none neither nor don't doesn't didn't won't wouldn't can't "
    "couldn't haven't hasn't hadn't isn't aren't wasn't weren't shouldn't ain't"
)
_NOT_NEGATING_NEXT = frozenset({"stop", "help", "resist", "shake", "wait", "only", "just", "sure", "know", "bear"})
_FIRST_PERSON = frozenset({"i", "i'm", "i've", "i'd", "i'll"})
_OTHER_SUBJECT = frozenset(
    {
        "who",  # "family members who drink a lot": a relative clause's subject is someone else
        "he",
        "she",
        "they",
        "you",
        "we",
        "he's",
        "she's",
        "they're",
        "you're",
        "we're",
        "he'd",
        "she'd",
        "they'd",
        "you'd",
        "he'll",
        "she'll",
        "they'll",
        "you'll",
        "you've",
        "they've",
        "we've",
    }
)
_KIN = _words(
    "friend friends brother sister mom mother mum dad father partner husband wife boyfriend girlfriend "
    "son daughter cousin uncle aunt coworker colleague boss roommate neighbor neighbour grandma grandpa "
    "ex kid kids niece nephew buddy classmate"
)
_ATTRIBUTION = _words(
    "thinks thought worries worried worry says said told tells asked asks accused afraid scared fears "
    "feared believes believed suspects suspected claims claimed"
)
_IF_CUES = frozenset({"if", "suppose", "supposing", "unless", "hypothetically"})
_IF_NOT_AFTER = frozenset(
    {
        "as",
        "wonder",
        "wondering",
        "wondered",
        "ask",
        "asked",
        "asking",
        "know",
        "sure",
        "see",
        "check",
        "matter",
        "like",
        "even",
    }
)
_CONSEQUENT = frozenset({"then", "i'll", "i'd", "i'm"})


_NEGATED_AFTER = re.compile(
    r"^(?: [a-z']+){0,3}? (?:has|have|had|is|was)?(?: never| not|n't) (?:ever )?(?:crossed my mind|been something i"
    r"|something i|an option|on the table)"
    r"|^(?: [a-z']+){0,3}? (?:isn't|is not|wasn't|was not) (?:something i|an option)"
)


def _rx(*alts: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alts) + r")\b")


_NUM_BIG = (
    r"(?:four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|a dozen|dozen|[4-9]|1[0-9]|several"
    r"|lots of|a lot of|so many|too many|way too many|a bunch of)"
)
SUBST_MODERATE = _rx(
    r"every ?(?:night|day|evening|morning|weekend|single day|single night)",
    r"most (?:nights|days|evenings|weekends)",
    r"each (?:night|day|evening)",
    r"daily",
    r"nightly",
    r"all (?:day|night|weekend)",
    r"(?:three|four|five|six|several|a few|[3-6]) (?:nights|days|times) a week",
    rf"{_NUM_BIG}(?: or [a-z0-9]+)? (?:beers|drinks|glasses|shots|pints|cans|bottles|joints|pills|lines)",
    r"a (?:whole |full |entire )?bottle (?:of (?:wine|vodka|whiske?y|gin|rum|tequila|liquor)|a (?:night|day))",
    r"(?:six|twelve|twenty four|12|24) pack",
    r"a fifth",
    r"more and more",
    r"more than (?:i used to|before|ever|i should|i'd like|i want|i meant)",
    r"(?:increasing|increased|escalating|escalated|getting worse|gotten worse)",
    r"out of (?:hand|control)",
    r"too much",
    r"a lot more",
    r"heavily",
    r"heavy",
    r"binge\w*",
    r"can't stop",
    r"couldn't stop",
    r"can't cut (?:back|down)",
    r"need (?:a drink|to drink|to use|it to|a hit)",
    r"get through the day",
    r"to cope",
    r"to function",
    r"than (?:prescribed|i'm supposed to|i should)",
    r"than (?:the|my) doctor (?:said|told me|prescribed|recommended)",
    r"(?:not|weren't|wasn't) prescribed",
    r"(?:someone else's|a friend's|my friend's|his|her) (?:pills|prescription|painkillers|oxy)",
    r"to get through (?:the day|the night|work|it)",
    r"can't (?:sleep|relax|function|cope|get through|face) [a-z ]*without",
    r"(?:drinking|using|smoking) again",
    r"relapsed?",
    r"fell off the wagon",
    r"back on the (?:bottle|drugs)",
    r"hid(?:e|ing)? (?:the )?(?:bottles|it|drinks|how much|the empties)",
    r"before work",
    r"at work",
    r"on the job",
    r"at lunch",
    r"alone",
)
SUBST_HIGH = _rx(
    r"black(?:ed)? out",
    r"blackouts?",
    r"passed out",
    r"drunk driving",
    r"drove (?:home )?(?:drunk|after drinking|wasted|high)",
    r"driving (?:drunk|after drinking|high)",
    r"drink and drive",
    r"the shakes",
    r"shaky",
    r"sweats",
    r"withdrawals?",
    r"detox",
    r"dts",
    r"seizures?",
    r"mix(?:ing|ed)? (?:it|them|alcohol|drinks|pills) with",
    r"with my (?:pills|meds|medication)",
    r"overdos\w*",
    r"shoot(?:ing)? up",
    r"shot up",
    r"od'd",
    r"heroin",
    r"fentanyl",
    r"meth",
    r"crack",
    r"inject\w*",
    r"shooting up",
    r"needles?",
    r"every morning",
    r"when i wake up",
    r"first thing in the morning",
    r"in the morning",
)
SUBST_LOW = _rx(
    r"a (?:bit|little) more",
    r"a few more",
    r"more than usual",
    r"more often",
    r"more lately",
    r"drunk",
    r"tipsy",
    r"buzzed",
    r"hung ?over",
    r"hangovers?",
    r"high",
    r"stoned",
    r"a (?:night|day|week)",
    r"every (?:other )?(?:week|weekend)",
    r"on (?:the )?weekends",
    r"(?:two|three|four|a couple of|a few) (?:drinks|beers|glasses)",
)
# The therapist treats the client's own drinking or drug use as a topic ("your drinking", "you've been using").
YOUR_USE = _rx(
    r"your (?:drinking|alcohol|alcohol use|drug use|use of|using|substance use|weed|marijuana|cannabis)",
    r"you(?:'ve| have)? (?:been )?(?:drink|drinking|drank|smoke weed|smoking weed"
    r"|(?:use|using|used)(?! (?:to|the|your|a|an|it|that|this|them|my|his|her)\b))",
)
# Drinks that are not alcohol: a question or answer about them is not about substance use.
SOFT_DRINKS = _rx(
    r"coffee",
    r"tea",
    r"cups?",
    r"water",
    r"soda",
    r"pop",
    r"juice",
    r"caffeine",
    r"energy drinks?",
    r"milk",
    r"v8",
    r"v drinks",
    r"smoothies?",
    r"shakes?",
    r"diet coke",
    r"sugary drinks?",
    r"soft drinks?",
)
# Units that make a number an amount of use ("one or two drinks", "three nights a week").
USE_UNITS = _rx(
    r"drinks?",
    r"beers?",
    r"glass(?:es)?",
    r"pints?",
    r"shots?",
    r"bottles?",
    r"cans?",
    r"joints?",
    r"times",
    r"days?",
    r"nights?",
    r"weeks?",
    r"weekends?",
    r"a day",
    r"a night",
    r"a week",
)

HISTORICAL = _rx(
    r"used to",
    r"when i was (?:a kid|a child|younger|little|a teenager|a teen|in high school|in college|in school|"
    r"[a-z]+ years old|\d+)",
    r"years ago",
    r"(?:a )?long time ago",
    r"as a (?:kid|child|teenager|teen)",
    r"in high school",
    r"in college",
    r"growing up",
    r"back then",
    r"in my (?:teens|twenties|twenties)",
    r"haven't (?:[a-z']+ ){0,3}since",
    r"not anymore",
    r"(?:stopped|quit) (?:years|a long time)",
)
RECENT = _rx(
    r"last night",
    r"yesterday",
    r"today",
    r"tonight",
    r"this (?:week|morning|weekend)",
    r"right now",
    r"lately",
    r"these days",
    r"again",
    r"recently",
    r"past (?:few )?(?:days|weeks)",
    r"this past",
)
PLAN = _rx(
    r"(?:have|got|made|making|worked out|figured out|thought about|planned|planning|decided|chosen|picked) (?:a |the"
    r" |my )?(?:plan|date|method|spot|place)",
    r"how i(?:'d| would| will| could)? (?:do it|end it|die|kill myself)",
    r"when i(?:'d| would| will)? do it",
    r"(?:wrote|written|writing) (?:a |my )?(?:suicide )?(?:note|goodbye|letters?)",
    r"giv(?:en|ing|e) away my",
    r"said goodbye",
    r"looked up how",
)
MEANS = _rx(
    r"(?:have|got|saving|saved|stockpiled|stockpiling|bought|buy|keep|kept|collected|collecting|hoarding) (?:up )?"
    r"(?:a |some |enough |all |my |the |a bunch of |a bottle of )?(?:[a-z]+ )?"
    r"(?:pills|tablets|sleeping pills|medication"
    r"|meds|gun|guns|rope|razor|razors|blades|knife|knives|firearm|pistol|rifle|poison)",
    r"(?:gun|pills|rope|bridge|roof|train tracks|tracks|ledge) (?:is|are)? ?(?:ready|in my|at home|in the house)",
)
INTENT = _rx(
    r"going to",
    r"i will",
    r"i'll",
    r"intend",
    r"decided",
    r"ready to",
    r"this weekend",
    r"tonight",
    r"tomorrow",
    r"soon",
    r"swear",
)
MEDICAL = _rx(
    r"stitches",
    r"hospital",
    r"emergency",
    r"a and e",
    r"er",
    r"deep(?:er)?",
    r"bleed\w*",
    r"blood",
    r"infect\w*",
    r"scars?",
)
FREQUENT = _rx(
    r"every ?(?:day|night)",
    r"daily",
    r"more and more",
    r"more often",
    r"all the time",
    r"constantly",
    r"several times a (?:day|week)",
)
WEAPON = _rx(r"gun", r"guns", r"knife", r"knives", r"weapon", r"bat", r"firearm", r"pistol", r"rifle")
HTO_INTENT = _rx(
    r"going to", r"i will", r"i'll", r"planning", r"plan", r"swear", r"ready to", r"about to", r"gonna", r"next time"
)
HTO_SOFT = _rx(r"could", r"felt like", r"feel like", r"sometimes", r"almost")
CHILD = _rx(r"kids?", r"children", r"child", r"son", r"daughter", r"baby", r"toddler")


ACCIDENT = _rx(
    r"by accident",
    r"accidentally",
    r"fall",
    r"falling",
    r"trip",
    r"slip",
    r"playing",
    r"at the gym",
    r"lifting",
    r"fell",
    r"slipped",
    r"tripped",
    r"cooking",
    r"skiing",
    r"running",
    r"working out",
    r"on the stove",
    r"sprain\w*",
    r"chopping",
    r"shaving",
)


_SECOND = frozenset({"you", "your", "yourself", "you're", "you've", "you'd", "you'll"})
_FIRST_ANY = frozenset({"i", "me", "my", "myself", "i'm", "i've", "i'd", "i'll", "mine"})
QUANTITY = re.compile(
    rf"\b{_NUM_BIG}(?: or [a-z0-9]+)? (?:beers|drinks|glasses|shots|pints|cans|bottles|joints|pills|lines)\b"
    r"|\ba (?:whole |full |entire )?bottle (?:of|a)\b"
)


SOBER = re.compile(
    r"\b(?:haven't|have not|hasn't|didn't|don't) (?:had|have) (?:a|any) (?:drink|drinks|drugs)\b|\b(?:haven't|have not)"
    r" (?:drunk|used|touched (?:alcohol|a drop|drugs))\b|\b(?:i'm|i've been|i am|i have been) (?:sober|clean)\b"
)


_Q_TOPICS: list[tuple[RiskType, re.Pattern[str]]] = [
    (
        "suicidal_ideation",
        _rx(
            r"suicid\w*",
            r"kill(?:ing)? yourself",
            r"end(?:ing)? your (?:own )?life",
            r"tak(?:e|ing) your (?:own )?life",
            r"(?:want|wanting|wish|wished|wishing) (?:to be|you were) dead",
            r"want(?:ing)? to die",
            r"better off dead",
            r"not (?:wanting to )?(?:be alive|be here|wake up)",
            r"end it all",
        ),
    ),
    ("self_harm", _rx(r"(?:hurt|hurting|harm|harming|cut|cutting|injur\w*|burn|burning) yourself", r"self harm\w*")),
    (
        "harm_to_others",
        _rx(
            r"(?:hurt|hurting|harm|harming|kill|killing|attack\w*|hit|hitting|getting back at) (?:him|her|them|someone"
            r"|anyone|anybody|somebody|others|other people|your \w+)"
        ),
    ),
]
_YES = re.compile(
    r"^(?:yes|yeah|yep|yup|sometimes|i have|i do|i did|a little|kind of|sort of|occasionally|once or"
    r" twice|a few times|lately|maybe|i guess|at times|every now and then|more than i'd like|i think so)\b"
)
_NO = re.compile(
    r"^(?:no|nope|nah|never|not really|not at all|no way|nothing like that|definitely not|of course not"
    r"|absolutely not|not exactly|i haven't|i have not|i don't|i do not|i've never|i have never|i never"
    r"|i (?:would|will|could)(?:n't| not| never)|i'd never|i won't|not me)\b"
)
# Screening questions about the client's own alcohol or drug use, and answers that give an amount.
SUBSTANCE_QUESTION = re.compile(
    r"\b(?:(?:do|did|have|how (?:much|many|often)|when) (?:do |did |would |have )?you (?:ever |usually |typically )?"
    r"(?:drink|use (?:drugs|alcohol|any)|used (?:drugs|any)|smoke (?:weed|pot|marijuana)|get high"
    r"|have (?:a drink|drinks))"
    r"|(?:any|use any|using any|take any|do any) (?:drugs|alcohol|street drugs)"
    rf"|you (?:tried|try|take|took|taking|use|used|using|smoke|smoked|do|did|doing) (?:some |any )?{DRUGS}"
    r"|how (?:much|many|often)[a-z' ]* (?:drink|drinks|drinking|alcohol|beers?|glasses|use|using))\b"
)
AMOUNT_ANSWER = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|\d+|a couple|a few|several"
    r"|a lot|every (?:day|night|weekend)|most (?:days|nights)|(?:once|twice) a|on weekends|at weekends"
    r"|(?:a|per|each|every) (?:day|night|week|weekend))\b"
)
# The client describes drinking ("I drink", "we had a few beers"), not just naming alcohol ("in charge of the wine").
CONSUMES = re.compile(
    r"\b(?:drink|drinks|drinking|drank|drunk|had|have|having|get|got|getting|down|finish|finished|chug)\b"
    r"(?: [a-z']+){0,4}? (?:drinks?|beers?|wine|glass(?:es)?|pints?|shots?|vodka|booze|alcohol|bottles?|cans?)\b"
    r"|\b(?:i|i'm|i've|i'd|we|we're|we've)(?: [a-z']+){0,3}? (?:drink|drinking|drank|drunk)\b"
)
# How a clarifying client question starts ("What, like suicidal?", "You mean drugs?").
ECHO_STARTS: tuple[tuple[str, ...], ...] = (
    ("what", "like"),
    ("like",),
    ("you", "mean"),
    ("do", "you", "mean"),
    ("are", "you", "asking"),
    ("what", "do"),
)
# "I never tried it": no use of the drug named before.
USE_NEGATORS = frozenset({"never", "not", "don't", "didn't", "haven't", "won't", "wouldn't"})
# First-person use of a drug named just before: "so I've tried it", "I used to take them", "I smoke it".
USE_OF_IT = re.compile(
    r"\b(?:i|i've|i'd|i'm|i was|i have|i had)(?: [a-z']+){0,2}? (?:tried|try|trying|used|use|using|took|take"
    r"|taking|smoked|smoke|smoking|did|do|doing|snorted|shot|injected|started) (?:it|that|them|some)\b"
)
# A negated plan or a condition is not a denial: "I'll just not have a drink", "on the nights when I don't drink".
NOT_A_DENIAL = re.compile(
    r"\b(?:i'll|i will|going to|want to|wanted to|try to|trying to|planning|plan to|maybe|probably|could|would"
    r"|when|whenever|nights|days|if|unless|consider|feel like|appeals)\b"
)
DRUG_WORDS = re.compile(rf"\b(?:{DRUGS}|{DRUG_USE})\b")
# "I don't drink that much": a negated amount is a minimised admission, not a denial.
MINIMISED = re.compile(
    r"(?:\bnot|n't|\bnever) (?:[a-z']+ ){0,3}?(?:that much|that often|much|a lot|too much|as much|so much|every day"
    r"|like (?:that|i used to)|anymore|any more|as often|really|all that)\b"
)


# Therapist framing: instructions and proposals addressed to the client ("I'd like you to keep a drink diary").
_THERAPIST_FRAME = re.compile(
    r"\b(?:i'd (?:also )?like you to|i would (?:also )?like you to|i want you to|could you|you could|i'd like us to"
    r"|let's|how about|for homework|i'm going to ask you|i want to ask you)\b"
)
