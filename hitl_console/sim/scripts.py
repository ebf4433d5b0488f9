"""Conversation scripts of the simulated AI-agent platform.

One module decides *what* simulated conversations say and do; two consumers
decide *when*:

* :func:`generate_events` lays many conversations out on a timeline, offline,
  as a real platform would have emitted them (recordings, benchmarks, tests).
* :mod:`hitl_console.sim.platform` plays the same plans live, turn by turn,
  and lets a supervisor take over, reply, approve and end.

Both start from :func:`build_plan`, which turns a seeded ``random.Random``
into a :class:`ConversationPlan`: the ``conversation.started`` fields, the
scripted steps, what the customer says back to a human, and how the AI wraps
up after a hand-back. The scenarios are data (``INTENTS`` and ``PATTERNS``),
so adding one is adding text, not code paths.

The mix is deliberately uneven, as on a real floor: about three quarters of
conversations are routine and resolved by the AI; the rest are the patterns a
supervisor exists for (low confidence, fraud, legal threats, safety, hacked
accounts, large refunds awaiting approval, anger, loops, requests for a
person, routing misfits), plus a little hostile text that the console must
render literally.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "START_TS",
    "DEFAULT_MIX",
    "SCENARIOS",
    "SUPERVISORS",
    "HOSTILE_TEXTS",
    "GENERIC_REPLIES",
    "Step",
    "ConversationPlan",
    "build_plan",
    "pick_scenario",
    "customer_message_fields",
    "generate_events",
]

START_TS = 1763931600.0  # 2025-11-23 21:00 UTC, the protocol example's clock

# ----------------------------------------------------------------- people

FIRST_NAMES = (
    "Aisha", "Ben", "Carla", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal",
    "Kate", "Liam", "Mei", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tanya",
    "Umar", "Vera", "Will", "Xin", "Yusuf", "Zoe", "Priya", "Tom", "Niamh", "Marco",
)
LAST_NAMES = (
    "Okafor", "Smith", "Rossi", "Kim", "Novak", "Haddad", "Murphy", "Tanaka", "Garcia", "Brown",
    "Walsh", "Schmidt", "Chen", "Dubois", "Ivanova", "Silva", "Patel", "Jones", "Larsen", "Nguyen",
)
LOCALES = ("en-US", "en-US", "en-US", "en-GB", "en-GB", "en-IE", "en-AU", "en-CA", "es-US", "fr-CA", "de-DE")
SUPERVISORS = ("maria.k", "dev.patel", "sam.o", "lena.w")
"""Human agents who appear in offline recordings (live, the console's agent acts)."""

PRODUCTS = ("AirCharge 65W charger", "Nimbus X2 earbuds", "HomeHub router", "Pulse smartwatch", "Vista 27\" monitor", "Arc mesh kit")
CARRIERS = ("UPS", "FedEx", "DHL", "Royal Mail", "USPS")
MONTHS = ("August", "September", "October", "November")
DAYS = ("yesterday", "on Monday", "on Friday", "two days ago", "last week")

# ----------------------------------------------------------------- steps


@dataclass(slots=True)
class Step:
    """One scripted thing that happens ``delay`` seconds after the previous one.

    ``type`` is a protocol event type, or one of two pauses that only make
    sense to a player: ``"wait_human"`` (the AI has asked for a person and
    waits up to ``timeout`` seconds; ``branches["timeout"]`` runs if nobody
    comes) and ``approval.requested``, whose ``branches`` hold what happens
    after ``approved``, ``denied`` and ``expired``.
    """

    delay: float
    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    branches: dict[str, list[Step]] | None = None
    timeout: float = 0.0


@dataclass(slots=True)
class ConversationPlan:
    """Everything one simulated conversation will say and do, decided up front."""

    conversation_id: str
    scenario: str
    started: dict[str, Any]
    steps: list[Step]
    slots: dict[str, str]
    customer_replies: tuple[str, ...]
    """What the customer says to a human, in order (then ``GENERIC_REPLIES``)."""
    human_lines: tuple[str, ...]
    """What a competent human would say here (offline supervisors use them)."""
    wrap_up: list[Step]
    """The AI's closing turns after a human hands the conversation back."""
    needs_human: bool = False


# ----------------------------------------------------------------- routine intents


@dataclass(frozen=True, slots=True)
class Intent:
    """A routine request the AI can resolve on its own."""

    key: str
    queue: str
    contact_reason: str
    opening: tuple[str, ...]
    answer: tuple[str, ...]
    followups: tuple[tuple[str, str], ...]
    action: tuple[str, str] | None = None
    refund: bool = False
    topics: tuple[str, ...] = ()


INTENTS: tuple[Intent, ...] = (
    Intent(
        "invoice_copy", "billing", "invoice copy",
        ("Hi, can I get a copy of my invoice for {month}?",
         "I need last month's invoice for my expense report, where do I find it?",
         "hello, my accountant needs the {month} invoice. can you send it"),
        ("Of course. I've just emailed the {month} invoice to the address on your account. You can also download any invoice under Account > Billing > Invoices.",
         "Sure thing, {first}. The {month} invoice is on its way to your inbox, and all past invoices are under Account > Billing."),
        (("Can it show my company name on it?", "Yes: add the company name under Billing details and every new invoice, including a re-issued {month} one, will show it. I've re-issued it with the name already on file."),
         ("Will it have the VAT number?", "It will. Your VAT number is on file, so it's printed on the invoice I just sent.")),
        ("send_invoice", "emailed invoice for {month}"), topics=("invoice",),
    ),
    Intent(
        "double_charge", "billing", "duplicate charge",
        ("I think I was charged twice for order {order}",
         "Why are there two payments of ${amount} on my card?? order {order}",
         "hi there - my bank shows 2 charges for the same order ({order})"),
        ("I can see two authorisations of ${amount} for order {order}. One is a temporary hold that your bank releases within 3-5 business days; only one charge was captured.",
         "Thanks for flagging it. Order {order} was captured once for ${amount}; the second line is a pending hold and it will drop off on its own within a few days."),
        (("So I don't need to do anything?", "Nothing at all. If the hold is still there after 5 business days, reply here and I'll chase it with the bank for you."),
         ("Can you refund the extra one just in case?", "There is nothing to refund because the hold was never captured, but I've added a note to your account so any agent can see it if you contact us again.")),
        ("lookup_payment", "one capture of ${amount} on {order}, one pending hold"), topics=("billing", "payment"),
    ),
    Intent(
        "update_card", "billing", "update payment method",
        ("My card expired, how do I update it?", "need to change the card on my account", "How do I pay with a different card next month?"),
        ("You can update it under Account > Billing > Payment method. I've also sent you a secure link so you can do it in one step.",
         "I've sent a secure link to your email where you can add the new card; the next payment will use it automatically."),
        (("Will my subscription lapse meanwhile?", "No, your plan stays active; we retry the payment for 7 days, so there's plenty of time."),),
        ("send_payment_link", "secure card update link emailed"), topics=("billing",),
    ),
    Intent(
        "plan_change", "billing", "plan change",
        ("I'd like to switch to the annual plan", "can I downgrade to the basic plan?", "What does it cost to move to annual billing?"),
        ("Annual billing works out two months cheaper. I can switch you now; the unused part of this month is credited automatically.",
         "Yes, I can do that. The change takes effect at your next renewal and you keep all current features until then."),
        (("Ok do it please", "Done. You'll get a confirmation email in a minute with the new renewal date."),),
        ("change_plan", "plan changed at next renewal"), topics=("billing", "plan"),
    ),
    Intent(
        "where_is_order", "orders", "where is my order",
        ("Where is my order {order}? It was supposed to arrive {day}.", "tracking for {order} hasn't updated in 3 days", "hi, any news on order {order}?"),
        ("Your order {order} is with {carrier} and is out for delivery today. The driver's window is 10am-2pm.",
         "I've checked with {carrier}: order {order} reached your local depot this morning and should be with you by tomorrow evening."),
        (("Can they leave it with a neighbour?", "Yes, I've added a delivery note asking {carrier} to leave it with a neighbour if you're out."),
         ("What if it doesn't come tomorrow?", "If it isn't there by tomorrow evening, reply here and I'll send a replacement straight away.")),
        ("track_shipment", "{carrier}: out for delivery"), topics=("shipping", "order"),
    ),
    Intent(
        "change_address", "orders", "change delivery address",
        ("I need to change the delivery address for {order}", "can I ship order {order} to my office instead?"),
        ("Order {order} hasn't shipped yet, so I can change it. I've updated the address; you'll get a confirmation email.",
         "Good timing: {order} is still in the warehouse. The new address is saved and the label will be printed with it."),
        (("Will it still arrive on time?", "Yes, the delivery estimate is unchanged."),),
        ("update_address", "delivery address updated on {order}"), topics=("order", "address"),
    ),
    Intent(
        "return_label", "orders", "return",
        ("How do I return the {product}?", "I want to send back the {product}, it's not what I expected", "need a return label for order {order}"),
        ("No problem. I've emailed a prepaid return label for order {order}; drop the parcel at any {carrier} point within 30 days.",
         "I've started the return for the {product}. The prepaid label is in your inbox, and the refund of ${amount} is issued as soon as it's scanned."),
        (("When do I get my money back?", "The refund goes out the day the parcel is scanned in and usually shows on your card within 3-5 days."),),
        ("create_return", "prepaid label for {order}"), topics=("returns", "order"),
    ),
    Intent(
        "missing_item", "orders", "missing item",
        ("My order {order} arrived but the cable is missing", "the box for {order} only had one of the two items"),
        ("Sorry about that. I've sent the missing item by express shipping at no cost; it should arrive in 1-2 days.",
         "Apologies, {first}. I've issued a refund of ${amount} for the missing item. It'll show on your card within 3-5 business days."),
        (("Do I need to send anything back?", "No, there's nothing to return."),),
        ("issue_refund", "refund for missing item on {order}"), refund=True, topics=("order", "refund"),
    ),
    Intent(
        "router_reset", "tech support", "connectivity",
        ("My internet keeps dropping every evening", "wifi is really slow since yesterday", "the HomeHub router light is blinking orange"),
        ("Let's fix that. I've run a line check and pushed a firmware update to your HomeHub; please restart it by holding the power button for 10 seconds.",
         "I can see your router lost sync 14 times today. I've reset the line profile remotely; it'll restart in about a minute."),
        (("Ok it restarted, light is white now", "White means it's connected. The line test now shows a stable 250 Mbps."),
         ("Will it happen again?", "The new line profile should stop the drops. I'll monitor the line for 48 hours and message you if anything changes.")),
        ("line_diagnostics", "remote line reset completed"), topics=("connectivity", "router"),
    ),
    Intent(
        "app_crash", "tech support", "app crash",
        ("The app crashes every time I open the orders tab", "app keeps closing on my iphone", "Your app won't load past the splash screen"),
        ("This is a known issue in version 4.2.0 that 4.2.1 fixes. Please update from the app store, then log in again.",
         "Thanks for reporting it. Clearing the app cache fixes this: Settings > Apps > our app > Storage > Clear cache."),
        (("updated, it works now", "Great, glad that's sorted."),
         ("Will I lose my saved items?", "No, saved items are stored on your account, not on the phone.")),
        None, topics=("app",),
    ),
    Intent(
        "pairing", "tech support", "device pairing",
        ("My {product} won't pair with my phone", "how do I connect the {product} to a new laptop?"),
        ("Put the {product} in pairing mode by holding the button for 5 seconds until the light flashes blue, then pick it in your Bluetooth settings.",
         "First remove the old pairing from your phone's Bluetooth list, then hold the button for 5 seconds; it should show up as a new device."),
        (("It's flashing blue but my phone doesn't see it", "Turn Bluetooth off and on again on the phone; it caches old devices. It should appear within a few seconds."),),
        None, topics=("device",),
    ),
    Intent(
        "password_reset", "account", "password reset",
        ("I can't log in, forgot my password", "password reset email never arrives", "locked out of my account"),
        ("I've sent a fresh reset link to the email on file; it's valid for 30 minutes. Please check the spam folder too.",
         "Your account was locked after several attempts, so I've unlocked it and sent a reset link."),
        (("got it, thanks. can I turn on 2FA too?", "Yes: Account > Security > Two-factor. I'd recommend an authenticator app rather than SMS."),),
        ("send_reset_link", "reset link emailed"), topics=("login",),
    ),
    Intent(
        "change_email", "account", "change email",
        ("How do I change the email on my account?", "I have a new email address, can you update it?"),
        ("You can change it under Account > Profile. For security, we'll send a confirmation to both the old and new addresses.",
         "I've started the change; please click the confirmation link we've sent to the new address to finish."),
        (("I don't have access to the old email anymore", "That's fine, the confirmation on the new address is enough once you've signed in."),),
        ("update_email", "email change pending confirmation"), topics=("account",),
    ),
    Intent(
        "update_details", "account", "update details",
        ("I moved, need to update my billing address", "can you update my phone number please"),
        ("Done, your details are updated. Future invoices will show the new information.",
         "I've updated it. You'll get a short confirmation email."),
        (("Does that change my delivery address too?", "Only if you want it to. I've updated the billing address; your saved delivery address is unchanged."),),
        ("update_profile", "profile updated"), topics=("account",),
    ),
)

OPENERS = ("Hi ", "hello, ", "Hey, ", "", "", "Good morning. ", "hi there ")
THANKS = ("Perfect, thanks!", "That's great, thank you so much", "ok thanks", "Brilliant, cheers", "Thanks, that helps a lot.", "great, thank you")
AI_CLOSINGS = (
    "You're welcome, {first}! Is there anything else I can help with?",
    "Happy to help. Anything else today?",
    "Glad that's sorted, {first}. Have a lovely day!",
)
GOODBYES = ("No that's all, bye", "nope, all good", "That's everything, thanks again", "no thanks")
GENERIC_REPLIES = ("Ok.", "Thanks.", "Alright.", "Okay, thank you.", "Sure.")

# ----------------------------------------------------------------- patterns that need a human

HOSTILE_TEXTS = (
    "[URGENT] refund now [/]",
    "\x1b[31mCANCEL MY ACCOUNT\x1b[0m or else",
    "[@click=app.quit]click here[/] for my receipt",
    "refund $amount [bold]NOW[/bold] \x07\x07",
    "\x1b]0;pwned\x07 why is my order late",
)
"""Customer text a console must show literally: markup-looking and escape sequences."""

PATTERNS: dict[str, dict[str, Any]] = {
    # Each variant is (queue, contact_reason, opening); the other keys are
    # shared by the variants of a pattern.
    "low_confidence": {
        "variants": (
            ("tech support", "warranty", "Does the extended warranty cover water damage if I bought the {product} through a reseller?"),
            ("tech support", "compatibility", "Is the {product} compatible with the 2019 model of your dock?"),
            ("billing", "contract terms", "If I cancel mid-contract do I pay the remaining months or a flat fee?"),
            ("orders", "store credit", "Can I use my store credit on a marketplace seller item?"),
        ),
        "ai": (
            "I believe the warranty may cover some types of damage, but it might depend on where you bought it.",
            "It could be compatible, although some older models may not be supported.",
            "There may be a fee, which could depend on your contract terms.",
            "Store credit might be usable in some cases.",
        ),
        "customer_more": ("That's not really an answer. Is it yes or no?", "So... can I or not?", "Can you check properly please?"),
        "ai_more": ("I'm not fully sure. It may depend on a few factors I can't see from here.",
                    "I think so, but I can't confirm it with certainty."),
        "escalate_reason": "low confidence on a policy answer",
        "replies": ("Thanks, finally a clear answer.", "Great. Can you put that in writing by email?", "Perfect, thank you."),
        "human": ("Hi {first}, I'm one of the team leads. I've checked the policy for you: the answer is yes, and I've emailed you the exact wording.",
                  "Done, it's in your inbox now."),
        "sentiment": (-0.1, -0.35),
    },
    "fraud": {
        "variants": (
            ("billing", "unauthorised charge", "There's a charge of ${big} on my card I never made!!"),
            ("billing", "unauthorised charge", "I didn't authorise this payment of ${big}. Someone used my card"),
            ("billing", "fraud", "fraudulent transaction on my account, ${big}, I want it reversed"),
        ),
        "ai": ("I'm sorry to hear that. I can see a payment of ${big} on {date}. For your security I'm bringing in a specialist from our fraud team.",),
        "escalate_reason": "possible unauthorised charge",
        "replies": ("Thank you. How long until I get the money back?", "Do I need to cancel my card?", "OK, that's a relief."),
        "human": ("Hi {first}, I'm from the fraud team. I've blocked the card on your account and opened a dispute for the ${big} charge.",
                  "You'll see a provisional credit within 2 business days. Please also call your bank to cancel the card itself."),
        "sentiment": (-0.5, -0.7),
    },
    "legal": {
        "variants": (
            ("billing", "complaint", "This is the third time I'm writing. If this isn't fixed today I'm contacting my lawyer."),
            ("orders", "complaint", "I'm taking you to small claims court over order {order}."),
            ("orders", "complaint", "I'll be reporting this to the consumer protection authority and my solicitor"),
        ),
        "ai": ("I understand how frustrating this has been. I'm escalating your case to a senior member of the team right now.",),
        "escalate_reason": "legal threat",
        "replies": ("Fine. But I want this resolved today.", "Ok. I'll wait for the email then.", "That's all I wanted in the first place."),
        "human": ("Hello {first}, I'm a senior case manager. I've read the whole history and I'm sorry. I've refunded order {order} in full and waived the fees.",
                  "You'll have written confirmation by email within the hour."),
        "sentiment": (-0.6, -0.8),
    },
    "safety": {
        "variants": (
            ("tech support", "product safety", "My {product} caught fire last night while charging!!"),
            ("tech support", "product safety", "the charger started smoking and melted the plug, is this safe??"),
            ("orders", "product safety", "There's a burning smell coming from the {product} and it's really hot"),
        ),
        "ai": ("Please unplug it and keep it away from anything flammable. Your safety comes first; I'm connecting you with our product safety team now.",),
        "escalate_reason": "safety incident",
        "replies": ("Yes, it's unplugged and outside now.", "No one was hurt thankfully.", "Ok, I'll keep it for the courier."),
        "human": ("Hi {first}, I'm from product safety. First: is everyone OK and is the device unplugged?",
                  "We'll collect it for investigation tomorrow and send a full refund plus a replacement of a different model."),
        "sentiment": (-0.6, -0.7),
    },
    "hacked": {
        "variants": (
            ("account", "account compromised", "Someone logged into my account and changed my email!"),
            ("account", "account compromised", "i got an alert of a login from another country, i think my account is hacked"),
            ("account", "account compromised", "my account was hacked, there are orders I didn't place"),
        ),
        "ai": ("I'm sorry. I've signed out all sessions on your account as a precaution and I'm handing this to our account security team.",),
        "escalate_reason": "account takeover suspected",
        "replies": ("Thanks. Will the orders be cancelled?", "I've changed my password on my email too.", "Ok, I got the reset link."),
        "human": ("Hi {first}, account security here. I've restored your original email, cancelled the two orders, and sent you a reset link.",
                  "Please turn on two-factor authentication once you're back in."),
        "sentiment": (-0.5, -0.6),
    },
    "angry": {
        # (queue, reason, (three customer turns, each angrier), (three AI answers that do not help))
        "variants": (
            ("orders", "late delivery",
             ("My order {order} is late again.", "That's what you said last week. This is ridiculous.", "This is the WORST service I have ever had. Absolutely useless!!"),
             ("I'm sorry for the delay. I can see order {order} is still in transit.", "I understand. Deliveries can take up to 10 business days.", "I apologise for the inconvenience. I've noted your feedback.")),
            ("billing", "refund delay",
             ("Still no refund for {order}.", "I don't want excuses, I want my money.", "I'm done. Cancel everything. Terrible company."),
             ("Refunds can take 5-7 business days to appear.", "I understand. The refund is being processed.", "I'm sorry to hear that. Is there anything else I can help with?")),
            ("tech support", "repeated fault",
             ("The router dropped out again tonight.", "You're not listening to me. Third time this week!", "Unbelievable. I've wasted hours on this garbage."),
             ("Have you tried restarting the router?", "Please try restarting the router and waiting two minutes.", "I understand your frustration. Restarting usually helps.")),
        ),
        "escalate_reason": "customer frustration rising",
        "replies": ("Fine. Finally someone who can actually do something.", "Ok... thank you. Sorry for shouting.", "Alright, that works."),
        "human": ("Hi {first}, I'm a team lead and I've read the whole conversation. You're right to be annoyed, and I'm sorry.",
                  "I've sorted the underlying problem, and added a $25 credit to your account for the trouble."),
        "sentiment": (-0.3, -0.9),
        "hostile": 0.1,
    },
    "loop": {
        # (queue, reason, question, the answer the AI keeps repeating)
        "variants": (
            ("orders", "refund status", "When will my refund for {order} be processed?", "Refunds are processed within 5-7 business days of the return being received."),
            ("orders", "order cancellation", "How do I cancel order {order}?", "You can cancel an order from the Orders page if it hasn't shipped yet."),
            ("billing", "refund status", "Why hasn't my refund for {order} arrived?", "Refunds are processed within 5-7 business days of the return being received."),
            ("account", "account closure", "How do I delete my account?", "You can manage your account settings from the Account page."),
        ),
        "repeat": ("I asked: {q}", "{q}", "Again: {q} It's been 2 weeks!", "you already said that. {q}"),
        "escalate_reason": "conversation is going in circles",
        "replies": ("Thank you, that's the first actual answer I've had.", "OK so it's sorted now?", "Good, thanks."),
        "human": ("Hi {first}, I can see the assistant kept repeating itself; sorry. Your request got stuck in our system and I've pushed it through now.",
                  "You'll get a confirmation email within the hour."),
        "sentiment": (-0.1, -0.5),
    },
    "ask_human": {
        "variants": (
            ("account", "general enquiry", "I have a question about my account"),
            ("orders", "order problem", "hi I need help with order {order}"),
            ("billing", "contract change", "I want to change my contract"),
            ("tech support", "installation", "I need someone to help me set up the {product}"),
        ),
        "ai": ("Happy to help! Could you tell me a bit more about what you need?",),
        "ask": ("Can I talk to a real person please?", "agent", "I want to speak to a human, not a bot", "representative please", "Is there an actual human I can talk to?"),
        "ai_hand": "Of course. I'm asking a colleague to join this conversation; it shouldn't be long.",
        "escalate_reason": "customer asked for a human",
        "replies": ("Hi, thanks. I'd just rather explain it to a person.", "Thanks, that's what I needed.", "Great, bye."),
        "human": ("Hi {first}, I'm here. What can I do for you?", "All done, I've sorted that for you. Anything else?"),
        "sentiment": (0.0, -0.2),
    },
    "ai_escalates": {
        "variants": (
            ("account", "bereavement", "My father passed away and I need to close his account"),
            ("billing", "fee waiver", "I was charged a late fee but I was in hospital, can it be waived?"),
            ("orders", "policy exception", "I need an exception to the return window, I was abroad for work"),
        ),
        "ai": ("I'm very sorry. This needs a colleague who can approve exceptions, so I'm asking one to join.",),
        "escalate_reason": "needs a policy exception",
        "replies": ("Thank you, I appreciate it.", "What documents do you need?", "That's very kind, thank you."),
        "human": ("Hello {first}, I'm so sorry for the situation. I can take care of this for you today.",
                  "It's done. You'll receive a confirmation email shortly."),
        "sentiment": (-0.2, -0.3),
    },
}

SCENARIOS: tuple[str, ...] = (
    "happy", "misfit", "low_confidence", "fraud", "legal", "safety", "hacked", "big_refund",
    "approval", "angry", "loop", "ask_human", "ai_escalates", "odd_text",
)

DEFAULT_MIX: dict[str, float] = {
    "happy": 0.77,
    "misfit": 0.02,
    "low_confidence": 0.03,
    "fraud": 0.015,
    "legal": 0.01,
    "safety": 0.008,
    "hacked": 0.012,
    "big_refund": 0.02,
    "approval": 0.02,
    "angry": 0.03,
    "loop": 0.02,
    "ask_human": 0.025,
    "ai_escalates": 0.015,
    "odd_text": 0.01,
}
"""Share of each scenario; ``happy`` and ``misfit`` are resolved by the AI."""

# ----------------------------------------------------------------- building a plan


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _customer(rng: random.Random, *, misfit: bool = False) -> dict[str, Any]:
    roll = rng.random()
    tier = "platinum" if misfit and roll < 0.6 else ("standard" if roll < 0.8 else "gold" if roll < 0.95 else "platinum")
    ltv = {"standard": (40, 1500), "gold": (1500, 8000), "platinum": (8000, 60000)}[tier]
    complaints = rng.choice((0, 0, 0, 0, 0, 0, 1, 1, 2))
    if misfit and (tier != "platinum" or rng.random() < 0.4):
        complaints = rng.randint(3, 6)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return {
        "id": f"u-{rng.randint(10000, 99999)}",
        "name": f"{first} {last}",
        "tier": tier,
        "lifetime_value": round(rng.uniform(*ltv), 2),
        "open_complaints": complaints,
        "locale": rng.choice(LOCALES),
    }


def _channel(rng: random.Random) -> str:
    roll = rng.random()
    return "chat" if roll < 0.62 else "voice" if roll < 0.9 else "email" if roll < 0.95 else "sms"


class _Builder:
    """Accumulates steps with channel-appropriate delays and message fields."""

    def __init__(self, rng: random.Random, channel: str, slots: dict[str, str]) -> None:
        self.rng = rng
        self.channel = channel
        self.slots = slots
        self.steps: list[Step] = []

    def fill(self, template: str) -> str:
        # str.format would choke on customer-style braces; replace known slots only.
        text = template
        if "{" in text:
            for key, value in self.slots.items():
                text = text.replace("{" + key + "}", value)
        return text

    def customer_gap(self) -> float:
        r = self.rng
        if self.channel == "voice":
            return r.uniform(2.0, 8.0)
        if self.channel == "email":
            return r.uniform(600.0, 2400.0)
        if self.channel == "sms":
            return r.uniform(20.0, 120.0)
        return r.uniform(6.0, 40.0)

    def ai_gap(self) -> float:
        return self.rng.uniform(1.5, 3.5) if self.channel == "voice" else self.rng.uniform(2.0, 7.0)

    def customer(self, template: str, sentiment: float, *, first: bool = False, topics: tuple[str, ...] = (), intent: str | None = None) -> Step:
        delay = self.rng.uniform(1.0, 4.0) if first else self.customer_gap()
        fields: dict[str, Any] = {"role": "customer", "text": self.fill(template), "sentiment": round(max(-1.0, min(1.0, sentiment)), 2)}
        if self.channel == "voice":
            tone = max(-1.0, min(1.0, sentiment + self.rng.uniform(-0.15, 0.15)))
            interruptions = 0 if sentiment > -0.3 else self.rng.randint(0, 2) + (2 if sentiment < -0.6 else 0)
            fields["voice"] = {"tone": round(tone, 2), "interruptions": interruptions}
        if intent:
            fields["intent"] = intent
        if topics:
            fields["topics"] = list(topics)
        step = Step(delay, "message", fields)
        self.steps.append(step)
        return step

    def ai(self, template: str, confidence: float, *, delay: float | None = None) -> Step:
        fields = {"role": "ai", "text": self.fill(template), "confidence": round(max(0.0, min(1.0, confidence)), 2)}
        step = Step(self.ai_gap() if delay is None else delay, "message", fields)
        self.steps.append(step)
        return step

    def event(self, type_: str, delay: float | None = None, **fields: Any) -> Step:
        step = Step(self.rng.uniform(0.5, 2.0) if delay is None else delay, type_, fields)
        self.steps.append(step)
        return step

    def ended(self, outcome: str, resolved_by: str | None = None, csat: int | None = None, delay: float | None = None) -> None:
        fields: dict[str, Any] = {"outcome": outcome}
        if resolved_by:
            fields["resolved_by"] = resolved_by
        if csat is not None:
            fields["csat"] = csat
        self.event("conversation.ended", delay if delay is not None else self.rng.uniform(3.0, 15.0), **fields)

    def scorecard(self, good: bool, notes: str | None = None) -> None:
        r = self.rng
        lo, hi = (0.78, 0.99) if good else (0.25, 0.65)
        criteria = {
            "accuracy": round(r.uniform(lo, hi), 2),
            "empathy": round(r.uniform(lo, hi), 2),
            "policy_compliance": round(r.uniform(max(lo, 0.6), 1.0), 2),
            "resolution": round(r.uniform(lo, hi), 2),
        }
        fields: dict[str, Any] = {"overall": round(sum(criteria.values()) / len(criteria), 2), "criteria": criteria}
        if notes:
            fields["notes"] = notes
        self.event("scorecard", r.uniform(30.0, 120.0), **fields)


def _slots(rng: random.Random, customer: dict[str, Any]) -> dict[str, str]:
    first = customer["name"].split()[0]
    return {
        "first": first,
        "order": f"{rng.randint(1000, 9999)}-{rng.randint(100, 999)}",
        "amount": _money(round(rng.uniform(9.0, 240.0), 2)),
        "big": _money(round(rng.uniform(1050.0, 2600.0), 2)),
        "product": rng.choice(PRODUCTS),
        "carrier": rng.choice(CARRIERS),
        "month": rng.choice(MONTHS),
        "day": rng.choice(DAYS),
        "date": f"Nov {rng.randint(1, 22)}",
        "last4": f"{rng.randint(0, 9999):04d}",
    }


def _ai_closing(b: _Builder) -> list[Step]:
    """Wrap-up after a hand-back, shared by every scenario."""
    r = b.rng
    sub = _Builder(r, b.channel, b.slots)
    sub.ai("Thanks for your patience, {first}. My colleague has taken care of this. Is there anything else I can help with?", r.uniform(0.85, 0.96), delay=r.uniform(2.0, 5.0))
    sub.customer(r.choice(GOODBYES), 0.3)
    sub.ended("resolved", "human", r.choice((3, 4, 4, 5, 5)))
    return sub.steps


def _routine(b: _Builder, intent: Intent, *, sentiment: float = 0.1) -> None:
    """A routine exchange resolved by the AI; the bulk of any floor."""
    r = b.rng
    opening = r.choice(OPENERS) + r.choice(intent.opening) if r.random() < 0.5 else r.choice(intent.opening)
    b.customer(opening, sentiment + r.uniform(-0.2, 0.1), first=True, topics=intent.topics, intent=intent.key)
    if intent.action and r.random() < 0.9:
        name, detail = intent.action
        fields: dict[str, Any] = {"name": name, "status": "ok", "detail": b.fill(detail)}
        if intent.refund:
            fields["amount"] = float(b.slots["amount"].replace(",", ""))
            fields["currency"] = "USD"
        b.event("ai.action", r.uniform(1.0, 3.0), **fields)
    b.ai(r.choice(intent.answer), r.uniform(0.78, 0.97))
    if intent.followups and r.random() < 0.6:
        question, answer = r.choice(intent.followups)
        b.customer(question, sentiment + r.uniform(-0.1, 0.2))
        b.ai(answer, r.uniform(0.74, 0.96))


def _happy(b: _Builder, intent: Intent, *, misfit: bool = False) -> None:
    r = b.rng
    _routine(b, intent)
    roll = r.random()
    if roll < 0.04 and not misfit:  # the customer simply leaves once answered
        b.ended("abandoned", delay=r.uniform(60.0, 240.0))
        return
    if roll < 0.06 and not misfit:  # routed elsewhere by the platform
        b.ai("That needs our specialist team, so I'm transferring you now; they'll have this whole conversation.", r.uniform(0.7, 0.9))
        b.ended("transferred", delay=r.uniform(2.0, 6.0))
        return
    b.customer(r.choice(THANKS), r.uniform(0.4, 0.8))
    b.ai(r.choice(AI_CLOSINGS), r.uniform(0.9, 0.99))
    if r.random() < 0.6:
        b.customer(r.choice(GOODBYES), r.uniform(0.2, 0.6))
    csat = r.choice((4, 5, 5, 5, 4, 3)) if not misfit else r.choice((3, 4, 4, 5))
    b.ended("resolved", "ai", csat)
    if r.random() < 0.5:
        b.scorecard(True, "routine request handled end to end by the AI" if not misfit else "routed to the AI despite the customer profile")


def _escalation_tail(b: _Builder, pattern: dict[str, Any], reason: str, *, ai_requests: bool = True) -> None:
    """The AI asks for a person (or not) and waits; if nobody comes the customer goes."""
    r = b.rng
    if ai_requests:
        b.event("ai.escalation_requested", r.uniform(0.3, 1.5), reason=reason)
    timeout = _wait_timeout(r)
    tail = _Builder(r, b.channel, b.slots)
    tail.customer(r.choice(("Hello? Is anyone coming?", "Still waiting...", "I've been waiting ages. Forget it.")), pattern["sentiment"][1] - 0.1)
    if r.random() < 0.65:
        tail.ended("abandoned", delay=r.uniform(30.0, 120.0))
    else:
        tail.ai("I'm transferring you to the phone team, who can call you back within the hour.", r.uniform(0.6, 0.85))
        tail.ended("transferred", delay=r.uniform(2.0, 6.0))
    if r.random() < 0.5:
        tail.scorecard(False, f"needed a human: {reason}")
    b.steps.append(Step(r.uniform(0.5, 2.0), "wait_human", {"reason": reason}, {"timeout": tail.steps}, timeout))


def _wait_timeout(r: random.Random) -> float:
    """How long a conversation waits for a person before the customer gives up."""
    return r.uniform(90.0, 300.0)


def _pattern(b: _Builder, name: str, variant: tuple[Any, ...]) -> None:
    r = b.rng
    p = PATTERNS[name]
    s0, s1 = p["sentiment"]
    if name == "low_confidence":
        k = p["variants"].index(variant)
        b.customer(variant[2], s0, first=True, intent="policy_question")
        b.ai(p["ai"][k], r.uniform(0.22, 0.48))
        b.customer(r.choice(p["customer_more"]), (s0 + s1) / 2)
        b.ai(r.choice(p["ai_more"]), r.uniform(0.2, 0.45))
        if r.random() < 0.35:  # sometimes the customer settles for it
            b.customer("ok I guess I'll check the website", s1)
            b.ended("unresolved", "ai", r.choice((2, 3)))
            b.scorecard(False, "answered with low confidence")
            return
        _escalation_tail(b, p, p["escalate_reason"], ai_requests=r.random() < 0.5)
    elif name in ("fraud", "legal", "safety", "hacked", "ai_escalates"):
        b.customer(variant[2], s0, first=True, topics=(variant[1],))
        if name == "hacked":
            b.event("ai.action", r.uniform(1.0, 2.0), name="revoke_sessions", status="ok", detail="all sessions signed out")
        b.ai(r.choice(p["ai"]), r.uniform(0.6, 0.85))
        if name != "ai_escalates" and r.random() < 0.6:
            b.customer(r.choice(("Please hurry.", "How long will this take?", "I need this sorted NOW.")), s1)
        _escalation_tail(b, p, p["escalate_reason"], ai_requests=name != "legal" or r.random() < 0.5)
    elif name == "angry":
        lines, answers = variant[2], variant[3]
        for i, (line, answer) in enumerate(zip(lines, answers)):
            if i == len(lines) - 1 and r.random() < p["hostile"]:
                line = r.choice(HOSTILE_TEXTS)
            b.customer(line, s0 + (s1 - s0) * i / (len(lines) - 1), first=i == 0)
            b.ai(answer, r.uniform(0.55, 0.8))
        _escalation_tail(b, p, p["escalate_reason"], ai_requests=r.random() < 0.4)
    elif name == "loop":
        question, answer = variant[2], variant[3]
        b.customer(question, s0, first=True)
        b.ai(answer, r.uniform(0.55, 0.72))
        rounds = r.randint(2, 3)
        for i in range(rounds):
            b.customer(r.choice(p["repeat"]).replace("{q}", b.fill(question)), s0 + (s1 - s0) * (i + 1) / rounds)
            b.ai(answer, r.uniform(0.55, 0.72))
        b.customer("You keep saying the same thing.", s1)
        _escalation_tail(b, p, p["escalate_reason"], ai_requests=r.random() < 0.5)
    elif name == "ask_human":
        b.customer(variant[2], s0, first=True)
        b.ai(r.choice(p["ai"]), r.uniform(0.8, 0.95))
        b.customer(r.choice(p["ask"]), s1, intent="request_human")
        b.ai(p["ai_hand"], r.uniform(0.85, 0.97))
        _escalation_tail(b, p, p["escalate_reason"], ai_requests=r.random() < 0.5)
    else:  # pragma: no cover - build_plan only passes PATTERNS keys
        raise ValueError(name)


def _approval(b: _Builder, *, big: bool) -> None:
    """The AI wants to refund; a human must approve first (strict HITL)."""
    r = b.rng
    amount = b.slots["big"] if big else b.slots["amount"]
    value = float(amount.replace(",", ""))
    openings = (
        "My {product} arrived broken, I want a full refund of $" + amount,
        "I returned the {product} 3 weeks ago and still no refund ($" + amount + ")",
        "Please refund order {order}, it never arrived. That's $" + amount,
    )
    b.customer(r.choice(openings), -0.3, first=True, topics=("refund",))
    b.event("ai.action", r.uniform(1.0, 2.5), name="lookup_order", status="ok", detail=b.fill("order {order} found, delivered {date}"))
    b.ai(f"I'm sorry about that, {{first}}. I've prepared a refund of ${amount}; a colleague needs to approve it, which usually takes a minute or two.", r.uniform(0.75, 0.92))
    action = "refund" if r.random() < 0.85 else "account_credit"
    rationale = r.choice((
        "item damaged on arrival; photos provided",
        "carrier confirmed lost in transit",
        "return received at warehouse, refund not triggered",
        "customer reports product defect within warranty",
    ))
    approved = _Builder(r, b.channel, b.slots)
    approved.event("ai.action", r.uniform(1.0, 3.0), name=action, status="ok", detail=f"{action} issued", amount=value, currency="USD")
    approved.ai(f"Good news: your refund of ${amount} has been approved and issued. It will show on your card within 3-5 business days.", r.uniform(0.88, 0.97))
    approved.customer(r.choice(THANKS), 0.5)
    approved.ended("resolved", "ai", r.choice((4, 5, 5)))
    approved.scorecard(True, "refund approved by a supervisor")
    denied = _Builder(r, b.channel, b.slots)
    denied.ai("I'm sorry, I can't issue that refund right now. I've opened a case so a specialist can review the order and email you within 24 hours.", r.uniform(0.7, 0.9))
    denied.customer(r.choice(("That's disappointing.", "Seriously? Fine.", "ok, I'll wait for the email")), -0.5)
    denied.ended("unresolved", "ai", r.choice((1, 2, 3)))
    expired = _Builder(r, b.channel, b.slots)
    expired.ai("I'm sorry this is taking longer than expected. I've escalated the refund so it isn't lost; you'll get an email once it's processed.", r.uniform(0.6, 0.8))
    expired.customer(r.choice(("So I still don't have my money.", "This is taking forever", "ok")), -0.6)
    expired.ended("unresolved", "ai", r.choice((1, 2, 2, 3)))
    expired.scorecard(False, "approval expired unanswered")
    b.steps.append(
        Step(
            r.uniform(1.0, 3.0),
            "approval.requested",
            {"action": action, "amount": value, "currency": "USD", "rationale": rationale, "expires_in": r.uniform(120.0, 300.0)},
            {"approved": approved.steps, "denied": denied.steps, "expired": expired.steps},
        )
    )


def _odd_text(b: _Builder) -> None:
    """Hostile or odd text from a customer; the console must show it literally."""
    r = b.rng
    b.customer(r.choice(HOSTILE_TEXTS), -0.4, first=True)
    b.ai("I'm sorry for the trouble. Could you share your order number so I can look into it?", r.uniform(0.6, 0.8))
    b.customer(r.choice(("{order} [/] [b]hurry", "it's {order}. [red]now[/red]", "{order}\x1b[2J")), -0.5)
    b.event("ai.action", r.uniform(1.0, 2.0), name="lookup_order", status="ok", detail=b.fill("order {order} found"))
    b.ai("Thanks. I can see order {order}; the refund was issued this morning and should reach your card within 3-5 business days.", r.uniform(0.75, 0.9))
    b.customer(r.choice(THANKS), 0.2)
    b.ended("resolved", "ai", r.choice((3, 4)))


def pick_scenario(rng: random.Random, mix: Mapping[str, float] | None = None) -> str:
    """One scenario name drawn from ``mix`` (default :data:`DEFAULT_MIX`)."""
    weights = mix or DEFAULT_MIX
    names = [n for n, w in weights.items() if w > 0]
    if not names:
        raise ValueError("mix has no scenario with a positive weight")
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        raise ValueError(f"unknown scenarios in mix: {sorted(unknown)}")
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def build_plan(rng: random.Random, conversation_id: str, scenario: str | None = None, *, mix: Mapping[str, float] | None = None) -> ConversationPlan:
    """Decide one conversation: who, where, why, and every scripted turn.

    Deterministic for the state of ``rng``. ``scenario`` forces one (tests and
    sample recordings); otherwise it is drawn from ``mix``.
    """
    name = scenario or pick_scenario(rng, mix)
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}")
    misfit = name == "misfit"
    customer = _customer(rng, misfit=misfit)
    channel = _channel(rng)
    slots = _slots(rng, customer)
    b = _Builder(rng, channel, slots)
    pattern = PATTERNS.get(name)
    needs_human = name not in ("happy", "misfit", "odd_text")
    if name in ("happy", "misfit"):
        intent = rng.choice(INTENTS)
        queue, reason = intent.queue, intent.contact_reason
        _happy(b, intent, misfit=misfit)
        replies: tuple[str, ...] = ("Thanks!", "Ok, and how long will that take?", "Great, that's all I needed.")
        human = ("Hi {first}, I'm reviewing this with the assistant. Everything looks in order.",)
    elif name in ("big_refund", "approval"):
        queue, reason = rng.choice(("billing", "orders")), "refund request"
        _approval(b, big=name == "big_refund")
        replies = ("Thank you. When will I see the money?", "Ok great.", "Can you confirm by email?")
        human = ("Hi {first}, I've reviewed the refund and approved it; you'll see it in 3-5 business days.",)
    elif name == "odd_text":
        queue, reason = "orders", "refund status"
        _odd_text(b)
        replies = ("[/] ok whatever", "fine. thanks", "\x1b[1mthanks\x1b[0m")
        human = ("Hi {first}, I've checked order {order}: the refund has been issued.",)
    else:
        assert pattern is not None
        variant = rng.choice(pattern["variants"])
        queue, reason = variant[0], variant[1]
        _pattern(b, name, variant)
        replies, human = pattern["replies"], pattern["human"]
    started = {
        "channel": channel,
        "queue": queue,
        "customer": customer,
        "contact_reason": reason,
        "handled_by": "ai",
    }
    return ConversationPlan(
        conversation_id=conversation_id,
        scenario=name,
        started=started,
        steps=b.steps,
        slots=slots,
        customer_replies=tuple(b.fill(t) for t in replies),
        human_lines=tuple(b.fill(t) for t in human),
        wrap_up=_ai_closing(b),
        needs_human=needs_human,
    )


# ----------------------------------------------------------------- offline timeline


def customer_message_fields(plan: ConversationPlan, text: str, sentiment: float, rng: random.Random) -> dict[str, Any]:
    """Fields of a customer turn outside the script (a reply to a human)."""
    fields: dict[str, Any] = {"role": "customer", "text": text, "sentiment": round(max(-1.0, min(1.0, sentiment)), 2)}
    if plan.started["channel"] == "voice":
        fields["voice"] = {"tone": round(max(-1.0, min(1.0, sentiment + rng.uniform(-0.1, 0.1))), 2), "interruptions": 0}
    return fields


def _flatten(plan: ConversationPlan, rng: random.Random) -> list[tuple[float, str, dict[str, Any]]]:
    """Play a plan offline: (seconds from start, type, fields), with simulated supervisors.

    Pauses are resolved the way a staffed floor resolves them: most requests
    for a person get one (who talks to the customer, then ends or hands
    back); approvals are approved, denied, or left to expire.
    """
    out: list[tuple[float, str, dict[str, Any]]] = [(0.0, "conversation.started", dict(plan.started))]
    t = 0.0
    steps = list(plan.steps)
    i = 0
    approvals = 0
    while i < len(steps):
        step = steps[i]
        i += 1
        t += step.delay
        if step.type == "wait_human":
            if rng.random() < 0.6:  # a supervisor picks it up
                agent = rng.choice(SUPERVISORS)
                t += rng.uniform(15.0, min(step.timeout, 120.0))
                out.append((t, "human.joined", {"agent": agent}))
                replies = list(plan.customer_replies)
                sentiment = -0.3
                for k, line in enumerate(plan.human_lines):
                    t += rng.uniform(8.0, 30.0)
                    out.append((t, "message", {"role": "human", "text": line, "author": agent}))
                    if k < len(replies):
                        sentiment = min(0.7, sentiment + 0.35)
                        t += rng.uniform(5.0, 25.0)
                        out.append((t, "message", customer_message_fields(plan, replies[k], sentiment, rng)))
                if rng.random() < 0.55:
                    t += rng.uniform(5.0, 20.0)
                    fields: dict[str, Any] = {"outcome": "resolved", "resolved_by": "human", "csat": rng.choice((3, 4, 4, 5, 5))}
                    out.append((t, "conversation.ended", fields))
                    if rng.random() < 0.5:
                        t += rng.uniform(30.0, 120.0)
                        crit = {k: round(rng.uniform(0.6, 0.95), 2) for k in ("accuracy", "empathy", "policy_compliance", "resolution")}
                        out.append((t, "scorecard", {"overall": round(sum(crit.values()) / 4, 2), "criteria": crit, "notes": "resolved after human takeover"}))
                    break
                t += rng.uniform(3.0, 10.0)
                out.append((t, "human.left", {"agent": agent, "back_to_ai": True}))
                steps[i:] = plan.wrap_up
                continue
            t += step.timeout
            steps[i:] = (step.branches or {}).get("timeout", [])
            continue
        if step.type == "approval.requested":
            approvals += 1
            fields = dict(step.fields)
            expires_in = fields.pop("expires_in", 180.0)
            approval_id = f"ap-{plan.conversation_id}-{approvals}"
            out.append((t, "approval.requested", {"approval_id": approval_id, **fields, "_expires_in": expires_in}))
            roll = rng.random()
            if roll < 0.5:
                decision, wait = "approved", rng.uniform(20.0, expires_in * 0.8)
            elif roll < 0.65:
                decision, wait = "denied", rng.uniform(20.0, expires_in * 0.8)
            else:
                decision, wait = "expired", expires_in
            t += wait
            resolved: dict[str, Any] = {"approval_id": approval_id, "decision": decision}
            if decision != "expired":
                resolved["by"] = rng.choice(SUPERVISORS)
                if decision == "denied":
                    resolved["note"] = rng.choice(("needs photos first", "order flagged for review", "over the monthly limit for this account"))
            out.append((t, "approval.resolved", resolved))
            steps[i:] = (step.branches or {}).get(decision, [])
            continue
        out.append((t, step.type, step.fields))
    return out


def generate_events(
    seed: int,
    conversations: int,
    start_ts: float = START_TS,
    concurrency: int = 50,
    *,
    feed_sentiment: bool = False,
    mix: Mapping[str, float] | None = None,
    id_prefix: str = "c-",
) -> list[dict[str, Any]]:
    """A recorded feed: ``conversations`` conversations as wire-form event dicts.

    Conversations start as a Poisson process whose rate keeps about
    ``concurrency`` of them open at once, and their events are interleaved in
    time order, as a live platform would have sent them. ``seq`` starts at 1
    and increases by one; ``ts`` never decreases. The same arguments always
    give the same events, so tests and benchmarks can share recordings.

    Customer turns carry no ``sentiment`` unless ``feed_sentiment`` (the
    console is expected to estimate it). ``mix`` overrides the scenario
    weights (:data:`DEFAULT_MIX`), e.g. ``{"fraud": 1, "angry": 1}``.
    Conversation ids are ``id_prefix`` + ``10000 + n``; give two feeds that
    are merged different prefixes. Conversation *n* of a seed follows the same
    plan as conversation *n* of a live :class:`~hitl_console.sim.platform.SimPlatform`
    with that seed (the timing and the supervisors' actions differ).
    """
    if conversations < 0:
        raise ValueError("conversations must be >= 0")
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    timelines: list[tuple[str, list[tuple[float, str, dict[str, Any]]]]] = []
    total = 0.0
    for n in range(conversations):
        rng = random.Random(seed * 1_000_003 + n)
        cid = f"{id_prefix}{10000 + n}"
        plan = build_plan(rng, cid, mix=mix)
        line = _flatten(plan, rng)
        timelines.append((cid, line))
        total += line[-1][0]
    mean = total / conversations if conversations else 1.0
    rate = concurrency / max(mean, 1.0)
    arrivals = random.Random(seed)
    heap: list[tuple[float, int, int, str, dict[str, Any]]] = []
    t = start_ts
    for n, (cid, line) in enumerate(timelines):
        if n:
            t += arrivals.expovariate(rate)
        for k, (offset, type_, fields) in enumerate(line):
            heap.append((round(t + offset, 3), n, k, type_, fields))
    heap.sort(key=lambda e: (e[0], e[1], e[2]))
    out: list[dict[str, Any]] = []
    append = out.append
    for seq, (ts, n, _k, type_, fields) in enumerate(heap, start=1):
        event: dict[str, Any] = {"v": 1, "type": type_, "seq": seq, "ts": ts, "conversation_id": timelines[n][0]}
        if type_ == "message" and not feed_sentiment and "sentiment" in fields:
            fields = {k: v for k, v in fields.items() if k != "sentiment"}
        elif type_ == "approval.requested":
            fields = dict(fields)
            fields["expires_ts"] = round(ts + fields.pop("_expires_in"), 3)
        for key, value in fields.items():
            # Nested values are shared with the plan: give every event its own.
            event[key] = dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
        append(event)
    return out
