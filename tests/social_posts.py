"""A generator of social-media posts for the unseen-word tests and benchmarks (no package on PyPI
holds a small, usable labelled set of real posts; see docs/benchmarks.md).

The posts imitate customer-service tweets to airlines and chatter about events, with three
sentiment labels (``positive``, ``negative``, ``neutral``), built from sentence templates and
word lists written by hand, plus the things that make real posts hard for a vector set:

* @handles of real airlines and brands, as people type them (``@AmericanAir``,
  ``@SouthwestAir``, ``@VirginAmerica``, ``@JetBlue``, ``@united``, ``@USAirways``) and
  made-up user names (``@sarah_k92``, ``@TravelGuru``, ``@mike2010``);
* #hashtags glued from several words (``#customerservice``, ``#neveragain``, ``#coachella2015``,
  ``#DeflateGate``, ``#bestdayever``) and slang ones (``#fml``, ``#smh``);
* in three posts of ten nothing but a handle, hashtags that carry the mood (``#neveragain``,
  ``#bestdayever``) and an emoticon: there the label hangs on words a vector set lacks;
* elongations (``sooooo``), all-caps, repeated punctuation, emoticons, emoji, URLs, prices,
  times and flight numbers, hyphenated compounds (``self-driving``, ``on-time``), curly
  apostrophes (``don’t``), words that lost a letter to a decoding error (U+FFFD) and typos.

Everything is drawn from a seeded ``random.Random``, so a seed gives the same posts everywhere.
"""

from __future__ import annotations

import random

AIRLINES = ["@AmericanAir", "@SouthwestAir", "@VirginAmerica", "@JetBlue", "@united",
            "@USAirways", "@Delta", "@AlaskaAir", "@SpiritAirlines", "@British_Airways"]
BRANDS = ["@Starbucks", "@Uber", "@Netflix", "@Apple", "@TeslaMotors", "@Spotify",
          "@McDonalds", "@Target", "@Walmart", "@AmazonHelp"]
FIRST = ["sarah", "mike", "jess", "tom", "anna", "chris", "katie", "dave", "emma", "josh",
         "lisa", "ryan", "nick", "amy", "ben", "kelly", "matt", "laura", "sam", "alex"]
HANDLE_WORDS = ["travel", "guru", "daily", "news", "fan", "girl", "boy", "life", "music",
                "sports", "real", "official", "the", "world", "city", "love", "happy",
                "coffee", "tech", "food"]
TAGS_GLUED = [
    "customerservice", "neveragain", "flightdelayed", "worstairline", "bestairline",
    "bestdayever", "throwbackthursday", "nowplaying", "mondaymotivation", "traveltuesday",
    "fridayfeeling", "happybirthday", "lostluggage", "canceledflight", "badservice",
    "greatservice", "firstclass", "frequentflyer", "roadtrip", "summervacation",
    "breakingnews", "gameday", "superbowl", "worldcup", "selfdriving", "climatechange",
    "blackfriday", "foodporn", "instagood", "photooftheday", "lovemylife", "goodmorning",
    "goodnight", "weekendvibes", "sundayfunday", "jetlag", "airportlife", "stuckattheairport",
]
TAGS_CAMEL = ["DeflateGate", "TBT", "MakeItRight", "FlyTheFriendlySkies", "TravelTips",
              "NeverAgain", "CustomerService", "MadMen", "GameOfThrones", "TheVoice"]
TAGS_EVENTS = ["coachella", "sxsw", "oscars", "grammys", "superbowl", "wimbledon", "olympics",
               "comiccon", "lollapalooza", "bonnaroo"]
#: Hashtags that carry the post's sentiment (people tag their mood as often as their topic).
TAGS_MOOD = {
    "positive": ["bestdayever", "greatservice", "bestairline", "lovethis", "sohappy",
                 "thankyou", "awesomecrew", "happytraveler", "ontime", "GoodVibes",
                 "BestFlightEver", "LoveIt"],
    "negative": ["neveragain", "worstairline", "fail", "epicfail", "badservice", "lostluggage",
                 "stuckattheairport", "sofrustrated", "NotHappy", "WorstServiceEver", "Ripoff",
                 "fml"],
    "neutral": ["traveltips", "justasking", "question", "needinfo", "flightinfo", "FYI",
                "TravelQuestion", "anyone", "help", "info", "planningahead", "curious"],
}
TAGS_SLANG = ["fml", "smh", "yolo", "tbt", "lmao", "omg", "ftw", "ootd", "icymi", "nbd"]

POS_OPEN = ["thank you", "thanks so much", "huge thanks", "shoutout", "big love", "kudos"]
NEG_OPEN = ["really disappointed", "so frustrated", "absolutely furious", "not happy",
            "seriously annoyed", "worst experience ever"]
NEU_OPEN = ["quick question", "just wondering", "heads up", "fyi", "question for you",
            "any update"]
POS_BODY = [
    "the crew was amazing and the flight landed early",
    "great service at the gate today, the agent was super helpful",
    "loved the new seats and the free wifi worked the whole way",
    "you rebooked me in minutes, that is how customer service should be",
    "best flight I have had in years, smooth and on-time",
    "the pilot made the delay fun, everyone was laughing",
    "my bag arrived first for once, what a nice surprise",
    "the lineup this year is incredible, best weekend of my life",
    "this coffee is exactly what I needed this morning",
    "the show last night was absolutely perfect",
]
NEG_BODY = [
    "my flight was cancelled and nobody at the counter can help",
    "waited on hold for three hours and then the call dropped",
    "lost my luggage again and the app says nothing",
    "the plane sat on the tarmac for two hours with no air",
    "you charged me twice for the same seat and will not refund it",
    "rude staff at the gate and a broken seat, never flying with you again",
    "my connection was missed because of your delay and now I am stuck overnight",
    "the self-driving demo crashed and the whole thing was a mess",
    "they overbooked the flight and bumped me without any compensation",
    "the food was cold and the toilets were disgusting",
]
NEU_BODY = [
    "what is the baggage allowance for international flights",
    "does the morning flight to boston usually leave on time",
    "can I change my seat online or do I need to call",
    "is there wifi on the new planes",
    "when does boarding start for flight",
    "how early should I get to the airport for a domestic trip",
    "is the lounge open during the holiday weekend",
    "do you allow pets in the cabin on long-haul routes",
    "where can I find the lost and found desk",
    "anyone going to the festival this weekend",
]
POS_END = [":)", ":D", "<3", "😍", "👍", "🙏", "😊", "❤️", "🎉", ";)"]
NEG_END = [":(", ":-(", "😡", "😤", "😭", "👎", ">:(", "🙄", "💔", "ugh"]
NEU_END = ["?", "??", "thanks", "", "", "🤔", "", "cheers", "", "pls"]
ELONG = ["sooooo", "soooo", "pleeease", "whyyyy", "noooo", "yessss", "lovvve", "omggg",
         "hahahaha", "ughhhh", "coooool", "amaaazing", "wowwww", "sooo", "reallyyyy"]
TYPOS = {"the": "teh", "because": "becuase", "really": "realy", "definitely": "definately",
         "tomorrow": "tommorow", "received": "recieved", "seriously": "srsly", "please": "plz",
         "you": "u", "are": "r", "thanks": "thx", "people": "ppl"}


_URL_CHARS = "abcdefghijkmnpqrstuvwxyz0123456789"


def _handle(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.55:
        return rng.choice(AIRLINES)
    if r < 0.7:
        return rng.choice(BRANDS)
    first = rng.choice(FIRST)
    style = rng.randrange(4)
    if style == 0:
        return f"@{first}_{rng.choice('abcdefghjkmnprstw')}{rng.randrange(70, 100)}"
    if style == 1:
        return "@" + rng.choice(HANDLE_WORDS).title() + rng.choice(HANDLE_WORDS).title()
    if style == 2:
        return f"@{first}{rng.randrange(1990, 2016)}"
    return "@" + first + rng.choice(HANDLE_WORDS)


def _hashtag(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return "#" + rng.choice(TAGS_GLUED)
    if r < 0.65:
        return "#" + rng.choice(TAGS_CAMEL)
    if r < 0.85:
        return f"#{rng.choice(TAGS_EVENTS)}{rng.randrange(2012, 2016)}"
    return "#" + rng.choice(TAGS_SLANG)


def _noise(words: list[str], rng: random.Random) -> list[str]:
    out = []
    for w in words:
        r = rng.random()
        if w in TYPOS and r < 0.25:
            w = TYPOS[w]
        elif r < 0.03 and len(w) > 3:
            w = w.upper()
        elif r < 0.045 and len(w) > 4:  # a letter lost to a decoding error
            k = rng.randrange(1, len(w) - 1)
            w = w[:k] + "\ufffd" + w[k + 1:]
        out.append(w)
    return out


def make_posts(n: int = 6000, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` posts and their labels (``positive``, ``negative``, ``neutral``), seeded."""
    rng = random.Random(seed)
    texts: list[str] = []
    labels: list[str] = []
    kinds = {"positive": (POS_OPEN, POS_BODY, POS_END), "negative": (NEG_OPEN, NEG_BODY, NEG_END),
             "neutral": (NEU_OPEN, NEU_BODY, NEU_END)}
    for _ in range(n):
        label = rng.choices(list(kinds), weights=[0.25, 0.5, 0.25])[0]
        opens, bodies, ends = kinds[label]
        parts: list[str] = []
        if rng.random() < 0.3:  # a short post: a handle, a mood, hashtags, an emoticon
            words = [_handle(rng)]
            if rng.random() < 0.5:
                words.append(rng.choice(ELONG))
            words += ["#" + t for t in rng.sample(TAGS_MOOD[label], rng.randint(1, 3))]
            words.append(rng.choice(kinds[label][2]))
            texts.append(" ".join(w for w in words if w))
            labels.append(label)
            continue
        if rng.random() < 0.85:
            parts.append(_handle(rng))
        opening = rng.choice(opens)
        if rng.random() < 0.2:
            opening = opening.upper()
        parts.append(opening)
        body = _noise(rng.choice(bodies).split(), rng)
        if rng.random() < 0.3:
            body.insert(rng.randrange(len(body) + 1), rng.choice(ELONG))
        if rng.random() < 0.25:
            body.append(f"flight {rng.randrange(100, 3000)}")
        if rng.random() < 0.15:
            body.append(f"at {rng.randrange(1, 12)}:{rng.randrange(0, 60):02d}pm")
        if rng.random() < 0.1:
            body.append(f"${rng.randrange(25, 900)}")
        if rng.random() < 0.15:
            body = [w.replace("not", "n’t") if w == "not" else w for w in body]
            body.insert(0, rng.choice(["don’t", "can’t", "won’t", "I’m", "it’s", "that’s"]))
        parts.append(" ".join(body))
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            parts.append(_hashtag(rng) if rng.random() < 0.6 else "#" + rng.choice(
                TAGS_MOOD[label]))
        punct = rng.choice(["", ".", "!", "!!!", "?!", "..."])
        if rng.random() < 0.2:
            parts.append("https://t.co/" + "".join(rng.choices(_URL_CHARS, k=10)))
        end = rng.choice(ends)
        text = " ".join(parts) + punct + (" " + end if end else "")
        texts.append(text)
        labels.append(label)
    return texts, labels


# ---------------------------------------------------------------- make_hard_posts
#
def _words(text: str) -> list[str]:
    return text.split()


# Sentiment words, most frequent first (a post draws them with Zipf-like weights, so the first
# few recur and most of the rest are rare: a 10% training sample never sees many of them). The
# candidates were GloVe 6B 50d's nearest neighbours of a few seed words (great, excellent,
# terrible, rude, ...), weeded by hand (GloVe puts antonyms side by side: "good" beside "bad").
POS_ADJ = _words("""great amazing awesome excellent perfect nice friendly helpful wonderful
fantastic
lovely smooth beautiful comfortable fast quick incredible brilliant pleasant impressive
delicious clean efficient professional polite superb terrific outstanding stellar spectacular
fabulous gorgeous cozy spacious tasty attentive courteous generous gracious reliable seamless
flawless effortless painless refreshing relaxing memorable remarkable exceptional phenomenal
marvelous splendid magnificent delightful charming elegant classy stunning dazzling glorious
exquisite impeccable immaculate spotless pristine roomy speedy prompt punctual swift responsive
convenient affordable welcoming accommodating considerate thoughtful knowledgeable cheerful
joyful upbeat sublime heavenly divine luxurious plush posh wholesome admirable commendable
superior enjoyable entertaining inspiring uplifting soothing peaceful tranquil serene crisp
savory scrumptious succulent tender fluffy vibrant lively sleek intuitive sturdy""")
NEG_ADJ = _words("""terrible awful horrible rude worst slow disgusting useless ridiculous annoying
broken dirty pathetic unacceptable disappointing frustrating cramped uncomfortable lousy
incompetent unhelpful unprofessional filthy miserable nasty dreadful appalling atrocious
horrendous abysmal dismal shoddy sloppy careless clueless worthless outrageous shameful
disgraceful deplorable ghastly hideous gross revolting vile foul smelly stinky grimy greasy
soggy stale bland tasteless noisy chaotic disorganized arrogant condescending dismissive hostile
grumpy surly obnoxious inconsiderate lazy sluggish overpriced shady sketchy unreliable flimsy
faulty defective buggy crappy lame subpar inferior infuriating maddening exasperating
aggravating irritating underwhelming unbearable intolerable insufferable painful excruciating
horrid heinous despicable humiliating insulting pitiful laughable catastrophic disastrous
messy dysfunctional inept greedy dishonest deceptive misleading mediocre tedious dreary gloomy
bleak sticky rotten rancid mouldy leaky rickety shabby squalid""")
POS_VERB = _words("""love loved enjoyed appreciate adore recommend adored praise applaud cherish
admire treasure relish savor""")
NEG_VERB = _words("""hate hated regret despise loathe detest dread resent deplore abhor""")
#: Weak, ambivalent words: a post that has only these is labelled by its author's mood, which the
#: text barely shows (annotators disagree most on these).
WEAK = {"positive": ["decent", "fine", "solid", "not bad", "pretty good", "alright", "fair",
                     "acceptable", "ok", "reasonable", "better than expected"],
        "negative": ["meh", "mediocre", "so-so", "average", "could be better", "not great",
                     "ok i guess", "not the best", "forgettable", "whatever", "fine i guess"],
        "neutral": ["ok", "fine", "average", "alright", "normal", "standard", "usual",
                    "as expected", "nothing special", "decent"]}
TOPICS = {  # the things a post is about
    "flight": ["flight", "crew", "seat", "gate agent", "pilot", "boarding", "legroom", "lounge",
               "check-in", "wifi", "snack", "upgrade", "landing", "app", "refund", "bag drop"],
    "food": ["burger", "pizza", "coffee", "waiter", "service", "fries", "pasta", "brunch",
             "dessert", "staff", "menu", "tacos", "latte", "sushi", "patio", "delivery"],
    "phone": ["phone", "battery", "camera", "screen", "update", "charger", "headphones",
              "laptop", "keyboard", "app", "support", "signal", "speaker", "tablet"],
    "show": ["movie", "show", "episode", "finale", "concert", "album", "soundtrack", "game",
             "match", "trailer", "band", "set", "opening act", "season"],
    "hotel": ["room", "hotel", "bed", "shower", "pool", "breakfast", "front desk", "view",
              "parking", "gym", "lobby", "checkout", "housekeeping", "air conditioning"],
}
EVENTS = {  # facts that carry the mood without an opinion word
    "negative": ["delayed {n} hours", "cancelled again", "lost my bag", "on hold for {n} hours",
                 "charged me twice", "stuck on the tarmac", "missed my connection",
                 "still no refund after {n} weeks", "crashed {n} times today",
                 "waited {n} minutes for a cold coffee", "no one answered the phone",
                 "bumped from my flight"],
    "positive": ["upgraded me for free", "landed {n} minutes early", "refund came in a day",
                 "fixed it in {n} minutes", "gave us free dessert", "remembered my name",
                 "found my lost bag", "got front row seats", "surprise upgrade to a suite",
                 "sold out in {n} minutes and i got tickets"],
}
#: Neutral posts where opinion words are names or idioms, not opinions.
NEUTRAL_NAMES = [
    "watching good morning america before my flight", "heading to best buy for a charger",
    "anyone at the great lakes festival this weekend", "bad bunny tickets go on sale friday",
    "happy hour starts at {n} at the airport bar", "rewatching breaking bad on the plane",
    "super bowl party at {who}'s place sunday", "is the best western near the airport",
    "reading the fine print on my ticket", "landing in nice, france at {n}pm",
    "the grand canyon tour leaves at {n}", "mean girls is on tv again",
    "first class boarding is at gate {n}", "pretty much everyone is flying out today",
    "the worst witch reboot drops on netflix", "hell's kitchen finale tonight",
    "love island is on in the lounge", "the perfect storm is on cable right now",
    "good luck to everyone taking exams today", "my sister works at great clips",
]
NEUTRAL_QUESTIONS = [
    "does the {t} come with the ticket", "what time does the {t} open",
    "is the {t} included or extra", "how do i change my {t}", "where is the {t}",
    "can i bring my own {t}", "anyone know if the {t} is open on sundays",
    "which {t} should i pick", "do you still offer the {t}", "is there a {t} at terminal {n}",
    "how much is the {t} now", "when does the new {t} come out",
]
NEUTRAL_STATEMENTS = [
    "boarding now at gate {n}", "flight {n} just landed", "picked up the new {t} today",
    "trying the {t} for the first time", "on my way to the {t}", "the {t} changed again",
    "switched my {t} to the morning", "we got the {t} for {n} people", "{t} at {n} tomorrow",
    "ordered the {t} for delivery", "moving my {t} to next week", "just booked the {t}",
]
NEUTRAL_OPINION_QUESTIONS = [  # an opinion word, asked about: no opinion given
    "is the {t} any {adj}", "heard the {t} is {adj}, true?", "is the {t} really that {adj}",
    "which {t} is the most {adj}", "would you say the {t} is {adj}",
]
FRAMES = [  # one clause that carries an opinion: {t} a topic word, {adj} a sentiment adjective
    "the {t} was {adj}", "{adj} {t}", "the {t} is so {adj}", "what a {adj} {t}",
    "{adj} {t} today", "honestly the {t} was {adj}", "the {t} was just {adj}",
    "such a {adj} {t}", "{t} = {adj}", "the {t} here is always {adj}", "{adj} {t} as usual",
]
NEG_FRAMES = ["the {t} was not {adj}", "the {t} wasn't {adj} at all", "not exactly a {adj} {t}",
              "the {t} is never {adj}", "i wouldn't call the {t} {adj}"]
VERB_FRAMES = ["i {verb} the {t}", "{verb} this {t}", "i {verb} how the {t} works",
               "gotta say i {verb} the {t}"]
CONTRASTS = ["but", "but", "but", "but honestly", "though", "however"]
EMOJI = {"positive": ["😍", "👍", "🙏", "😊", "❤️", "🎉", ":)", ":D", "<3", "🔥"],
         "negative": ["😡", "😤", "😭", "👎", "🙄", "💔", ":(", ":/", "smh", "ugh"],
         "neutral": ["🤔", "✈️", "📷", "👀", "", "", "?", "lol", "🤷", "📍"]}


def _zipf(words: list[str], rng: random.Random) -> str:
    """A word of ``words``, the k-th drawn with weight 1 / (k + 2)."""
    return rng.choices(words, weights=[1 / (k + 2) for k in range(len(words))])[0]


def _typo(word: str, rng: random.Random) -> str:
    """A keyboard slip (a letter dropped, doubled or swapped) or an elongation."""
    if len(word) < 4 or not word.isalpha():
        return word
    k = rng.randrange(1, len(word) - 1)
    r = rng.random()
    if r < 0.3:
        return word[:k] + word[k + 1:]
    if r < 0.5:
        return word[:k] + word[k + 1] + word[k] + word[k + 2:]
    if r < 0.7:
        return word[:k] + word[k] + word[k:]
    vowel = max((i for i, c in enumerate(word) if c in "aeiouy"), default=k)
    return word[:vowel] + word[vowel] * rng.randint(3, 6) + word[vowel + 1:]


def _adj(label: str, rng: random.Random) -> str:
    return _zipf(POS_ADJ if label == "positive" else NEG_ADJ, rng)


def _opinion(label: str, rng: random.Random, topic: list[str]) -> str:
    """One clause that says ``label`` (positive or negative) about a word of ``topic``."""
    other = "negative" if label == "positive" else "positive"
    t = rng.choice(topic)
    r = rng.random()
    if r < 0.5:
        return rng.choice(FRAMES).format(t=t, adj=_adj(label, rng))
    if r < 0.65:  # negation: "not {the other side}"
        return rng.choice(NEG_FRAMES).format(t=t, adj=_adj(other, rng))
    if r < 0.8:
        verb = _zipf(POS_VERB if label == "positive" else NEG_VERB, rng)
        return rng.choice(VERB_FRAMES).format(verb=verb, t=t)
    if r < 0.9:
        return f"{t} {rng.choice(EVENTS[label])}".format(n=rng.randint(2, 9))
    if label == "negative":
        return rng.choice(["never again", "never flying with you again", "done with this {t}",
                           "want my money back", "what a joke", "avoid this {t}"]).format(t=t)
    return rng.choice(["will be back", "can't wait to come back", "10/10 {t}",
                       "would do it again", "made my day", "{t} goals"]).format(t=t)


def _neutral(rng: random.Random, topic: list[str]) -> str:
    r = rng.random()
    fill = {"t": rng.choice(topic), "n": rng.randint(2, 40), "who": rng.choice(FIRST)}
    if r < 0.35:
        return rng.choice(NEUTRAL_QUESTIONS).format(**fill) + "?"
    if r < 0.65:
        return rng.choice(NEUTRAL_STATEMENTS).format(**fill)
    if r < 0.85:
        return rng.choice(NEUTRAL_NAMES).format(**fill)
    return rng.choice(NEUTRAL_OPINION_QUESTIONS).format(
        adj=_adj(rng.choice(["positive", "negative"]), rng), **fill) + "?"


def _mess(text: str, rng: random.Random, label: str) -> str:
    """Typos, elongations, capitals, a handle, hashtags, emoji and a link, as people post."""
    words = [_typo(w, rng) if rng.random() < 0.07 else w for w in text.split()]
    words = [TYPOS[w] if w in TYPOS and rng.random() < (0.05 if w == "the" else 0.3) else w
             for w in words]
    if rng.random() < 0.1:
        k = rng.randrange(len(words))
        words[k] = words[k].upper()
    if rng.random() < 0.15:
        words.insert(rng.randrange(len(words) + 1), rng.choice(ELONG))
    if rng.random() < 0.7:
        words.insert(0, _handle(rng))
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        # a mood tag that matches the label half the time, else any tag
        words.append("#" + rng.choice(TAGS_MOOD[label]) if rng.random() < 0.25
                     else _hashtag(rng))
    if rng.random() < 0.45:  # emoji: the post's mood, or anyone's (irony, habit)
        words.append(rng.choice(EMOJI[label] if rng.random() < 0.6
                                else EMOJI[rng.choice(list(EMOJI))]))
    if rng.random() < 0.1:
        words.append("https://t.co/" + "".join(rng.choices(_URL_CHARS, k=10)))
    return " ".join(w for w in words if w) + rng.choice(["", "", ".", "!", "!!", "...", "?!"])


TOPIC_SHARES = {"flight": 0.4, "food": 0.15, "phone": 0.15, "show": 0.15, "hotel": 0.15}
SARCASM = ["oh {adj}, the {t} {event}", "just {adj}. {t} {event}", "{adj} job, {t} {event}",
           "love how the {t} {event}", "so {adj} that the {t} {event}"]
HARD_SHARES = {"negative": 0.45, "neutral": 0.31, "positive": 0.24}


def make_hard_posts(n: int = 6000, seed: int = 0, *, noise: float = 0.12
                    ) -> tuple[list[str], list[str]]:
    """``n`` posts and their labels, as hard as real ones: the sentiment is carried by an open
    vocabulary (over 100 adjectives a side, drawn Zipf-like, so most are rare), by negation
    ("the crew wasn't friendly"), by the clause after "but" ("great food but rude staff" is
    negative), by facts ("delayed 3 hours"), by sarcasm ("oh great, the flight cancelled
    again"), or only weakly ("meh", "decent"); neutral posts hold opinion words as names, idioms
    and questions ("heading to best buy", "is the lounge any good?"); emoji and mood tags follow
    the label only part of the time; typos, handles and hashtags as in :func:`make_posts`; two
    posts of five are about flights, the rest about food, phones, shows and hotels.

    A share ``noise`` of the labels is then swapped for another label at random (annotators
    disagree), drawn from an own seeded stream: the texts do not depend on ``noise``, and
    ``noise=0`` gives the labels as written. About 43% of the posts are negative, 32% neutral
    and 25% positive (after the swaps).
    """
    rng = random.Random(seed)
    flips = random.Random(f"make_hard_posts-labels-{seed}")
    classes = list(HARD_SHARES)
    texts: list[str] = []
    labels: list[str] = []
    for _ in range(n):
        label = rng.choices(classes, weights=list(HARD_SHARES.values()))[0]
        topic = TOPICS[rng.choices(list(TOPICS), weights=list(TOPIC_SHARES.values()))[0]]
        r = rng.random()
        if label == "neutral":
            text = _neutral(rng, topic)
            if r < 0.2:  # a weak word in a neutral post
                text += f", {rng.choice(topic)} was {rng.choice(WEAK['neutral'])}"
        elif r < 0.25:  # weak cues only
            text = f"the {rng.choice(topic)} was {rng.choice(WEAK[label])}"
        elif r < 0.5:  # contrast: the clause after "but" decides
            other = "negative" if label == "positive" else "positive"
            text = (f"{_opinion(other, rng, topic)} {rng.choice(CONTRASTS)} "
                    f"{_opinion(label, rng, topic)}")
        elif r < 0.55 and label == "negative":  # sarcasm: praise for a mishap
            text = rng.choice(SARCASM).format(adj=_adj("positive", rng), t=rng.choice(topic),
                                              event=rng.choice(EVENTS["negative"]))
            text = text.format(n=rng.randint(2, 9))
        else:
            text = _opinion(label, rng, topic)
            if rng.random() < 0.3:
                text = f"{_neutral(rng, topic)}. {text}"
        texts.append(_mess(text, rng, label))
        flip, other = flips.random(), flips.choice([c for c in classes if c != label])
        labels.append(other if flip < noise else label)
    return texts, labels
