"""Hand-written training phrases (written for this project, MIT like the code).

The public data has few ways of asking for a person (NLU++ ``handoff``: 83
utterances) and none of the look-alikes that must stay quiet ("are you
human?", "the agent told me to wait"). These short lists are combined into
sentences by ``human_request_seeds``; they were written from the general
shape of the request, not copied from any evaluation set, and they are used
for training only (the dev figures in ``docs/models.md`` are on held-out
public data).
"""

from __future__ import annotations

import itertools

_ASK = [
    "i want to speak to", "i want to talk to", "let me talk to", "let me speak with", "can i talk to",
    "can i speak to", "could i speak with", "i need to speak to", "i need", "i want", "put me through to",
    "connect me to", "connect me with", "transfer me to", "get me", "give me", "i'd like to talk to",
    "i would like to speak with", "i demand to speak to", "is there any way to reach", "how do i get",
    "how can i contact", "pls connect me with", "just get me", "i wanna talk to", "can you get me",
    "i'd rather talk to", "i prefer to deal with", "can you pass me to", "escalate me to",
]
_WHO = [
    "a human", "a real person", "an actual human", "a live agent", "a person", "someone", "somebody real",
    "a human being", "your manager", "a supervisor", "customer service", "an operator", "a representative",
    "a real human", "someone in charge", "a live person", "a staff member", "an agent", "someone from support",
    "a human agent",
]
_TAIL = ["", " please", " now", " right now", " asap", ", this bot is useless", ", not a machine", " already"]

HUMAN_REQUEST_EXTRA = [
    "human please", "agent", "representative!", "operator", "real person please", "talk to human",
    "stop, i want a person", "no more bots", "i'm done with this bot, get me a person",
    "you're a bot, i need someone real", "is there a human i can talk to", "is anyone there who is real",
    "get a real person on the line", "call me back with a real person", "transfer to agent",
    "speak with representative", "can a person call me", "i dont want to chat with a robot",
    "let me chat with staff", "i want to talk to a manager about this",
]

NOT_HUMAN_REQUEST = [
    "are you human?", "are you a real person?", "am i talking to a bot?", "is this a robot?",
    "you're not human, are you?", "the agent told me to wait", "the agent said it would be refunded",
    "your agent was rude yesterday", "my travel agent booked this", "i spoke to a person yesterday and they said",
    "someone stole my card", "a person at the branch told me to call", "i don't want to talk to anyone, just fix it",
    "no need for a human, thanks", "my manager asked me to check the invoice", "i am the account manager",
    "a real estate agent needs a letter", "can someone's card be linked to my account", "somebody used my card",
    "the representative already gave me a number", "human error on your side caused this",
    "i'm a real person, not a bot", "thanks, the person on the phone fixed it", "who made you?",
    "what is your name?", "agent id 4421 took my call", "the operator cut me off", "is this person verified?",
    "tell the manager thanks", "my supervisor approved the expense",
]


def human_request_seeds() -> tuple[list[str], list[str]]:
    """Positive and negative sentences for the ``human_request`` head."""
    positives = [f"{a} {w}{t}" for a, w, t in itertools.product(_ASK, _WHO, _TAIL)]
    # every combination would swamp the public data: take a fixed, spread-out subset
    positives = positives[::7] + HUMAN_REQUEST_EXTRA
    return positives, list(NOT_HUMAN_REQUEST)


NOT_HIGH_STAKES = [
    "i was in hospital, can you waive the late fee?", "i was charged twice for my order", "can i get a refund of $20",
    "my card was declined at the shop", "how do i reset my password", "i forgot my pin", "the app keeps logging me out",
    "why is there a fee on my statement", "can i change my email address", "my delivery is late",
    "how do i update my phone number", "the payment is still pending", "the exchange rate looks wrong",
    "i want to close my account", "my card isn't working", "where is my refund",
]
HIGH_STAKES_EXTRA = [
    "there's a charge on my card i never made", "someone has been using my card", "my account has been hacked",
    "somebody logged into my account", "i got a text about a payment i didn't make", "money left my account without me",
    "i think i've been scammed", "my phone was stolen and my banking app is on it", "my card was cloned",
    "there are transactions i don't recognize", "someone changed my password", "i didn't authorise this payment",
]


# ------------------------------------------------------------ sentiment: what the public data misses

_RESIGN = [
    "whatever.", "ok whatever", "fine, whatever you say.", "forget it", "forget it, i'll go somewhere else",
    "never mind, i give up", "i give up", "don't bother", "don't bother, i'll sort it out myself",
    "why do i even bother", "what's the point", "fine, forget it", "suit yourself", "i'm done with this",
    "it doesn't matter anymore", "nevermind.", "sure, whatever you say", "fine. do what you want.",
    "no point asking you", "forget about it, cancel everything",
]
_RESIGN_TAIL = ["", " i'll take my business elsewhere.", " this is pointless."]
_PRAISE_OPEN = [
    "great", "oh great", "just great", "wonderful", "oh wonderful", "perfect", "fantastic", "brilliant",
    "lovely", "amazing", "awesome", "thanks a lot", "thank you so much", "yeah right",
]
_TROUBLE = [
    "delayed for the third time", "another hour on hold", "my card was declined", "still no refund",
    "the app crashed during the payment", "three hours waiting and nobody answers", "you lost my order",
    "my flight got cancelled", "still waiting for a reply", "charged twice", "the same useless answer",
    "you lost my bag", "nobody has called me back yet", "it's broken", "stuck in the queue for hours",
]
_SARCASM_FIXED = ["thanks for nothing", "what a joke", "love how nobody ever answers", "so helpful. not.",
                  "oh wonderful, more waiting", "yeah right, like that will happen"]
_SHOUT = [
    "THIS IS UNACCEPTABLE", "WHERE IS MY REFUND", "I WANT MY MONEY BACK", "ANSWER THE QUESTION",
    "WHY IS NOBODY HELPING ME", "I HAVE BEEN WAITING FOR HOURS", "FIX IT NOW", "STOP SENDING ME THE SAME LINK",
    "HOW HARD CAN THIS BE", "I SAID CANCEL IT",
]
_GLAD = [
    "great, thanks!", "perfect, that worked", "thank you so much, all sorted", "brilliant, thanks for your help",
    "awesome, it's fixed now", "wonderful, the refund arrived", "thanks a lot, that was really helpful",
    "great service, thank you", "thanks again!", "thank you again for your help", "THANK YOU SO MUCH!!!",
    "YOU GUYS ARE THE BEST", "lovely, have a nice day", "amazing, that was quick", "fantastic, all done",
]
_FLAT = ["fine, thanks", "ok", "okay, i'll wait", "sure, go ahead", "that's fine", "i'm fine, thank you"]


def sentiment_seeds() -> tuple[list[str], list[str]]:
    """Short turns for the sentiment head: resignation, sarcasm and shouting are
    negative; plain thanks (also shouted) positive; flat acknowledgements neutral."""
    texts: list[str] = []
    labels: list[str] = []

    def add(items: list[str], label: str) -> None:
        texts.extend(items)
        labels.extend([label] * len(items))

    add([r + t for r, t in itertools.product(_RESIGN, _RESIGN_TAIL)], "negative")
    add([f"{p}, {t}." for p, t in itertools.product(_PRAISE_OPEN, _TROUBLE)], "negative")
    add(_SARCASM_FIXED, "negative")
    add(_SHOUT + [s + "!!!" for s in _SHOUT], "negative")
    add(_GLAD * 4, "positive")
    add(_FLAT * 4, "neutral")
    return texts, labels
