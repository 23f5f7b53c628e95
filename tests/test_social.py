"""The social tokenizer: GloVe Twitter's special tokens, plain words otherwise, the train hook."""

from __future__ import annotations

import pytest

from wordvecs.text.datasets import Tokenizer, Vocabulary
from wordvecs.text.social import is_glove_twitter, tokenize

POST = ("@AmericanAir my flight was CANCELLED!!! sooooo angry :( #fail #NeverAgain #TBT "
        "http://t.co/xyz at 10:30 <3 :D :P :/ 😂 coooool don’t self-driving")


def test_glove_twitter_tokens() -> None:
    """As GloVe's preprocess-twitter.rb writes them: <user>, <allcaps> after an all-caps word,
    '! <repeat>', 'so <elong>' (the last letter kept once), faces, <hashtag> before the tag's
    words split at capitals (an all-caps tag gets <allcaps>), <url>, <number>, <heart>."""
    assert tokenize(POST, glove_twitter=True) == [
        "<user>", "my", "flight", "was", "cancelled", "<allcaps>", "!", "<repeat>",
        "so", "<elong>", "angry", "<sadface>", "<hashtag>", "fail", "<hashtag>", "never",
        "again", "<hashtag>", "tbt", "<allcaps>", "<url>", "at", "<number>", "<heart>",
        "<smile>", "<lolface>", "<neutralface>", "😂", "cool", "<elong>", "do", "n't",
        "self-driving"]


def test_plain_mode_keeps_words_and_drops_noise() -> None:
    assert tokenize(POST) == [
        "americanair", "my", "flight", "was", "cancelled", "!", "so", "angry", "sad", "fail",
        "neveragain", "tbt", "at", "10:30", "love", "smile", "laugh", "meh", "laughing", "cool",
        "do", "n't", "self-driving"]


@pytest.mark.parametrize(("text", "plain", "twitter"), [
    ("", [], []),
    ("see www.example.com/page now", ["see", "now"], ["see", "<url>", "now"]),
    ("(: ;-) =D 8)", ["smile"] * 4, ["<smile>"] * 4),
    (":-( )): =(", ["sad"] * 3, ["<sadface>"] * 3),
    ("+1.5 and -3", ["+1.5", "and", "-3"], ["<number>", "and", "<number>"]),
    ("why?? ok...", ["why", "?", "ok", "."], ["why", "?", "<repeat>", "ok", ".", "<repeat>"]),
    ("™ \ufffd ✨ ok", ["ok"], ["✨", "ok"]),
    ("I AM OK", ["i", "am", "ok"], ["i", "am", "<allcaps>", "ok", "<allcaps>"]),
    ("#coachella2015 @sarah_k92", ["coachella2015", "sarah_k92"],
     ["<hashtag>", "coachella2015", "<user>"]),
])
def test_cases(text: str, plain: list[str], twitter: list[str]) -> None:
    assert tokenize(text) == plain
    assert tokenize(text, glove_twitter=True) == twitter


def test_is_glove_twitter() -> None:
    assert is_glove_twitter("glove-twitter-27b-25d") and is_glove_twitter("/x/glove.twitter.27B")
    assert not is_glove_twitter("glove-6b-50d") and not is_glove_twitter(None)


def test_tokenizer_mode_hook_round_trip() -> None:
    tok = Tokenizer(mode="social")
    assert tok("@JetBlue thx!!!") == ["jetblue", "thx", "!"]
    assert Tokenizer(mode="social-twitter")("@JetBlue thx!!!") == ["<user>", "thx", "!",
                                                                   "<repeat>"]
    assert Tokenizer.from_dict(tok.to_dict()) == tok
    assert Tokenizer.from_dict({}).mode == "standard"  # files saved before the mode existed
    vocab = Vocabulary.from_texts(["@JetBlue thx!!!", "sooo good"], tokenizer=tok)
    again = Vocabulary.from_dict(vocab.to_dict())
    assert again.tokenizer.mode == "social" and again.encode_one("@JetBlue") == [
        vocab.index["jetblue"]]
    with pytest.raises(ValueError, match="unknown tokenizer mode 'tweets'"):
        Tokenizer(mode="tweets")


def test_train_cli_has_the_option() -> None:
    from click.testing import CliRunner

    from wordvecs.cli import cli

    res = CliRunner().invoke(cli, ["train", "--help"])
    assert res.exit_code == 0 and "--tokenizer [standard|social]" in res.output


def test_train_config_checks_the_mode() -> None:
    from wordvecs.training.train import TrainConfig

    TrainConfig(tokenizer="social").check()
    with pytest.raises(ValueError, match="unknown tokenizer mode 'tweet'"):
        TrainConfig(tokenizer="tweet").check()
