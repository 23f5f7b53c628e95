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
