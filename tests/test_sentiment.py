"""The fast sentiment scorer agrees with VADER's own and is much cheaper."""

from __future__ import annotations

import time

import pytest

from hitl_console.engine.sentiment import configure_cache, estimate_sentiment, score_uncached

CORPUS = [
    # billing and refunds
    "I was charged twice for order 5531.",
    "Why was I charged twice? This is ridiculous!",
    "I still haven't received my refund and it's been three weeks.",
    "Thanks, the refund arrived this morning.",
    "Great, thank you so much for sorting that out!",
    "The invoice is wrong again, this is the third time.",
    "Can you explain this extra fee on my bill?",
    "I'm not happy about being overcharged.",
    "That's not what I was told last time.",
    "OK, that makes sense now.",
    "You people are useless, I want my money back.",
    "I appreciate the quick response.",
    "This is a scam and you know it.",
    "I don't understand why my payment failed.",
    "Perfect, that's exactly what I needed.",
    "The discount code didn't work at checkout.",
    "I love the product but the billing is a mess.",
    "Honestly, I'm really disappointed with the service.",
    "No worries, take your time.",
    "It's fine, I just want it fixed.",
    # delivery
    "My package never arrived.",
    "The parcel was left in the rain and everything is ruined.",
    "Where is my order? It was supposed to arrive yesterday!",
    "The courier was very friendly, thanks.",
    "Delivery was fast and the box was in perfect condition.",
    "The item arrived broken.",
    "I received the wrong size, can I swap it?",
    "Tracking hasn't updated in five days, I'm getting worried.",
    "It arrived early, nice surprise!",
    "The delivery driver was rude and threw the box.",
    "Can you send it to my office instead?",
    "I'm extremely frustrated with how long this is taking.",
    "Still nothing. Unbelievable.",
    "Thanks for the update, that helps a lot.",
    "Not bad at all, it came on time.",
    "The box was damaged but the contents are fine.",
    "I'm so angry right now, this was a birthday present.",
    "Please hurry, I need it for Friday.",
    "Awesome, it's here!",
    "That is the worst delivery experience I've ever had.",
    # technical support
    "The app keeps crashing when I open it.",
    "I can't log in, it says my password is wrong.",
    "The update broke everything.",
    "It works now, you're a lifesaver!",
    "The router is blinking red and nothing works.",
    "I've restarted it five times and it still doesn't work.",
    "That fixed it, thank you!",
    "The screen is flickering, is that normal?",
    "I'm tired of restarting this stupid thing.",
    "Your instructions were clear and helpful.",
    "The new version is much better.",
    "This is so confusing.",
    "I'm not sure that helped.",
    "It's slow but usable.",
    "Nothing you suggested has worked.",
    "Brilliant, everything is back to normal.",
    "The battery dies after an hour, which is terrible.",
    "I hate this new interface.",
    "The feature I paid for is missing.",
    "Good news, the sync works again.",
    # account
    "Please close my account.",
    "I want to cancel my subscription, it's too expensive.",
    "I've been a loyal customer for ten years and this is how you treat me?",
    "Thanks for keeping my data safe.",
    "My account was locked for no reason.",
    "I'm worried someone accessed my account.",
    "Can you update my email address?",
    "That's great, I'll keep the plan then.",
    "I feel ignored.",
    "You've been very patient with me, thank you.",
    "This is absolutely unacceptable.",
    "I'm fed up with the constant problems.",
    "OK thanks",
    "yes",
    "no",
    "Hello?",
    "Is anyone there?",
    "Hi, I need some help please.",
    "Good morning, I have a question about my plan.",
    "Bye.",
    # emphasis, caps, punctuation
    "This is TERRIBLE service!!!",
    "I am VERY upset.",
    "GREAT job, thanks!",
    "Why is this SO hard???",
    "Thank you!!",
    "Seriously?!",
    "WHERE IS MY REFUND",
    "I'm NOT happy.",
    "This is really, really bad.",
    "Very good, thanks.",
    "Extremely helpful, thank you.",
    "Slightly annoying but okay.",
    "It's kind of good.",
    "It's sort of working.",
    "Barely usable.",
    "Incredibly slow response times.",
    "Absolutely brilliant support.",
    "Totally useless answer.",
    "The agent was so kind.",
    "Hardly helpful at all.",
    # negation and but
    "It's not bad.",
    "I'm not angry, just disappointed.",
    "That wasn't helpful.",
    "I don't like this at all.",
    "Never been this happy with a support team!",
    "The phone is good but the battery is awful.",
    "Nice try, but it still doesn't work.",
    "The staff were lovely but the wait was terrible.",
    "I wouldn't recommend this to anyone.",
    "Not great, not terrible.",
    "I can't complain, it works.",
    "Without a doubt the best service I've had.",
    "Nothing works and nobody cares.",
    "It isn't perfect but it's fine.",
    "No problem at all.",
    "There's no help from anyone.",
    "I'm not sure this is right.",
    "Don't worry about it.",
    "It doesn't matter anymore.",
    "I didn't expect such a good answer.",
    # escalation language
    "I want to speak to a real person.",
    "Let me talk to your manager.",
    "Get me a human, now.",
    "I'm going to call my lawyer.",
    "I will report you to the ombudsman.",
    "My charger caught fire last night.",
    "There's smoke coming out of the unit!",
    "Someone hacked my account and changed my password.",
    "I did not authorize this charge.",
    "I'm not going to sue, I just want my money back.",
    "You keep giving me the same answer.",
    "I already told you that three times.",
    "Are you even listening?",
    "Are you a bot?",
    "This chatbot is pointless.",
    "Finally, someone who understands.",
    "I've wasted my whole afternoon on this.",
    "This is the last time I buy from you.",
    "I'm cancelling and telling all my friends.",
    "You have been wonderful, thank you.",
    # misc with emoticons and mixed
    "Thanks :)",
    "Not impressed :(",
    "lol ok",
    "Sounds good, cheers!",
    "Meh.",
    "Ugh, again?",
    "Wow, that was quick!",
    "Fantastic, appreciate it.",
    "Awful experience from start to finish.",
    "I'm happy with the resolution.",
    "The refund is less than I expected.",
    "Please stop sending me spam emails.",
    "I'm confused by the options.",
    "That's a relief, thank you.",
    "What a joke.",
    "I'm grateful for your help today.",
    "This keeps happening and it's driving me crazy.",
    "Could be worse I guess.",
    "It's okay I suppose.",
    "Excellent, problem solved!",
    "I'm worried about the security of my card.",
    "The replacement is even worse than the original.",
    "I'm pleased with the upgrade.",
    "Sorry for the trouble, and thanks again.",
]


@pytest.fixture(scope="module")
def vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def test_corpus_is_big_and_varied():
    assert len(CORPUS) >= 150
    assert len(set(CORPUS)) == len(CORPUS)


def test_agrees_with_vader_compound(vader):
    close = 0
    same_sign = 0
    strong = 0
    worst = []
    for text in CORPUS:
        ref = vader.polarity_scores(text)["compound"]
        ours = score_uncached(text)
        assert -1.0 <= ours <= 1.0
        if abs(ref - ours) <= 0.1:
            close += 1
        else:
            worst.append((abs(ref - ours), text, ref, ours))
        if abs(ref) > 0.2:
            strong += 1
            if (ref > 0) == (ours > 0) and ours != 0:
                same_sign += 1
    share_close = close / len(CORPUS)
    share_sign = same_sign / strong
    print(f"\nwithin 0.1: {share_close:.1%}, same sign when |v|>0.2: {share_sign:.1%} ({strong} strong)")
    for gap, text, ref, ours in sorted(worst, reverse=True)[:5]:
        print(f"  gap {gap:.2f}: vader {ref:+.3f} fast {ours:+.3f}  {text}")
    assert share_close >= 0.9
    assert share_sign >= 0.95


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("This is TERRIBLE service!!!", -1),
        ("It's not bad.", 1),
        ("Great, thank you so much!", 1),
        ("I'm not happy.", -1),
        ("Thanks :)", 1),
        ("Order 5531 ships from warehouse 7", 0),
        ("", 0),
        ("ok!", 0),  # VADER keeps "ok!" whole, so it is not the lexicon word "ok"
    ],
)
def test_rules(text, sign):
    score = score_uncached(text)
    if sign == 0:
        assert score == 0.0
    else:
        assert score * sign > 0.05


def test_negation_but_caps_and_exclamation_change_the_score():
    assert score_uncached("The service is good") > 0 > score_uncached("The service is not good")
    assert score_uncached("The service is GOOD but slow") != score_uncached("The service is good")
    assert score_uncached("The food was bad, but the staff were great") > 0
    assert score_uncached("I am VERY upset") < score_uncached("I am very upset") < score_uncached("I am upset")
    assert score_uncached("This is great!!!") > score_uncached("This is great")


def test_emoji_and_odd_text():
    assert score_uncached("Thanks \U0001f600") > 0
    assert score_uncached("\x1b[31mterrible\x1b[0m") <= 0
    assert -1.0 <= score_uncached("bad " * 500) <= 1.0


def test_cache_returns_the_same_value():
    configure_cache(128)
    try:
        assert estimate_sentiment("I love it") == score_uncached("I love it")
        assert estimate_sentiment("I love it") == score_uncached("I love it")
    finally:
        configure_cache(8192)


def test_speed_is_reported(vader):
    """Prints both costs; no timed assertion (the machine is shared)."""
    texts = CORPUS * 5
    start = time.perf_counter()
    for text in texts:
        vader.polarity_scores(text)
    slow = (time.perf_counter() - start) / len(texts)
    start = time.perf_counter()
    for text in texts:
        score_uncached(text)
    fast = (time.perf_counter() - start) / len(texts)
    print(f"\nVADER polarity_scores {slow * 1e6:.1f} us/message, fast scorer (uncached) {fast * 1e6:.1f} us/message, "
          f"{slow / fast:.1f}x faster")
