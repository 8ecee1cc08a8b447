# Reader-facing text, English. Every key here must exist in uk/main.ftl too
# (a unit test checks). Staff pages are English-only for now.

## Layout
nav-home = Home
nav-join = Become a patron
nav-sign-in = Sign in
nav-account = My account
nav-sign-out = Sign out
language-label = Language
language-switch = Change
skip-to-content = Skip to content
footer-powered = Membership by Patronage. No trackers, no ads.

## Landing
landing-title = Support independent journalism
landing-lead = For as little as the cost of one cup of coffee a month you can help — become a patron, become a co-creator and vote for the topics we should cover next.
landing-why-title = Why become a patron?
landing-why-1 = Our reporting is free to read for everyone. Patrons keep it that way.
landing-why-2 = Patrons suggest topics and vote on what we cover next.
landing-why-3 = When a story you voted for is published, we tell you.
landing-tiers-title = Ways to support
landing-join-title = Join for free
landing-join-lead = Start with a free membership: no password, just your email.

## Join form
join-title = Join { $newsroom }
join-email-label = Email address
join-email-hint = We send you a link to sign in. No password needed.
join-name-label = Name (optional)
join-name-hint = How we greet you. You may use a pseudonym.
join-submit = Join
join-privacy = We keep only what membership needs and never share it.

## Sign-in
sign-in-title = Sign in
sign-in-lead = Enter the email address of your membership and we will send you a sign-in link.
sign-in-email-label = Email address
sign-in-submit = Email me a sign-in link
sign-in-not-member = Not a member yet?
link-sent-title = Check your inbox
link-sent-body = If this address belongs to a membership, a sign-in link is on its way. It works once, for { $minutes } minutes.
link-sent-again = No email after a few minutes? Check your spam folder, or ask for a new link.
confirm-title = Confirm sign-in
confirm-body = Press the button to sign in on this device.
confirm-submit = Sign in
code-title = Or enter the code from the email
code-lead = Opened the email on another device? Type the 6-digit code it shows here, with your email address.
code-email-label = Email address
code-label = Sign-in code
code-hint = Six digits, like 123 456. It works once, for { $minutes } minutes.
code-submit = Sign in with the code
error-code-malformed = Enter the 6-digit code from the email.
error-code-wrong = That code is not right. { $tries ->
    [one] One more try, then the code stops working.
   *[other] { $tries } more tries, then the code stops working.
}
error-code-dead = This code no longer works: it was entered wrongly 5 times. Use the link in the email, or ask for a new one.
error-code-none = There is no code waiting for this address, or it expired. Ask for a new one.

## Account
account-title = My account
account-email = Email
account-joined = Member since
account-status = Membership
account-status-free = Free member
account-profile-title = Your details
account-name-label = Name
account-name-hint = Shown only to the newsroom. You may use a pseudonym.
account-public-name-label = Public name (optional)
account-public-name-hint = How other readers see you, for example next to topics you suggest. Leave it empty to appear as “a reader”.
account-language-label = Language for pages and email
account-save = Save
account-sessions-title = Signed-in devices
account-sign-out-everywhere = Sign out everywhere
account-sign-out-everywhere-hint = Ends every session, on all devices, including this one.
account-data-title = Your data
account-export = Download my data (JSON)
account-delete-title = Delete my account
account-delete-body = This erases your email, name and sessions. Records of payments stay, without your name, because the law requires us to keep accounts.
account-delete-confirm = I understand, delete my account
account-delete-submit = Delete my account
goodbye-title = Your account is deleted
goodbye-body = We erased your personal data. Thank you for having been with us — you are welcome back at any time.

## Emails
email-sign-in-subject = Your sign-in link for { $newsroom }
email-sign-in-greeting = Hello { $name },
email-sign-in-greeting-anonymous = Hello,
email-sign-in-welcome = Welcome to { $newsroom }! Thank you for joining.
email-sign-in-body = Use this link to sign in. It works once, for { $minutes } minutes:
email-sign-in-button = Sign in
email-sign-in-ignore = If you did not ask for this, ignore this email: nothing changes.
email-sign-in-code = Reading this on another device? Enter this code on the sign-in page instead (it works once, for { $minutes } minutes):
email-sign-in-code-where = Enter it at
email-footer = { $newsroom } · sent by Patronage

## Errors
error-title = Something went wrong
error-back-home = Back to the home page
error-not-found = We could not find that page.
error-forbidden = You do not have access to this page.
error-sign-in-required = Please sign in first.
error-bad-request = We could not understand that request. Please try again from the form.
error-too-large = That was more data than we accept.
error-rate-limited = Too many attempts. Please wait a few minutes and try again.
error-invalid-link = This link has expired or was already used. Ask for a new one.
error-internal = Something broke on our side. Please try again in a moment.
error-cross-site = This form was sent from another site, so we ignored it for your safety.
error-method = That action is not available here.
error-unavailable = We are busy right now. Please try again in a moment.
error-storage-unavailable = We cannot save anything right now: the site’s storage is full or read-only. Nothing was changed. Please try again in a few minutes.
error-database-unreachable = We cannot reach our records right now: the database is restarting or down. Please try again in a minute.
error-email-empty = Enter your email address.
error-email-too-long = That email address is too long.
error-email-invalid = Enter an email address like name@example.org.
error-name-too-long = Names can be at most 100 characters long.
error-name-control = Names cannot contain control characters.
error-language = Choose a language from the list.
error-confirm-delete = Tick the box to confirm that you want to delete your account.
error-bad-credentials = Wrong email or password.
error-staff-email-taken = A staff account with this email exists already.
error-last-admin = The last active administrator cannot be demoted or disabled.

## The public JSON API (/api)
api-error-unknown-parameter = Unknown parameter “{ $parameter }”: this endpoint takes only lang (en or uk). See /api/openapi.json.
api-error-repeated-parameter = The parameter “{ $parameter }” is given more than once; give it once.
api-error-bad-lang = Unsupported language “{ $parameter }”: use lang=en or lang=uk.
api-error-not-found = There is no such API endpoint. The endpoints are listed in /api/openapi.json.

## Patrons and donations
per-month = a month
per-year = a year
patron-title = Become a patron
patron-submit = Continue to payment
patron-flexible = (or pay more)
patron-amount-label = Pay what you want (optional)
patron-amount-hint = For prices marked “or pay more”: enter a monthly amount at least as large as the price.
demo-note = Demo mode: payments are simulated and no money moves.
demo-banner = Demo mode — payments are simulated. No card is charged.
donate-link = Or give once
donate-title = Give once
donate-lead = A one-time gift keeps our reporting free for everyone. No account needed.
donate-currency = Currency
donate-amount = Amount
donate-custom = Or another amount
donate-custom-hint = Between { $min } and { $max }.
donate-name = Your name (optional)
donate-anonymous = Give anonymously
donate-cover-fee = Add the card processing fee, so the newsroom receives the full amount
donate-submit = Continue to payment
donate-cover-fee-amount = Add { $extra } so all of my { $amount } gift reaches the newsroom
donation-what = A one-time gift of { $amount } to { $newsroom }
donation-what-covered = A one-time gift of { $amount } to { $newsroom }, plus { $extra } so all of it reaches the newsroom
demo-checkout-title = Checkout
demo-checkout-what = For
demo-checkout-amount = Amount
demo-succeed = Pay (simulate success)
demo-fail = Simulate a declined card
demo-cancel = Cancel and go back
welcome-title = Welcome, patron!
welcome-body = Thank you. Your support keeps independent reporting going, and your vote now shapes what we cover next.
welcome-sign-in = Sign in with your email address to see your membership.
failed-title = The payment did not go through
failed-body = Nothing was charged and your membership did not change. You can try again with another card.
failed-again = Try again
donation-thanks-title = Thank you for your gift
donation-thanks-body = Every contribution keeps our reporting free to read for everyone.
portal-title = Manage billing
portal-resume = Resume my membership
portal-cancel-at-end = Cancel at the end of the period
portal-cancel-now = Cancel now
portal-nothing = You have no active membership to manage.
account-renews = Renews on
account-ends = Ends on
account-tier = Tier
account-status-patron = Patron
account-status-past_due = Patron — payment overdue
account-status-lapsed = Lapsed patron
account-status-comped = Complimentary patron
account-manage-billing = Manage billing
account-become-patron = Become a patron
account-payments-title = Payment history
account-payments-none = No payments yet.
payment-kind-subscription = Membership
payment-kind-donation = Donation
payment-kind-refund = Refund
payment-kind-dispute = Disputed payment
payment-kind-dispute_won = Dispute won
error-choose-tier = Choose a tier and how often to pay.
error-below-minimum = The amount must be at least the tier's price.
error-currency = Choose a currency from the list.
error-amount = Enter an amount like 5 or 5.50.
error-amount-precision = That amount has too many decimal places for this currency.
error-amount-positive = The amount must be more than zero.
error-amount-too-large = That amount is too large.
error-donation-range = Gifts can be between 1 and 10,000.
error-payment-provider = Our payment provider did not answer. Nothing was charged; please try again in a moment.

## Topics and voting
nav-topics = Vote on topics
topics-title = What should we cover next?
topics-lead = Readers suggest topics, patrons vote, and when the story is published everyone who voted for it is told.
topics-back = Back to topics
topics-no-round = No voting round is open right now. Suggest a topic, and it may be on the next ballot.
topics-sign-in-to-vote = Sign in to vote
topics-become-patron = Become a patron
topics-suggest-title = Suggest a topic
topics-suggest-lead = Is there something we should look into?
topics-suggest-link = Suggest a topic
topics-planned-title = Coming up
topics-waiting-title = Waiting for a round
ballot-label = Topics on the ballot
ballot-vote = Vote
ballot-withdraw = Withdraw my vote
ballot-you-voted = You voted for this
ballot-tally = { $weight ->
    [one] 1 point
   *[other] { $weight } points
  } · { $votes ->
    [one] 1 vote
   *[other] { $votes } votes
  }
round-closes = Voting closes { $date }.
round-opens = Voting opens { $date }.
round-counting = Voting has ended; the results are being counted.
round-closed-on = Voting closed { $date }.
round-remaining = { $remaining ->
    [0] You have used all { $max } of your votes. Withdraw one to vote for something else.
    [one] You have 1 vote left of { $max }.
   *[other] You have { $remaining } votes left of { $max }.
  }
round-turnout = { $voters ->
    [one] 1 member voted.
   *[other] { $voters } members voted.
  }
round-tallies-hidden = Results are published when voting closes.
round-state-open = Open
round-state-upcoming = Upcoming
round-state-counting = Counting
round-state-closed = Closed
rounds-title = Voting rounds and results
rounds-col-round = Round
rounds-col-dates = Dates
rounds-col-state = State
rounds-col-voters = Voters
rounds-none = No rounds yet.
suggest-title = Suggest a topic
suggest-lead = Tell us what you would like us to report on. An editor reads every suggestion; you will get an email when yours is on the ballot or if we decide not to take it up.
suggest-title-label = Topic (up to 120 characters)
suggest-description-label = Why does it matter? (optional)
suggest-link-label = A link for background (optional)
suggest-link-hint = A web address starting with https://
suggest-submit = Send suggestion
topic-suggested-thanks = Thank you! Your suggestion is waiting for an editor. Only you can see it until then.
topic-suggested-by = Suggested by { $name }
topic-suggested-by-reader = Suggested by a reader
topic-expected = expected { $date }
topic-articles = The story
topic-on-ballot = On the ballot now: vote for it
topic-follow = Follow this topic
topic-unfollow = Stop following
topic-follow-hint = Followers get one email when the story is published.
topic-history = History
topic-status-suggested = Suggested
topic-status-open = Open for votes
topic-status-planned = Planned
topic-status-covered = Covered
topic-status-declined = Declined
topic-status-merged = Merged
covered-title = You asked, we covered
covered-lead = Stories our readers chose, and the journalism that came of it.
covered-on = Published { $date }
covered-none = Nothing yet: the first stories are on their way.
commissioned-title = Stories I helped commission
commissioned-lead = Topics you voted for, and what became of them.
commissioned-voted-on = you voted { $date }
commissioned-none = You have not voted yet.
vote-refused-closed = This round is not open for votes.
vote-refused-not-on-ballot = That topic is not (or no longer) open for votes in this round.
vote-refused-patrons-only = Only patrons can vote.
vote-refused-lapsed = Your patronage has ended, so you cannot cast new votes. The votes you cast still count.
vote-refused-payment-pending = Your vote counts once your first payment has cleared. Please try again later.
vote-refused-already = You have already voted for this topic.
vote-refused-no-votes-left = You have used all your votes in this round. Withdraw one to vote for something else.
vote-refused-not-voted = You have not voted for this topic.
error-text-empty = This cannot be empty.
error-text-too-long = This is too long.
error-text-control = Remove the control or invisible characters.
error-web-address = Use a web address starting with http:// or https://.
error-topic-state = That topic has changed in the meantime; reload the page.
error-round-window = A round must close after it opens.
error-round-in-past = The closing time is in the past.
error-round-max-votes = Votes per member must be between 1 and 50.
error-round-no-topics = Choose at least one topic for the ballot.
error-round-topic-not-open = Only open topics can go on a ballot.
error-round-topic-busy = A topic is already on another round's ballot.
email-topic-open-subject = Your suggestion is on the ballot at { $newsroom }
email-topic-open-body = Good news: your suggestion “{ $title }” is now open for votes.
email-topic-open-link = See the topic
email-topic-approved-subject = Your suggestion to { $newsroom } was approved
email-topic-approved-body = Good news: we approved your suggestion “{ $title }”. It will be on an upcoming ballot, and we will open it for votes then.
email-topic-approved-link = See the topic
email-topic-declined-subject = About your suggestion to { $newsroom }
email-topic-declined-body = Thank you for suggesting “{ $title }”. We have decided not to take it up; the editor's reason:
email-topic-declined-link = See the topic
email-topic-merged-subject = Your suggestion to { $newsroom } joined a similar one
email-topic-merged-body = Your suggestion “{ $title }” was very close to one we already had, so we joined them.
email-topic-merged-into = It now lives on as “{ $title }”. Votes and followers moved with it.
email-topic-merged-link = See the topic
email-topic-covered-subject = The story you voted for is out
email-topic-covered-body = You voted for “{ $title }”, and the story is out:
email-topic-covered-link = Read about it

## Dunning: a renewal that did not go through
email-payment-failed-subject = Your payment to { $newsroom } did not go through
email-payment-failed-body = We tried to take your { $amount } patron payment, but your bank declined it (attempt { $attempt }). Your patronage continues for now.
email-payment-failed-next = We will try the card again on { $date }. To use another card, pay now:
email-payment-failed-last = We will not try this card again. To stay a patron, pay with another card:
email-payment-failed-pay = Pay with another card
email-payment-failed-update = To change the card for later payments, open your account and choose “Manage billing”:
email-payment-failed-account = Your account
email-payment-action-required-subject = Please confirm your payment to { $newsroom }
email-payment-action-required-body = Your bank asks you to confirm your { $amount } patron payment before it goes through.
email-payment-action-required-confirm = Confirm the payment

## The account page: the co-creator's home
account-membership-title = Your membership
account-period-renews = Renews on { $date }.
account-period-ends = You cancelled: your patronage ends on { $date }. Until then you keep every benefit, and you can resume it here.
account-period-ended = Your patronage ended on { $date }. Thank you for your support. The votes you cast still count.
account-period-comped = Complimentary membership until { $date }.
account-past-due-help = Your last payment did not go through. Update your card under “Manage billing” to stay a patron.
account-become-patron-again = Become a patron again
account-votes-title = Your votes
account-votes-left = { $remaining ->
    [0] No votes left
    [one] One vote left
   *[other] { $remaining } votes left
  }
account-votes-none = You have not voted in this round yet.
account-go-vote = Go to the ballot
account-no-open-round = No round is open for votes right now.
account-commissioned-all = All the stories I helped commission
account-followed-title = Topics you follow
account-payment-date = Date
account-payment-what = What
account-payment-amount = Amount
account-payments-newest = Newest payments
account-payments-older = Older payments
account-give-once = Give once
portal-confirm-now-title = Cancel your membership now?
portal-confirm-now-body = Your patronage ends today and you will not be charged again. The votes you cast still count; you cannot cast new ones.
portal-confirm-end-title = Cancel at the end of this period?
portal-confirm-end-body = You will not be charged again. You stay a patron, with every benefit, until { $date }.
portal-keep = Keep my membership
patron-currency-label = Currency
patron-amount-tier-hint = From { $min } a month, as much as you like.
patron-no-tiers = The newsroom has no memberships on offer in this currency yet.
error-amount-fixed-price = This price is fixed. To give more, choose a price marked “or pay more” and enter your amount next to it.
benefit-vote = A vote on what we cover next
benefit-weight = Your vote counts { $weight ->
    [2] twice
    [3] three times
   *[other] { $weight } times
  }
benefit-tenure = Your vote grows with every month you support us (up to { $cap } times)
landing-vote-title = Vote on what we cover next
landing-vote-link = See the ballot and vote
landing-covered-title = You asked, we covered
landing-covered-read = Read the story
landing-covered-all = Every story readers asked for
email-patron-welcome-subject = Welcome, patron of { $newsroom }
email-patron-welcome-body = Thank you for becoming a patron of { $newsroom }. Your support keeps independent reporting going.
email-patron-welcome-body-tier = Thank you for becoming a patron of { $newsroom } ({ $tier }). Your support keeps independent reporting going.
email-patron-welcome-vote = As a patron you help decide what we cover next: suggest topics and vote on the ballot.
email-patron-welcome-vote-link = See what is on the ballot
email-patron-welcome-account = Your membership, receipts and details are in your account:
email-receipt-subject = Your receipt from { $newsroom }
email-receipt-intro = Thank you. This is your receipt for a payment to { $newsroom }.
email-receipt-amount = Amount
email-receipt-date = Date
email-receipt-for = For
email-receipt-paid-to = Paid to
email-receipt-reference = Reference
email-receipt-membership = Membership
email-receipt-membership-month = Membership ({ $tier }), one month
email-receipt-membership-year = Membership ({ $tier }), one year
email-receipt-donation = A one-time gift
email-receipt-account = All your payments are in your account:
email-membership-ended-subject = Your membership of { $newsroom } has ended
email-membership-ended-body = Your patron membership of { $newsroom } has ended. Thank you for the time you supported our reporting: it made a difference.
email-membership-ended-body-tier = Your patron membership of { $newsroom } ({ $tier }) has ended. Thank you for the time you supported our reporting: it made a difference.
email-membership-ended-free = Your account stays open as a free member, and you are welcome back any time.
email-membership-ended-back = Become a patron again
error-presets = Give one to six whole amounts, separated by commas, each between 1 and 10000.
landing-patron-count = { $count ->
    [one] One reader is a patron already.
   *[other] { $count } readers are patrons already.
  }
embed-pitch = For as little as { $amount } a month — the cost of a cup of coffee — become a patron, become a co-creator, and vote for the topics we should cover next.
embed-vote = Vote on Patronage
embed-result = The result of the last vote:
embed-weight = { $weight ->
    [one] one vote
   *[other] { $weight } votes
  }

# Pause instead of cancel, the cancel survey, resume
account-status-paused = Patron — paused
account-period-paused = Your payments are paused: they resume on { $date }. Until then you cannot cast new votes; the votes you cast still count.
account-period-paused-open = Your payments are paused until you resume them. Until then you cannot cast new votes; the votes you cast still count.
account-resume = Resume my membership
account-resume-paused = Resume payments now
account-cancel = Cancel my membership
cancel-title = Before you go
cancel-intro = You can take a break or pay less instead. If you cancel, your patronage ends on { $date } and until then you keep every benefit.
cancel-pause-title = Take a break
cancel-pause-body = Skip your payments for a while and stay a patron. While your payments are paused you cannot cast new votes; the votes you cast still count. Payments start again on their own.
cancel-pause-1 = Pause for 1 month
cancel-pause-2 = Pause for 2 months
cancel-pause-3 = Pause for 3 months
cancel-cheaper-title = Pay less
cancel-cheaper-body = These tiers cost less than yours. The new price applies from your next payment; what you have paid for this period stays as it is.
cancel-cheaper-switch = Switch to { $tier } · { $price }
cancel-survey-title = Cancel my membership
cancel-reason-legend = Why are you leaving? (optional)
cancel-reason-none = I would rather not say
cancel-reason-too-expensive = It costs more than I can afford right now
cancel-reason-not-reading = I do not read enough to make it worthwhile
cancel-reason-coverage = I am unhappy with the coverage
cancel-reason-temporary = I only meant to support for a while
cancel-reason-payment-trouble = Trouble with paying
cancel-reason-other = Something else
cancel-comment-label = Anything you would like to tell the newsroom? (optional)
cancel-comment-hint = Up to 500 characters. Only the newsroom staff who look after its finances read it.
cancel-submit = Cancel at the end of the period
cancel-keep = Keep my membership
error-pause-length = A pause lasts one, two or three months.
error-cancel-reason = Choose one of the reasons in the list.
error-cancel-comment-too-long = Please keep it to 500 characters.
error-cancel-comment-control = The text cannot contain control or invisible characters.
error-membership-ended = This membership has already ended, so it cannot be changed. You can become a patron again.
error-cannot-pause = Only an active membership that is not ending can be paused.
error-nothing-to-resume = Your membership is not paused or ending: there is nothing to resume.
error-cannot-switch = Only an active membership that is not paused or ending can change tier.
error-switch-not-on-offer = That price is not on offer for your membership: choose one of the tiers listed.
vote-refused-paused = Your patronage is paused, so you cannot cast new votes until your payments resume. The votes you cast still count.
correction-title = Suggest a correction or clarification
correction-lead = Found a mistake, or something unclear? Tell the editors; no account needed.
correction-article = About the article:
correction-url-label = The article's address
correction-url-hint = Copy it from your browser's address bar while you read the article.
correction-quote-label = The text you mean (optional)
correction-quote-hint = As it appears in the article, up to 1,000 characters.
correction-note-label = What is wrong or unclear?
correction-email-label = Your email (optional)
correction-email-hint = Only for our answer: one email once the editors have decided. We add it to no list.
correction-honeypot-label = Leave this field empty
correction-submit = Send to the editors
correction-cancel = Cancel
correction-close = Close
correction-thanks-title = Thank you
correction-thanks-body = The editors will read your note.
correction-thanks-reply = We will write to you once they have decided.
correction-thanks-back = Back to the article
correction-error-url-missing = Give the address of the article you mean.
correction-error-url-invalid = That is not a web address: it should start with https://.
correction-error-url-foreign = We take corrections only to articles on our own website.
correction-error-quote-too-long = The quoted text can be at most 1,000 characters long: keep the words you mean.
correction-error-note-empty = Say what is wrong or unclear.
correction-error-note-too-long = The note can be at most 2,000 characters long.
correction-error-note-control = The note contains control or invisible characters: remove them and send again.
correction-error-staff-text-too-long = This text can be at most 2,000 characters long.
correction-error-staff-text-control = This text contains control or invisible characters.
correction-error-honeypot = This looked automated, so it was not sent. If you filled in the field “Leave this field empty”, clear it and send again.
correction-error-rate-limited = { $minutes ->
    [one] Too many suggestions from your connection or for this article just now. Try again in a minute.
   *[other] Too many suggestions from your connection or for this article just now. Try again in { $minutes } minutes.
  }
correction-error-changed = Someone changed this suggestion's status meanwhile (perhaps you, in another tab). Open it again to see it as it is now.
email-correction-resolved-subject = About the correction you suggested to { $newsroom }
email-correction-resolved-accepted = Thank you: the editors agree with what you pointed out.
email-correction-resolved-fixed = Thank you: we have corrected the article.
email-correction-resolved-rejected = Thank you for writing. The editors looked into it and decided to leave the article as it is.
email-correction-resolved-reply = The editors' answer:
email-correction-resolved-yours = You wrote:
email-correction-resolved-quote = About the words:
email-correction-resolved-article = The article

## Transparency page and funding goals
transparency-link = Where the money goes: our transparency page
transparency-title = Transparency
transparency-lead = What your support comes to, month by month: how many patrons we have, what readers gave, and the stories you voted for. Nothing here names anyone who did not choose to be listed.
transparency-goals-title = Funding goals
transparency-months-title = Month by month
transparency-patrons = Patrons
transparency-joined = Joined
transparency-left = Left
transparency-income = From readers
transparency-stories = Stories covered because patrons voted for them
transparency-note = What your support paid for
transparency-supporters-title = Supporters
transparency-supporters-none = No supporter has chosen to be listed yet.
transparency-supporters-how = Supporters appear here only if they choose to, under the name they pick.
transparency-supporters-link = List me as a supporter
month-name-1 = January
month-name-2 = February
month-name-3 = March
month-name-4 = April
month-name-5 = May
month-name-6 = June
month-name-7 = July
month-name-8 = August
month-name-9 = September
month-name-10 = October
month-name-11 = November
month-name-12 = December
goal-title = Funding goal
goal-raised = { $raised } raised of { $goal }
goal-percent = { $percent }%
goal-reached = Goal reached, thank you!
goal-progress-label = Funding goal progress: { $title }
goal-give = Give toward this story
donate-toward = Your gift goes toward: { $title }
error-goal-number = Enter the goal as a whole amount, like 2000.
error-goal-positive = The goal must be more than zero.
error-goal-too-large = That goal is too large.
error-goal-currency = Gifts cannot be made in that currency.
error-goal-topic = There is no such topic.
error-goal-not-fundable = This topic cannot take gifts.
error-goal-currency-locked = Gifts were already made toward this goal: its currency stays.
error-gift-no-goal = This topic is not taking gifts: it has no open funding goal.
error-gift-currency = Gifts toward this topic are made in its goal's currency.
error-note-too-long = The note can be at most 2000 characters long.
supporter-title = List me as a supporter
supporter-lead = Your name appears on our transparency page among the supporters, only if you choose it, under the name you pick (a pseudonym is fine). Nothing else about you is shown.
supporter-name = Name to be listed under
supporter-save = Save
supporter-remove = Do not list me
supporter-listed = You are listed as { $name }.
error-supporter-name-empty = Choose the name to be listed under.
error-supporter-name-address = Choose a name, not an email address or a web address.
email-goal-reached-subject = { $newsroom }: a funding goal was reached
email-goal-reached-intro = Readers' gifts have reached the funding goal of a topic.
email-goal-reached-figures = Raised { $raised } of { $goal }.

# Receipts, giving statements and the card reminder
payment-kind-refund_failed = Refund reversed
account-receipts-link = Receipts and yearly statements
receipts-title = Receipts and statements
receipts-back-to-account = Back to your account
receipts-list-title = Receipts
receipts-receipt = Receipt
receipts-view = Receipt of { $date }
receipts-refunded = refunded
receipts-newest = Newest receipts
receipts-older = Older receipts
statements-title = Yearly giving statements
statements-hint = Every payment and gift of a calendar year, with refunds and totals per currency.
statements-year = Statement for { $year }
receipt-title = Receipt
receipt-received-from = Received from
receipt-returns-title = Refunded since
receipt-net = What this payment came to
receipt-print-hint = To keep a copy, print this page or save it as a PDF from your browser's print menu.
statement-title = Giving statement { $year }
statement-to-date = This year is not over yet: the statement shows the payments so far.
statement-totals-title = Totals per currency
statement-currency = Currency
statement-paid = Paid
statement-returned = Refunded
statement-net = Net
statement-per-currency = Each currency is totalled on its own, never converted. Dates are in the { $zone } time zone.
statement-empty = No payments or gifts in this year.
statement-error-not-a-year = A year is four digits, like 2025.
statement-error-future = That year has not begun yet.
statement-error-before-first = There were no payments of yours before then.
statement-error-not-over = That year is not over yet: statements are sent for a year that has ended.
email-receipt-printable = A printable receipt (save it as a PDF from your browser):
email-statement-subject = Your giving statement from { $newsroom }
email-statement-intro = Thank you for supporting { $newsroom } in { $year }. Here is everything you gave that year.
email-statement-printable = A printable version is in your account:
email-card-expiring-subject = Your card for { $newsroom } expires soon
email-card-expiring-body = The { $brand } card ending in { $last4 } that pays for your membership expires at the end of { $month }.
email-card-expiring-action = To keep your membership going without a gap, open your account and choose “Manage billing” to add a new card:

## Offers and trials
offer-applied = Offer: { $headline }
offer-code-label = Offer code
offer-code-apply = Apply
offer-featured-title = Special offer
offer-featured-link = Claim the offer
offer-headline-once = { $off } off your first payment
offer-headline-months = { $off } off for { $months } { $months ->
    [one] month
   *[other] months
}
offer-headline-forever = { $off } off for as long as you stay
offer-headline-trial = Try it free for { $days } { $days ->
    [one] day
   *[other] days
}
offer-price-once-month = { $discounted } for the first month, then { $full }
offer-price-once-year = { $discounted } for the first year, then { $full }
offer-price-months = { $discounted } a month for { $months } { $months ->
    [one] month
   *[other] months
}, then { $full }
offer-price-years = { $discounted } a year for { $years } { $years ->
    [one] year
   *[other] years
}, then { $full }
offer-price-forever-month = { $discounted } a month for as long as you stay (instead of { $full })
offer-price-forever-year = { $discounted } a year for as long as you stay (instead of { $full })
offer-price-trial = Free for { $days } { $days ->
    [one] day
   *[other] days
}, then { $full }
offer-error-unknown = This offer link is not valid. Check the link, or type the offer's code.
offer-error-unknown-code = We do not know that offer code. Check it and try again.
offer-error-ended = This offer has ended.
offer-error-used-up = This offer has been fully redeemed.
offer-error-not-for-price = This offer is not available for the tier and billing period you chose.

## Updates to patrons and anniversaries
email-update-why = You get this as a member of { $newsroom }. Your membership does not depend on it.
email-update-unsubscribe = Stop updates like this one
email-anniversary-subject = { $years ->
    [one] One year with { $newsroom }: thank you
   *[other] { $years } years with { $newsroom }: thank you
}
email-anniversary-intro = { $years ->
    [one] A year ago today you became a patron of { $newsroom }.
   *[other] { $years } years ago today you became a patron of { $newsroom }.
}
email-anniversary-stories = These stories you voted for were covered:
email-anniversary-no-stories = None of the stories you voted for has been covered yet; we are working on them.
email-anniversary-commissioned = Every story you helped commission
email-anniversary-thanks = Your support made this reporting possible. Thank you for staying with us.
unsubscribe-title = Updates from the newsroom
unsubscribe-lead = Stop emails with news about what your support paid for, and the yearly thank-you? Your membership, your votes, receipts and sign-in emails stay as they are.
unsubscribe-button = Stop updates
unsubscribe-done = Done: you will not get updates or the yearly thank-you any more. Your membership is unchanged.
unsubscribe-done-hint = Changed your mind? Turn them back on in your account.
unsubscribe-invalid = This unsubscribe link is not valid: it may have been cut short or changed. Nothing was changed. Copy the whole link from the email, or turn updates off in your account.
unsubscribe-account-link = Your account
account-updates-title = Updates from the newsroom
account-updates-lead = Now and then we tell patrons what their support paid for, and thank you on each year as a patron. Receipts and sign-in emails always come.
account-updates-on = You get these updates.
account-updates-off = You turned updates off on { $date }.
account-updates-turn-off = Stop updates
account-updates-turn-on = Send me updates again
transparency-updates-title = Updates to patrons
error-update-subject-empty = Write a subject.
error-update-subject-too-long = The subject can be at most 150 characters long.
error-update-subject-control = The subject must be one line without control or invisible characters.
error-update-body-empty = Write the update.
error-update-body-too-long = The update can be at most 10,000 characters long.
error-update-body-control = The update cannot contain control or invisible characters.
error-update-translation-incomplete = A translation needs both a subject and a text.
error-update-audience = Choose who receives the update.
error-update-tier = Choose a tier that exists.
error-update-topic = Choose a topic that exists.
error-update-already-sent = This update was sent already; it was not sent again.
error-update-audience-changed = Who receives this update changed since you looked: it would now go to { $count ->
    [one] { $count } recipient
   *[other] { $count } recipients
}. Nothing was sent; check the number and send again.

# Gift memberships
gift-link = Give a membership as a gift
gift-title = Give a membership
gift-lead = Give someone a membership for 3, 6 or 12 months, paid once. We email them a link to redeem it on the day you choose; it ends by itself, with no renewal.
gift-tier = Membership
gift-none = No membership can be given in this currency yet.
gift-length = How long
gift-months = { $months } months
gift-recipient-name = Their name
gift-recipient-email = Their email address
gift-message = Your message to them (optional)
gift-message-hint = Up to 500 characters; we include it in the email.
gift-deliver-on = Send it on
gift-deliver-on-hint = Today or any day in the next year.
gift-language = Write to them in
gift-giver-email = Your email address
gift-giver-email-hint = For your receipt, and to tell you when your gift is redeemed.
gift-giver-name = Your name (shown to them; optional)
gift-submit = Continue to payment
gift-what = Gift membership ({ $tier }, { $months } months) for { $recipient }
gift-thanks-title = Thank you for your gift
gift-thanks-body = Your receipt is on its way. We will email the recipient their gift on the day you chose, and tell you when they redeem it.
gift-another = Give another membership
gift-redeem-title = Your gift membership
gift-redeem-from = { $recipient }, { $giver } gave you { $months } months of membership ({ $tier }).
gift-redeem-anonymous = { $recipient }, you were given { $months } months of membership ({ $tier }).
gift-redeem-explain = Redeem it to start your membership now: you are signed in with this email address, and it ends by itself after { $months } months, with nothing to pay.
gift-redeem-submit = Redeem my gift
gift-already-redeemed = This gift was redeemed already. Sign in with the email address it was sent to.
payment-kind-gift = Gift membership
error-gift-months = Choose 3, 6 or 12 months.
error-gift-message-too-long = The message can be at most 500 characters long.
error-gift-message-control = The message cannot contain control or invisible characters.
error-gift-delivery-date = Choose a day from today to a year from now.
error-gift-recipient-name = Give the name of the person you are giving it to.
error-gift-language = Choose the language to write to them in.
error-gift-tier = This membership cannot be given in this currency. Choose another.
error-comp-reason = Give the reason for the complimentary membership.
error-comp-reason-too-long = The reason can be at most 200 characters long.
error-comp-end = The end date must be a day after today, or empty for no end.
email-gift-delivered-subject = A gift membership of { $newsroom } for you
email-gift-delivered-from = { $giver } gave you { $months } months of membership of { $newsroom } ({ $tier }).
email-gift-delivered-anonymous = You were given { $months } months of membership of { $newsroom } ({ $tier }).
email-gift-delivered-redeem = Redeem your gift
email-gift-delivered-once = The link works once. Your membership starts when you redeem it and ends by itself, with nothing to pay.
email-gift-redeemed-subject = Your gift to { $newsroom } was redeemed
email-gift-redeemed-body = { $recipient } redeemed the { $months }-month membership of { $newsroom } ({ $tier }) you gave them. Thank you for sharing our reporting.
email-gift-ended-subject = Your gift membership of { $newsroom } has ended
email-gift-ended-body = The gift membership of { $newsroom } ({ $tier }) you were given has ended. We hope you enjoyed being part of it.
email-gift-ended-continue = Continue as a patron
account-period-comped-open = Complimentary membership, with no end date.
