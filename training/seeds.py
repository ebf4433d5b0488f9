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

HUMAN_REQUEST_MORE = [
    "i need a person", "real human now", "agent now", "human agent please", "can i get a person on this",
    "somebody real please", "pls get me a human", "u got a real person?", "get a human on here",
    "put someone on who knows what they're doing", "i want a live person not this chat", "give me someone competent",
    "let me speak to someone higher up", "i'd like this escalated to a manager", "i want to escalate this to a person",
    "can a human take over this chat", "forward me to your support staff", "i need to talk to your team directly",
    "connect me to someone from the help desk", "can i ring someone", "can someone phone me about this",
    "i want a call from a real person", "switch me to a live agent", "i need human help", "human assistance please",
    "talk to a real one", "can i speak with a human rather than a bot", "get your boss", "get me a manager now!!",
    "i wanna speak to a manger", "connect me to a represenative", "i want to talk to a humna", "operater please",
    "speak to a real persom", "I WANT A HUMAN", "GET ME A PERSON", "stop wasting my time and get me a human",
    "useless bot, give me a real agent", "are there any humans working there? i need one",
]
"""More ways of asking for a person: slang, typos, shouting, anger."""

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
    "how do i send money to a person abroad", "transfer money to another person", "can i pay a person with my card",
    "the person i paid hasn't received it", "i'd like to add a second person to the booking", "someone else will pick it up",
    "is this a chatbot?", "are you an ai?", "r u a bot", "are you a real agent or automated?", "is anyone reading this?",
    "the staff at the hotel were lovely", "your team already fixed it, thanks", "i spoke with an agent and it's sorted",
    "my colleague will call you", "my boss wants the receipt", "i'm a customer service manager myself",
    "a human being deserves better than this", "your support staff said to email", "the supervisor on the phone said no",
    "i don't want an agent, just the tracking number", "no human needed", "no need to escalate",
    "what time does customer service close", "what is the phone number for customer service",
]


_FIRST = "anna ben carla dev emeka fatima george hana ivan jess kofi lena marco nadia oliver priya rosa sam tomas uma".split()
_LAST = "adams baker chen diaz evans fischer garcia hughes ito jones khan lopez murphy novak okafor patel quinn reyes smith walsh".split()
_INTRO = ["hi, my name is {n}. ", "hello, this is {n}, ", "{n} here. ", "", "hi i'm {n} and "]
_OUTRO = ["", " my account number is {d}", " my name is {n}", " ref {d}"]


def with_person(text: str, i: int) -> str:
    """``text`` with a made-up name or account number around it, as customers give them:
    unknown names must not read as fraud or as a request for a person."""
    n = f"{_FIRST[i % len(_FIRST)]} {_LAST[(i * 7) % len(_LAST)]}"
    d = str(10_000_000 + (i * 7919) % 89_999_999)
    return _INTRO[i % len(_INTRO)].format(n=n) + text + _OUTRO[(i // 5) % len(_OUTRO)].format(n=n, d=d)


def human_request_seeds() -> tuple[list[str], list[str]]:
    """Positive and negative sentences for the ``human_request`` head."""
    positives = [f"{a} {w}{t}" for a, w, t in itertools.product(_ASK, _WHO, _TAIL)]
    # every combination would swamp the public data: take a fixed, spread-out subset
    positives = positives[::7] + HUMAN_REQUEST_EXTRA + HUMAN_REQUEST_MORE
    return positives, list(NOT_HUMAN_REQUEST)


NOT_HIGH_STAKES = [
    "i was in hospital, can you waive the late fee?", "i was charged twice for my order", "can i get a refund of $20",
    "my card was declined at the shop", "how do i reset my password", "i forgot my pin", "the app keeps logging me out",
    "why is there a fee on my statement", "can i change my email address", "my delivery is late",
    "how do i update my phone number", "the payment is still pending", "the exchange rate looks wrong",
    "i want to close my account", "my card isn't working", "where is my refund",
    "i'm locked out of my account, i forgot my password", "i can't log in, the reset link isn't working",
    "my account is locked after too many tries", "how do i unlock my online banking",
]
TAKEOVER_EXTRA = [
    "someone accessed my account without my permission", "a stranger is logged into my account",
    "my login details were changed and it wasn't me", "i got an email saying my password was reset but i never did that",
    "somebody changed the phone number on my profile", "someone else changed my login details",
    "there's a device signed in to my account that isn't mine", "my email on the account was replaced by someone else",
    "someone took over my online banking", "an unknown person added themselves to my account",
    "i think someone has my login and is using it", "my account settings were changed by someone i don't know",
]
"""Account takeover in everyday words (the public data has few of them)."""

HIGH_STAKES_EXTRA = TAKEOVER_EXTRA + [
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
_SUBJECT = [
    "my parcel", "the engineer", "my refund", "the driver", "my order", "the replacement", "my flight", "the technician",
    "my booking", "the app", "the website", "my new card", "the delivery", "my package", "the courier", "my payment",
    "the router", "my room", "the repair", "my account",
]
_FAILURE = [
    "hasn't arrived", "didn't turn up", "never came", "still isn't here", "was cancelled without any notice",
    "stopped working after a day", "is broken again", "went missing", "was sent to the wrong address",
    "keeps failing", "has been stuck for a week", "still hasn't been sorted", "got lost somewhere", "was damaged",
    "is two weeks late",
]
_FAILURE_TAIL = ["", " and nobody has called me", " and this is the third time", ", nobody tells me anything",
                 " and i'm still waiting", " and i've been charged anyway"]
_NEUTRAL_ASK = [
    "when will {s} arrive?", "can you check {s} for me", "i have a question about {s}", "how do i track {s}",
    "can i change {s}", "what's the status of {s}?", "is {s} covered by the warranty", "can {s} come on saturday",
]
_GOOD = ["{s} arrived this morning, thanks", "{s} works perfectly now", "{s} was sorted quickly, thank you",
         "really pleased with {s}", "{s} came early, great service"]
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
    # problems told without a negative word ("my parcel never came") are negative; questions about the
    # same things neutral, good news positive: the subject is not what makes a turn unhappy
    subjects = _SUBJECT
    add([f"{s} {f}{t}" for i, (s, f, t) in enumerate(itertools.product(subjects, _FAILURE, _FAILURE_TAIL)) if i % 5 == 0],
        "negative")
    add([a.format(s=s) for a, s in itertools.product(_NEUTRAL_ASK, subjects)], "neutral")
    add([g.format(s=s) for g, s in itertools.product(_GOOD, subjects)], "positive")
    return texts, labels
