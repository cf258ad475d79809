"""Common English verbs (base forms) and their inflections: what turns a run of terms into a
claim. "Reduce routing tables" states a goal; "routing tables" only names a thing."""

from __future__ import annotations

from functools import lru_cache

BASE_FORMS = """
accept access account achieve acquire act adapt add address adjust admit adopt affect aggregate
aim alert align allocate allow alter amortize analyze answer append apply approve approximate
archive argue arrange arrive ask assemble assert assess assign assume attach attack attempt
attend augment authenticate authorize automate avoid await back balance ban base batch become
begin behave believe belong benchmark bind block boost bound branch break bring broadcast
buffer build bump buy cache calculate call cancel cap capture care carry cascade catch cause
center chain change charge check choose chunk claim clarify classify clean clear click clip
close cluster coalesce code collapse collect combine come commit communicate compare compile
complete compose compress compute concatenate conclude configure confirm conflict connect
consider consist consume contain continue contribute control convert coordinate copy correct
correlate cost count couple cover crash create crawl cross cut debug decay decide declare
decode decompose decouple decrease dedupe deduplicate default defer define degrade delay
delegate delete deliver demand demonstrate deny depend deploy derive describe design destroy
detect determine develop diagnose die differ dilute direct disable discard discover discuss
dispatch display distill distribute dive divide document dominate double download drain draw
drift drive drop duplicate earn ease embed emit enable encode encourage encrypt end enforce
ensure enter enumerate equal escalate establish estimate evaluate evict evolve examine exceed
exchange execute exist expand expect experiment expire explain exploit explore expose express
extend extract fail fall fetch fill filter find finish fit fix flag flatten flip flow flush
focus fold follow force forget fork form format forward free freeze fuse gain gate gather
generate get give go govern grade grant grow guarantee guard guess halve handle hang happen
hash have head hear help hide hit hold host hurt identify ignore implement imply import improve
include incorporate increase increment index indicate infer influence inform inherit initialize
inject insert inspect install instantiate instruct integrate intend interact intercept
interleave interpret introduce invalidate invert investigate invoke isolate issue iterate join
judge jump keep kill know label lack land last launch lead leak learn leave lend let leverage
limit link list listen load locate lock log look lose lower maintain make manage map mark mask
match matter maximize mean measure meet merge migrate minimize miss mitigate mix model modify
monitor move multiply mutate name need negotiate normalize notice notify observe obtain occur
offer offload omit open operate optimize order organize outperform output overfit overlap
override overwrite own page pad pair parallelize parse partition pass patch pause pay perform
permit persist pick pin pipeline place plan play plug point poll pool populate port post
precompute predict prefer prefetch prepare present preserve prevent print prioritize proceed
process produce profile promote prompt propagate propose protect prove provide provision prune
publish pull push put quantize query queue raise randomize rank reach read rebalance rebuild
receive recommend recompute reconcile record recover reduce refactor refer refine refresh
refuse regenerate register regress reject relate release rely remain remember remove rename
render reorder repair repeat replace replay replicate reply report represent reproduce request
require rerank rerun reset reshape resize resolve respect respond restart restore restrict
retain retrain retrieve retry return reuse reveal reverse review revoke rewrite roll rotate
round route run sample sanitize save scale scan schedule score scrape search secure see seek
select sell send separate serialize serve set settle shard share shift ship show shrink shuffle
shut sign simplify simulate sit size skip slice slide slow smooth solve sort sound spawn speak
specify speed spend spike split spread stabilize stack stage stall stand start state stay steal
step stick stop store stream strengthen stress strip structure submit subscribe substitute
subtract succeed suffer suggest sum summarize supervise supply support suppose surface survive
suspend swap switch synchronize sync take talk target teach tell tend terminate test think
throttle throw tie time tokenize tolerate track trade train transfer transform translate
transmit traverse treat trigger trim trust try tune turn understand unify unlock unpack update
upgrade upload use validate vary verify version view violate visit vote wait walk want warm
warn watch weigh weight win wire work worry wrap write yield
"""
IRREGULAR = """
is are was were be been being am has had does did done made went gone got gotten took taken
gave given saw seen knew known grew grown built sent spent held kept left lost meant met paid
put read ran said sold set shown shut sat spoke stood stole struck taught told thought threw
understood won wrote written chose chosen broke broken brought bought caught fell fed felt
fought found forgot forgotten froze frozen hid hidden hit hung led lent let lay rode rose rang
slid split spread sprang stuck swept swung tore torn wore woken woke can could will would
should must may might shall need needs
"""


def _inflections(verb: str) -> set[str]:
    forms = {verb}
    if verb.endswith("e"):
        forms |= {verb + "s", verb + "d", verb[:-1] + "ing"}
    elif verb.endswith("y") and verb[-2:-1] not in "aeiou":
        forms |= {verb[:-1] + "ies", verb[:-1] + "ied", verb + "ing"}
    elif verb.endswith(("s", "sh", "ch", "x", "z")):
        forms |= {verb + "es", verb + "ed", verb + "ing"}
    else:
        forms |= {verb + "s", verb + "ed", verb + "ing"}
        if len(verb) <= 4 and verb[-1] not in "aeiouwxy" and verb[-2:-1] in "aeiou":
            forms |= {verb + verb[-1] + "ed", verb + verb[-1] + "ing"}
    return forms


@lru_cache(maxsize=1)
def verb_forms() -> frozenset[str]:
    forms: set[str] = set(IRREGULAR.split())
    for verb in BASE_FORMS.split():
        forms |= _inflections(verb)
    return frozenset(forms)


def is_verb(word: str) -> bool:
    return word.lower() in verb_forms()
