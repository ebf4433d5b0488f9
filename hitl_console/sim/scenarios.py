"""What the simulated platform's conversations are about: people, routine
intents, and the patterns that need a human (data, not code paths).

Adding a scenario is adding text here; :mod:`hitl_console.sim.plans` turns
it into a conversation. The mix is deliberately uneven, as on a real floor:
about three quarters of conversations are routine and resolved by the AI;
the rest are the patterns a supervisor exists for (low confidence, fraud,
legal threats, safety, hacked accounts, large refunds awaiting approval,
anger, loops, requests for a person, routing misfits), plus a little hostile
text that the console must render literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

