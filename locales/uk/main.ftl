# Текст для читачів, українською.

## Layout
nav-home = Головна
nav-join = Стати патроном
nav-sign-in = Увійти
nav-account = Мій профіль
nav-sign-out = Вийти
language-label = Мова
language-switch = Змінити
skip-to-content = Перейти до змісту
footer-powered = Членство на Patronage. Без трекерів і реклами.

## Landing
landing-title = Підтримайте незалежну журналістику
landing-lead = За ціну однієї чашки кави на місяць ви можете допомогти — станьте патроном, співтворцем і голосуйте за теми, про які нам варто писати далі.
landing-why-title = Навіщо ставати патроном?
landing-why-1 = Наші матеріали безкоштовні для всіх. Патрони роблять це можливим.
landing-why-2 = Патрони пропонують теми й голосують за те, про що ми пишемо далі.
landing-why-3 = Коли вийде матеріал, за який ви голосували, ми вам повідомимо.
landing-tiers-title = Як підтримати
landing-join-title = Приєднатися безкоштовно
landing-join-lead = Почніть із безкоштовного членства: без пароля, лише ваша пошта.

## Join form
join-title = Приєднатися до { $newsroom }
join-email-label = Електронна пошта
join-email-hint = Ми надішлемо посилання для входу. Пароль не потрібен.
join-name-label = Ім’я (необов’язково)
join-name-hint = Як до вас звертатися. Можна псевдонім.
join-submit = Приєднатися
join-privacy = Ми зберігаємо лише те, що потрібно для членства, і ніколи ним не ділимося.

## Sign-in
sign-in-title = Вхід
sign-in-lead = Введіть пошту, з якою ви зареєструвалися, і ми надішлемо посилання для входу.
sign-in-email-label = Електронна пошта
sign-in-submit = Надіслати посилання для входу
sign-in-not-member = Ще не з нами?
link-sent-title = Перевірте пошту
link-sent-body = Якщо ця адреса належить учасникові, посилання для входу вже в дорозі. Воно діє один раз, { $minutes } хвилин.
link-sent-again = Лист не прийшов за кілька хвилин? Перевірте теку «Спам» або попросіть нове посилання.
confirm-title = Підтвердіть вхід
confirm-body = Натисніть кнопку, щоб увійти на цьому пристрої.
confirm-submit = Увійти
code-title = Або введіть код із листа
code-lead = Відкрили лист на іншому пристрої? Введіть тут 6-значний код із листа разом зі своєю поштою.
code-email-label = Електронна пошта
code-label = Код для входу
code-hint = Шість цифр, наприклад 123 456. Діє один раз, { $minutes } хвилин.
code-submit = Увійти з кодом
error-code-malformed = Введіть 6-значний код із листа.
error-code-wrong = Код неправильний. { $tries ->
    [one] Залишилася одна спроба, потім код перестане діяти.
    [few] Залишилося { $tries } спроби, потім код перестане діяти.
   *[other] Залишилося { $tries } спроб, потім код перестане діяти.
}
error-code-dead = Цей код більше не діє: його 5 разів ввели неправильно. Скористайтеся посиланням із листа або попросіть новий.
error-code-none = Для цієї адреси немає чинного коду, або його термін минув. Попросіть новий.

## Account
account-title = Мій профіль
account-email = Пошта
account-joined = З нами з
account-status = Членство
account-status-free = Безкоштовне членство
account-profile-title = Ваш профіль
account-name-label = Ім’я
account-name-hint = Бачить лише редакція. Можна псевдонім.
account-public-name-label = Публічне ім’я (необов’язково)
account-public-name-hint = Як вас бачать інші читачі, наприклад біля тем, які ви запропонували. Залиште порожнім, щоб бути «читачем».
account-language-label = Мова сторінок і листів
account-save = Зберегти
account-sessions-title = Пристрої, на яких ви увійшли
account-sign-out-everywhere = Вийти на всіх пристроях
account-sign-out-everywhere-hint = Завершує всі сеанси на всіх пристроях, включно з цим.
account-data-title = Ваші дані
account-export = Завантажити мої дані (JSON)
account-delete-title = Видалити профіль
account-delete-body = Це зітре вашу пошту, ім’я та сеанси. Записи про платежі залишаться без вашого імені, бо закон вимагає вести облік.
account-delete-confirm = Я розумію, видаліть мій профіль
account-delete-submit = Видалити профіль
goodbye-title = Ваш профіль видалено
goodbye-body = Ми стерли ваші персональні дані. Дякуємо, що були з нами — повертайтеся будь-коли.

## Emails
email-sign-in-subject = Посилання для входу до { $newsroom }
email-sign-in-greeting = Вітаємо, { $name }!
email-sign-in-greeting-anonymous = Вітаємо!
email-sign-in-welcome = Ласкаво просимо до { $newsroom }! Дякуємо, що приєдналися.
email-sign-in-body = Скористайтеся цим посиланням, щоб увійти. Воно діє один раз, { $minutes } хвилин:
email-sign-in-button = Увійти
email-sign-in-ignore = Якщо ви цього не просили, просто проігноруйте лист: нічого не зміниться.
email-sign-in-code = Читаєте на іншому пристрої? Введіть натомість цей код на сторінці входу (діє один раз, { $minutes } хвилин):
email-sign-in-code-where = Ввести його можна тут:
email-footer = { $newsroom } · надіслано через Patronage

## Errors
error-title = Щось пішло не так
error-back-home = На головну
error-not-found = Ми не знайшли цієї сторінки.
error-forbidden = У вас немає доступу до цієї сторінки.
error-sign-in-required = Спершу увійдіть.
error-bad-request = Ми не зрозуміли цей запит. Спробуйте ще раз із форми.
error-too-large = Це більше даних, ніж ми приймаємо.
error-rate-limited = Забагато спроб. Зачекайте кілька хвилин і спробуйте знову.
error-invalid-link = Термін дії посилання минув або його вже використано. Попросіть нове.
error-internal = У нас щось зламалося. Спробуйте ще раз за мить.
error-cross-site = Цю форму надіслано з іншого сайту, тож ми її проігнорували заради вашої безпеки.
error-method = Ця дія тут недоступна.
error-unavailable = Зараз ми перевантажені. Спробуйте ще раз за мить.
error-storage-unavailable = Зараз ми не можемо нічого зберегти: сховище сайту заповнене або доступне лише для читання. Нічого не змінено. Спробуйте ще раз за кілька хвилин.
error-database-unreachable = Зараз ми не можемо дістатися до наших записів: база даних перезапускається або не працює. Спробуйте ще раз за хвилину.
error-email-empty = Введіть адресу електронної пошти.
error-email-too-long = Ця адреса задовга.
error-email-invalid = Введіть адресу на зразок name@example.org.
error-name-too-long = Ім’я може мати щонайбільше 100 символів.
error-name-control = Ім’я не може містити керівних символів.
error-language = Виберіть мову зі списку.
error-confirm-delete = Поставте позначку, щоб підтвердити видалення профілю.
error-bad-credentials = Неправильна пошта або пароль.
error-staff-email-taken = Обліковий запис працівника з цією поштою вже існує.
error-last-admin = Останнього активного адміністратора не можна понизити чи вимкнути.

## Публічний JSON API (/api)
api-error-unknown-parameter = Невідомий параметр «{ $parameter }»: ця адреса приймає лише lang (en або uk). Див. /api/openapi.json.
api-error-repeated-parameter = Параметр «{ $parameter }» указано більше ніж раз; укажіть його один раз.
api-error-bad-lang = Мова «{ $parameter }» не підтримується: укажіть lang=en або lang=uk.
api-error-not-found = Такої адреси API немає. Перелік адрес — у /api/openapi.json.

## Patrons and donations
per-month = на місяць
per-year = на рік
patron-title = Стати патроном
patron-submit = Перейти до оплати
patron-flexible = (або більше)
patron-amount-label = Своя сума (необов’язково)
patron-amount-hint = Для цін з позначкою «або більше»: введіть місячну суму, не меншу за ціну.
demo-note = Демо-режим: платежі імітуються, гроші не списуються.
demo-banner = Демо-режим — платежі імітуються. Картку не буде списано.
donate-link = Або зробіть разовий внесок
donate-title = Разовий внесок
donate-lead = Разовий внесок допомагає зберегти наші матеріали безкоштовними для всіх. Обліковий запис не потрібен.
donate-currency = Валюта
donate-amount = Сума
donate-custom = Або інша сума
donate-custom-hint = Від { $min } до { $max }.
donate-name = Ваше ім’я (необов’язково)
donate-anonymous = Анонімний внесок
donate-cover-fee = Додати комісію за обробку картки, щоб редакція отримала всю суму
donate-submit = Перейти до оплати
donate-cover-fee-amount = Додати { $extra }, щоб увесь мій внесок { $amount } дійшов до редакції
donation-what = Одноразовий внесок { $amount } для { $newsroom }
donation-what-covered = Одноразовий внесок { $amount } для { $newsroom } і ще { $extra }, щоб уся сума дійшла до редакції
demo-checkout-title = Оплата
demo-checkout-what = За
demo-checkout-amount = Сума
demo-succeed = Оплатити (імітувати успіх)
demo-fail = Імітувати відхилення картки
demo-cancel = Скасувати й повернутися
welcome-title = Вітаємо, патроне!
welcome-body = Дякуємо. Ваша підтримка зберігає незалежну журналістику, а ваш голос тепер визначає, про що ми писатимемо далі.
welcome-sign-in = Увійдіть за допомогою своєї пошти, щоб побачити членство.
failed-title = Платіж не пройшов
failed-body = Кошти не списано, членство не змінилося. Спробуйте ще раз з іншою карткою.
failed-again = Спробувати ще раз
donation-thanks-title = Дякуємо за ваш внесок
donation-thanks-body = Кожен внесок допомагає зберегти наші матеріали безкоштовними для всіх.
portal-title = Керування оплатою
portal-resume = Відновити членство
portal-cancel-at-end = Скасувати наприкінці періоду
portal-cancel-now = Скасувати зараз
portal-nothing = У вас немає активного членства.
account-renews = Поновлюється
account-ends = Закінчується
account-tier = Рівень
account-status-patron = Патрон
account-status-past_due = Патрон — платіж прострочено
account-status-lapsed = Колишній патрон
account-status-comped = Почесний патрон
account-manage-billing = Керування оплатою
account-become-patron = Стати патроном
account-payments-title = Історія платежів
account-payments-none = Платежів ще немає.
payment-kind-subscription = Членство
payment-kind-donation = Внесок
payment-kind-refund = Повернення
payment-kind-dispute = Оскаржений платіж
payment-kind-dispute_won = Оскарження виграно
error-choose-tier = Виберіть рівень і як часто платити.
error-below-minimum = Сума має бути не меншою за ціну рівня.
error-currency = Виберіть валюту зі списку.
error-amount = Введіть суму на зразок 5 або 5.50.
error-amount-precision = Забагато знаків після коми для цієї валюти.
error-amount-positive = Сума має бути більшою за нуль.
error-amount-too-large = Ця сума завелика.
error-donation-range = Внесок може бути від 1 до 10 000.
error-payment-provider = Платіжний сервіс не відповів. Кошти не списано; спробуйте ще раз за мить.

## Теми й голосування
nav-topics = Голосувати за теми
topics-title = Про що нам писати далі?
topics-lead = Читачі пропонують теми, патрони голосують, а коли матеріал вийде, кожен, хто за нього голосував, отримає повідомлення.
topics-back = До тем
topics-no-round = Зараз немає відкритого голосування. Запропонуйте тему — вона може потрапити до наступного бюлетеня.
topics-sign-in-to-vote = Увійдіть, щоб голосувати
topics-become-patron = Стати патроном
topics-suggest-title = Запропонувати тему
topics-suggest-lead = Є щось, у чому нам варто розібратися?
topics-suggest-link = Запропонувати тему
topics-planned-title = Незабаром
topics-waiting-title = Чекають на голосування
ballot-label = Теми в бюлетені
ballot-vote = Голосувати
ballot-withdraw = Відкликати голос
ballot-you-voted = Ваш голос тут
ballot-tally = { $weight ->
    [one] { $weight } бал
    [few] { $weight } бали
   *[other] { $weight } балів
  } · { $votes ->
    [one] { $votes } голос
    [few] { $votes } голоси
   *[other] { $votes } голосів
  }
round-closes = Голосування завершиться { $date }.
round-opens = Голосування почнеться { $date }.
round-counting = Голосування завершено; підраховуємо результати.
round-closed-on = Голосування завершилося { $date }.
round-remaining = { $remaining ->
    [0] Ви використали всі голоси ({ $max }). Відкличте один, щоб проголосувати за іншу тему.
    [one] У вас лишився { $remaining } голос із { $max }.
    [few] У вас лишилося { $remaining } голоси з { $max }.
   *[other] У вас лишилося { $remaining } голосів із { $max }.
  }
round-turnout = { $voters ->
    [one] Проголосував { $voters } учасник.
    [few] Проголосували { $voters } учасники.
   *[other] Проголосувало { $voters } учасників.
  }
round-tallies-hidden = Результати оприлюднимо після завершення голосування.
round-state-open = Триває
round-state-upcoming = Незабаром
round-state-counting = Підрахунок
round-state-closed = Завершено
rounds-title = Голосування та результати
rounds-col-round = Голосування
rounds-col-dates = Дати
rounds-col-state = Стан
rounds-col-voters = Учасники
rounds-none = Голосувань ще не було.
suggest-title = Запропонувати тему
suggest-lead = Розкажіть, про що нам варто написати. Редакція читає кожну пропозицію; ви отримаєте лист, коли тема потрапить до бюлетеня або якщо ми вирішимо її не брати.
suggest-title-label = Тема (до 120 символів)
suggest-description-label = Чому це важливо? (необов’язково)
suggest-link-label = Посилання для контексту (необов’язково)
suggest-link-hint = Вебадреса, що починається з https://
suggest-submit = Надіслати пропозицію
topic-suggested-thanks = Дякуємо! Ваша пропозиція чекає на редактора. Доти її бачите лише ви.
topic-suggested-by = Запропонував(-ла) { $name }
topic-suggested-by-reader = Запропонував читач
topic-expected = очікується { $date }
topic-articles = Матеріал
topic-on-ballot = Зараз у бюлетені: проголосуйте
topic-follow = Стежити за темою
topic-unfollow = Не стежити
topic-follow-hint = Ті, хто стежить, отримають один лист, коли матеріал вийде.
topic-history = Історія
topic-status-suggested = Запропоновано
topic-status-open = Відкрито для голосування
topic-status-planned = Заплановано
topic-status-covered = Висвітлено
topic-status-declined = Відхилено
topic-status-merged = Об’єднано
covered-title = Ви просили — ми написали
covered-lead = Теми, які обрали наші читачі, і журналістика, що з них вийшла.
covered-on = Опубліковано { $date }
covered-none = Поки нічого: перші матеріали вже в роботі.
commissioned-title = Матеріали, які я допоміг замовити
commissioned-lead = Теми, за які ви голосували, і що з ними сталося.
commissioned-voted-on = ви голосували { $date }
commissioned-none = Ви ще не голосували.
vote-refused-closed = Це голосування не приймає голосів.
vote-refused-not-on-ballot = За цю тему в цьому голосуванні не можна (вже) голосувати.
vote-refused-patrons-only = Голосувати можуть лише патрони.
vote-refused-lapsed = Ваше патронство завершилося, тож нові голоси віддати не можна. Уже віддані голоси враховуються.
vote-refused-payment-pending = Ваш голос рахуватиметься, щойно пройде перший платіж. Спробуйте пізніше.
vote-refused-already = Ви вже проголосували за цю тему.
vote-refused-no-votes-left = Ви використали всі голоси в цьому голосуванні. Відкличте один, щоб проголосувати за іншу тему.
vote-refused-not-voted = Ви не голосували за цю тему.
error-text-empty = Це поле не може бути порожнім.
error-text-too-long = Задовгий текст.
error-text-control = Приберіть керівні або невидимі символи.
error-web-address = Вкажіть вебадресу, що починається з http:// або https://.
error-topic-state = Тема тим часом змінилася; оновіть сторінку.
error-round-window = Голосування має завершуватися після початку.
error-round-in-past = Час завершення вже минув.
error-round-max-votes = Кількість голосів на учасника — від 1 до 50.
error-round-no-topics = Оберіть принаймні одну тему для бюлетеня.
error-round-topic-not-open = До бюлетеня можна додати лише відкриті теми.
error-round-topic-busy = Одна з тем уже є в бюлетені іншого голосування.
email-topic-open-subject = Ваша пропозиція в бюлетені { $newsroom }
email-topic-open-body = Гарна новина: за вашу пропозицію «{ $title }» уже можна голосувати.
email-topic-open-link = Переглянути тему
email-topic-approved-subject = Вашу пропозицію до { $newsroom } схвалено
email-topic-approved-body = Добра новина: ми схвалили вашу пропозицію «{ $title }». Вона потрапить до одного з наступних голосувань, і тоді за неї можна буде голосувати.
email-topic-approved-link = Переглянути тему
email-topic-declined-subject = Про вашу пропозицію для { $newsroom }
email-topic-declined-body = Дякуємо, що запропонували «{ $title }». Ми вирішили не брати цю тему; пояснення редактора:
email-topic-declined-link = Переглянути тему
email-topic-merged-subject = Вашу пропозицію для { $newsroom } об’єднано з подібною
email-topic-merged-body = Ваша пропозиція «{ $title }» дуже схожа на тему, яка в нас уже була, тож ми їх об’єднали.
email-topic-merged-into = Тепер це тема «{ $title }». Голоси й ті, хто стежить, перейшли разом із нею.
email-topic-merged-link = Переглянути тему
email-topic-covered-subject = Матеріал, за який ви голосували, вийшов
email-topic-covered-body = Ви голосували за «{ $title }», і ось матеріал:
email-topic-covered-link = Читати

## Dunning: a renewal that did not go through
email-payment-failed-subject = Ваш платіж для { $newsroom } не пройшов
email-payment-failed-body = Ми спробували списати ваш патронський внесок { $amount }, але банк відхилив платіж (спроба { $attempt }). Поки що ваше патронство триває.
email-payment-failed-next = Ми спробуємо списати кошти з картки ще раз { $date }. Щоб оплатити іншою карткою зараз:
email-payment-failed-last = Більше спроб списати кошти з цієї картки не буде. Щоб залишитися патроном, оплатіть іншою карткою:
email-payment-failed-pay = Оплатити іншою карткою
email-payment-failed-update = Щоб змінити картку для наступних платежів, відкрийте свій обліковий запис і виберіть «Керування оплатою»:
email-payment-failed-account = Ваш обліковий запис
email-payment-action-required-subject = Підтвердьте, будь ласка, платіж для { $newsroom }
email-payment-action-required-body = Ваш банк просить підтвердити патронський внесок { $amount }, перш ніж списати кошти.
email-payment-action-required-confirm = Підтвердити платіж

## The account page: the co-creator's home
account-membership-title = Ваше членство
account-period-renews = Поновлюється { $date }.
account-period-ends = Ви скасували патронство: воно завершиться { $date }. До того часу всі переваги зберігаються, а поновити його можна тут.
account-period-ended = Ваше патронство завершилося { $date }. Дякуємо за підтримку. Ваші голоси й далі враховуються.
account-period-comped = Безкоштовне членство до { $date }.
account-past-due-help = Останній платіж не пройшов. Оновіть картку в розділі «Керування оплатою», щоб залишитися патроном.
account-become-patron-again = Знову стати патроном
account-votes-title = Ваші голоси
account-votes-left = { $remaining ->
    [0] Голосів не залишилося
    [one] Залишився { $remaining } голос
    [few] Залишилося { $remaining } голоси
   *[other] Залишилося { $remaining } голосів
  }
account-votes-none = Ви ще не голосували в цьому голосуванні.
account-go-vote = До бюлетеня
account-no-open-round = Зараз немає відкритого голосування.
account-commissioned-all = Усі історії, які я допоміг замовити
account-followed-title = Теми, за якими ви стежите
account-payment-date = Дата
account-payment-what = Що
account-payment-amount = Сума
account-payments-newest = Найновіші платежі
account-payments-older = Давніші платежі
account-give-once = Зробити разовий внесок
portal-confirm-now-title = Скасувати членство зараз?
portal-confirm-now-body = Ваше патронство завершиться сьогодні, і кошти більше не списуватимуться. Ваші голоси й далі враховуються, але нові віддати не вийде.
portal-confirm-end-title = Скасувати наприкінці періоду?
portal-confirm-end-body = Кошти більше не списуватимуться. Ви залишаєтеся патроном з усіма перевагами до { $date }.
portal-keep = Залишити членство
patron-currency-label = Валюта
patron-amount-tier-hint = Від { $min } на місяць — скільки забажаєте.
patron-no-tiers = У цій валюті редакція ще не пропонує членства.
error-amount-fixed-price = Ця ціна фіксована. Щоб дати більше, виберіть ціну з позначкою «або більше» і введіть суму поруч із нею.
benefit-vote = Голос за те, про що ми писатимемо далі
benefit-weight = Ваш голос важить { $weight ->
    [2] удвічі більше
    [3] утричі більше
   *[other] у { $weight } разів більше
  }
benefit-tenure = Ваш голос важить більше з кожним місяцем підтримки (до { $cap } разів)
landing-vote-title = Голосуйте, про що нам писати далі
landing-vote-link = Переглянути бюлетень і проголосувати
landing-covered-title = Ви просили — ми написали
landing-covered-read = Читати матеріал
landing-covered-all = Усі матеріали, які замовили читачі
email-patron-welcome-subject = Ласкаво просимо до патронів { $newsroom }
email-patron-welcome-body = Дякуємо, що стали патроном { $newsroom }. Ваша підтримка тримає незалежну журналістику.
email-patron-welcome-body-tier = Дякуємо, що стали патроном { $newsroom } ({ $tier }). Ваша підтримка тримає незалежну журналістику.
email-patron-welcome-vote = Як патрон ви допомагаєте вирішувати, про що ми пишемо далі: пропонуйте теми й голосуйте.
email-patron-welcome-vote-link = Подивитися, що зараз у голосуванні
email-patron-welcome-account = Ваше членство, квитанції й дані — у вашому профілі:
email-receipt-subject = Ваша квитанція від { $newsroom }
email-receipt-intro = Дякуємо. Це квитанція про ваш платіж на користь { $newsroom }.
email-receipt-amount = Сума
email-receipt-date = Дата
email-receipt-for = За що
email-receipt-paid-to = Отримувач
email-receipt-reference = Номер
email-receipt-membership = Членство
email-receipt-membership-month = Членство ({ $tier }), один місяць
email-receipt-membership-year = Членство ({ $tier }), один рік
email-receipt-donation = Одноразовий внесок
email-receipt-account = Усі ваші платежі — у вашому профілі:
email-membership-ended-subject = Ваше членство в { $newsroom } завершилося
email-membership-ended-body = Ваше патронське членство в { $newsroom } завершилося. Дякуємо за час, коли ви підтримували нашу журналістику: це мало значення.
email-membership-ended-body-tier = Ваше патронське членство в { $newsroom } ({ $tier }) завершилося. Дякуємо за час, коли ви підтримували нашу журналістику: це мало значення.
email-membership-ended-free = Ваш профіль залишається відкритим як безкоштовне членство, і ми завжди раді вашому поверненню.
email-membership-ended-back = Знову стати патроном
error-presets = Вкажіть від однієї до шести цілих сум через кому, кожна від 1 до 10000.
landing-patron-count = { $count ->
    [one] Уже { $count } читач — патрон.
    [few] Уже { $count } читачі — патрони.
   *[other] Уже { $count } читачів — патрони.
  }
embed-pitch = Лише за { $amount } на місяць — як за горнятко кави — станьте патроном, співтворцем і голосуйте за теми, про які нам варто писати далі.
embed-vote = Голосувати
embed-result = Результат останнього голосування:
embed-weight = { $weight ->
    [one] { $weight } голос
    [few] { $weight } голоси
   *[other] { $weight } голосів
  }

# Пауза замість скасування, опитування при скасуванні, поновлення
account-status-paused = Патрон — на паузі
account-period-paused = Ваші платежі призупинено: вони відновляться { $date }. До того часу нові голоси віддати не вийде; ваші голоси й далі враховуються.
account-period-paused-open = Ваші платежі призупинено, доки ви їх не відновите. До того часу нові голоси віддати не вийде; ваші голоси й далі враховуються.
account-resume = Поновити членство
account-resume-paused = Відновити платежі зараз
account-cancel = Скасувати членство
cancel-title = Перш ніж піти
cancel-intro = Замість скасування можна зробити перерву або платити менше. Якщо скасуєте, патронство завершиться { $date }, а до того часу всі переваги зберігаються.
cancel-pause-title = Зробити перерву
cancel-pause-body = Пропустіть кілька платежів і залишайтеся патроном. Поки платежі призупинено, нові голоси віддати не вийде; ваші голоси й далі враховуються. Платежі відновляться самі.
cancel-pause-1 = Пауза на 1 місяць
cancel-pause-2 = Пауза на 2 місяці
cancel-pause-3 = Пауза на 3 місяці
cancel-cheaper-title = Платити менше
cancel-cheaper-body = Ці рівні дешевші за ваш. Нова ціна діятиме з наступного платежу; за поточний період уже сплачено, тож нічого не змінюється.
cancel-cheaper-switch = Перейти на «{ $tier }» · { $price }
cancel-survey-title = Скасувати членство
cancel-reason-legend = Чому ви йдете? (необов’язково)
cancel-reason-none = Не хочу казати
cancel-reason-too-expensive = Зараз це для мене задорого
cancel-reason-not-reading = Я читаю надто мало, щоб це було варте того
cancel-reason-coverage = Мене не влаштовує, про що ви пишете
cancel-reason-temporary = Я хотів підтримати лише на певний час
cancel-reason-payment-trouble = Проблеми з оплатою
cancel-reason-other = Інше
cancel-comment-label = Хочете щось сказати редакції? (необов’язково)
cancel-comment-hint = До 500 символів. Це читають лише працівники редакції, які опікуються її фінансами.
cancel-submit = Скасувати наприкінці періоду
cancel-keep = Залишити членство
error-pause-length = Пауза триває один, два або три місяці.
error-cancel-reason = Виберіть одну з причин зі списку.
error-cancel-comment-too-long = Будь ласка, не більше 500 символів.
error-cancel-comment-control = Текст не може містити керівних або невидимих символів.
error-membership-ended = Це членство вже завершилося, тож змінити його не можна. Ви можете знову стати патроном.
error-cannot-pause = Призупинити можна лише активне членство, яке не завершується.
error-nothing-to-resume = Ваше членство не призупинене й не завершується: поновлювати нічого.
error-cannot-switch = Змінити рівень можна лише для активного членства, яке не призупинене й не завершується.
error-switch-not-on-offer = Ця ціна недоступна для вашого членства: оберіть один із наведених рівнів.
vote-refused-paused = Ваше патронство на паузі, тож нові голоси віддати не вийде, доки платежі не відновляться. Ваші голоси й далі враховуються.
correction-title = Запропонувати виправлення чи уточнення
correction-lead = Помітили помилку чи щось незрозуміле? Напишіть редакції; обліковий запис не потрібен.
correction-article = Про статтю:
correction-url-label = Адреса статті
correction-url-hint = Скопіюйте її з адресного рядка браузера, поки читаєте статтю.
correction-quote-label = Текст, про який ідеться (необов’язково)
correction-quote-hint = Так, як він є у статті, до 1 000 символів.
correction-note-label = Що не так або незрозуміло?
correction-email-label = Ваша електронна пошта (необов’язково)
correction-email-hint = Лише для нашої відповіді: один лист, коли редакція вирішить. Ми не додаємо адресу до жодних розсилок.
correction-honeypot-label = Залиште це поле порожнім
correction-submit = Надіслати редакції
correction-cancel = Скасувати
correction-close = Закрити
correction-thanks-title = Дякуємо
correction-thanks-body = Редакція прочитає ваше повідомлення.
correction-thanks-reply = Ми напишемо вам, коли редакція вирішить.
correction-thanks-back = Повернутися до статті
correction-error-url-missing = Вкажіть адресу статті, про яку йдеться.
correction-error-url-invalid = Це не вебадреса: вона має починатися з https://.
correction-error-url-foreign = Ми приймаємо виправлення лише до статей на нашому власному сайті.
correction-error-quote-too-long = Цитата може містити щонайбільше 1 000 символів: залиште слова, про які йдеться.
correction-error-note-empty = Напишіть, що не так або незрозуміло.
correction-error-note-too-long = Повідомлення може містити щонайбільше 2 000 символів.
correction-error-note-control = Повідомлення містить керівні або невидимі символи: приберіть їх і надішліть знову.
correction-error-staff-text-too-long = Цей текст може містити щонайбільше 2 000 символів.
correction-error-staff-text-control = Цей текст містить керівні або невидимі символи.
correction-error-honeypot = Це схоже на автоматичне надсилання, тож його не надіслано. Якщо ви заповнили поле «Залиште це поле порожнім», очистьте його й надішліть знову.
correction-error-rate-limited = { $minutes ->
    [one] Забагато пропозицій із вашого з’єднання або до цієї статті. Спробуйте знову за { $minutes } хвилину.
    [few] Забагато пропозицій із вашого з’єднання або до цієї статті. Спробуйте знову за { $minutes } хвилини.
   *[other] Забагато пропозицій із вашого з’єднання або до цієї статті. Спробуйте знову за { $minutes } хвилин.
  }
correction-error-changed = Хтось змінив статус цієї пропозиції тим часом (можливо, ви в іншій вкладці). Відкрийте її знову, щоб побачити, як є зараз.
email-correction-resolved-subject = { $newsroom }: про виправлення, яке ви запропонували
email-correction-resolved-accepted = Дякуємо: редакція погоджується з тим, на що ви вказали.
email-correction-resolved-fixed = Дякуємо: ми виправили статтю.
email-correction-resolved-rejected = Дякуємо, що написали. Редакція все перевірила й вирішила залишити статтю без змін.
email-correction-resolved-reply = Відповідь редакції:
email-correction-resolved-yours = Ви написали:
email-correction-resolved-quote = Щодо слів:
email-correction-resolved-article = Стаття

## Transparency page and funding goals
transparency-link = Куди йдуть гроші: наша сторінка прозорості
transparency-title = Прозорість
transparency-lead = На що перетворюється ваша підтримка, місяць за місяцем: скільки в нас патронів, скільки дали читачі та історії, за які ви голосували. Тут не названо нікого, хто сам цього не обрав.
transparency-goals-title = Цілі збору
transparency-months-title = Місяць за місяцем
transparency-patrons = Патрони
transparency-joined = Приєдналися
transparency-left = Пішли
transparency-income = Від читачів
transparency-stories = Історії, написані, бо за них проголосували патрони
transparency-note = На що пішла ваша підтримка
transparency-supporters-title = Прихильники
transparency-supporters-none = Поки що жоден прихильник не обрав бути в списку.
transparency-supporters-how = Прихильники з'являються тут, лише якщо самі цього захочуть, під обраним ім'ям.
transparency-supporters-link = Додати мене до прихильників
month-name-1 = Січень
month-name-2 = Лютий
month-name-3 = Березень
month-name-4 = Квітень
month-name-5 = Травень
month-name-6 = Червень
month-name-7 = Липень
month-name-8 = Серпень
month-name-9 = Вересень
month-name-10 = Жовтень
month-name-11 = Листопад
month-name-12 = Грудень
goal-title = Ціль збору
goal-raised = Зібрано { $raised } з { $goal }
goal-percent = { $percent }%
goal-reached = Ціль досягнуто, дякуємо!
goal-progress-label = Поступ збору: { $title }
goal-give = Підтримати цю історію
donate-toward = Ваш внесок піде на: { $title }
error-goal-number = Вкажіть ціль цілим числом, наприклад 2000.
error-goal-positive = Ціль має бути більшою за нуль.
error-goal-too-large = Завелика ціль.
error-goal-currency = У цій валюті внески не приймаються.
error-goal-topic = Такої теми немає.
error-goal-not-fundable = Ця тема не приймає внесків.
error-goal-currency-locked = На цю ціль уже надходили внески: її валюта не змінюється.
error-gift-no-goal = Ця тема не приймає внесків: у неї немає відкритої цілі збору.
error-gift-currency = Внески на цю тему приймаються у валюті її цілі.
error-note-too-long = Нотатка може мати щонайбільше 2000 символів.
supporter-title = Додати мене до прихильників
supporter-lead = Ваше ім'я з'явиться серед прихильників на нашій сторінці прозорості, лише якщо ви цього захочете, під обраним ім'ям (можна псевдонім). Нічого іншого про вас не показано.
supporter-name = Ім'я для списку
supporter-save = Зберегти
supporter-remove = Не показувати мене
supporter-listed = Вас показано як { $name }.
error-supporter-name-empty = Оберіть ім'я для списку.
error-supporter-name-address = Оберіть ім'я, а не адресу пошти чи сайту.
email-goal-reached-subject = { $newsroom }: ціль збору досягнуто
email-goal-reached-intro = Внески читачів досягли цілі збору на тему.
email-goal-reached-figures = Зібрано { $raised } з { $goal }.

# Квитанції, річні звіти про внески та нагадування про картку
payment-kind-refund_failed = Повернення скасовано
account-receipts-link = Квитанції та річні звіти
receipts-title = Квитанції та звіти
receipts-back-to-account = Назад до профілю
receipts-list-title = Квитанції
receipts-receipt = Квитанція
receipts-view = Квитанція від { $date }
receipts-refunded = повернено
receipts-newest = Новіші квитанції
receipts-older = Старіші квитанції
statements-title = Річні звіти про внески
statements-hint = Усі платежі та внески за календарний рік, з поверненнями й підсумками для кожної валюти.
statements-year = Звіт за { $year } рік
receipt-title = Квитанція
receipt-received-from = Від кого
receipt-returns-title = Відтоді повернено
receipt-net = Підсумок цього платежу
receipt-print-hint = Щоб зберегти копію, надрукуйте сторінку або збережіть її як PDF через меню друку браузера.
statement-title = Звіт про внески за { $year } рік
statement-to-date = Цей рік ще не скінчився: у звіті платежі на сьогодні.
statement-totals-title = Підсумки за валютами
statement-currency = Валюта
statement-paid = Сплачено
statement-returned = Повернено
statement-net = Разом
statement-per-currency = Кожну валюту підсумовано окремо, без перерахунку. Дати — за часовим поясом { $zone }.
statement-empty = Цього року платежів і внесків не було.
statement-error-not-a-year = Рік — це чотири цифри, наприклад 2025.
statement-error-future = Цей рік ще не почався.
statement-error-before-first = Раніше ви ще нічого не сплачували.
statement-error-not-over = Цей рік ще не скінчився: звіти надсилають за рік, що минув.
email-receipt-printable = Квитанція для друку (її можна зберегти як PDF у браузері):
email-statement-subject = Ваш звіт про внески для { $newsroom }
email-statement-intro = Дякуємо, що підтримували { $newsroom } у { $year } році. Ось усе, що ви внесли того року.
email-statement-printable = Версія для друку — у вашому профілі:
email-card-expiring-subject = Термін дії вашої картки для { $newsroom } скоро спливає
email-card-expiring-body = Термін дії картки { $brand } із закінченням { $last4 }, якою ви сплачуєте членство, спливає наприкінці { $month }.
email-card-expiring-action = Щоб членство тривало без перерви, відкрийте профіль і виберіть «Керування оплатою», щоб додати нову картку:

## Offers and trials
offer-applied = Пропозиція: { $headline }
offer-code-label = Код пропозиції
offer-code-apply = Застосувати
offer-featured-title = Спеціальна пропозиція
offer-featured-link = Скористатися пропозицією
offer-headline-once = Знижка { $off } на перший платіж
offer-headline-months = Знижка { $off } на { $months } { $months ->
    [one] місяць
    [few] місяці
   *[other] місяців
}
offer-headline-forever = Знижка { $off }, поки ви з нами
offer-headline-trial = { $days } { $days ->
    [one] день
    [few] дні
   *[other] днів
} безкоштовно
offer-price-once-month = { $discounted } за перший місяць, далі { $full }
offer-price-once-year = { $discounted } за перший рік, далі { $full }
offer-price-months = { $discounted } на місяць протягом { $months } { $months ->
    [one] місяця
   *[other] місяців
}, далі { $full }
offer-price-years = { $discounted } на рік протягом { $years } { $years ->
    [one] року
   *[other] років
}, далі { $full }
offer-price-forever-month = { $discounted } на місяць, поки ви з нами (замість { $full })
offer-price-forever-year = { $discounted } на рік, поки ви з нами (замість { $full })
offer-price-trial = Безкоштовно { $days } { $days ->
    [one] день
    [few] дні
   *[other] днів
}, далі { $full }
offer-error-unknown = Це посилання на пропозицію недійсне. Перевірте посилання або введіть код пропозиції.
offer-error-unknown-code = Ми не знаємо такого коду пропозиції. Перевірте його та спробуйте ще раз.
offer-error-ended = Ця пропозиція вже закінчилася.
offer-error-used-up = Цю пропозицію вже повністю використано.
offer-error-not-for-price = Ця пропозиція не діє для вибраного рівня чи періоду оплати.

## Новини для патронів і річниці
email-update-why = Ви отримуєте цей лист як учасник { $newsroom }. Ваше членство від нього не залежить.
email-update-unsubscribe = Більше не надсилати такі новини
email-anniversary-subject = { $years ->
    [one] { $years } рік із { $newsroom }: дякуємо
    [few] { $years } роки з { $newsroom }: дякуємо
   *[other] { $years } років із { $newsroom }: дякуємо
}
email-anniversary-intro = { $years ->
    [one] Сьогодні { $years } рік, як ви стали патроном { $newsroom }.
    [few] Сьогодні { $years } роки, як ви стали патроном { $newsroom }.
   *[other] Сьогодні { $years } років, як ви стали патроном { $newsroom }.
}
email-anniversary-stories = Ці теми, за які ви голосували, ми висвітлили:
email-anniversary-no-stories = Жодну з тем, за які ви голосували, ще не висвітлено; ми над ними працюємо.
email-anniversary-commissioned = Усі матеріали, які ви допомогли замовити
email-anniversary-thanks = Ваша підтримка зробила цю журналістику можливою. Дякуємо, що ви з нами.
unsubscribe-title = Новини від редакції
unsubscribe-lead = Більше не надсилати листи про те, на що пішла ваша підтримка, і щорічну подяку? Ваше членство, голоси, квитанції та листи для входу залишаться як є.
unsubscribe-button = Не надсилати новини
unsubscribe-done = Готово: ви більше не отримуватимете новин і щорічної подяки. Ваше членство не змінилося.
unsubscribe-done-hint = Передумали? Увімкніть їх знову у своєму профілі.
unsubscribe-invalid = Це посилання для відписки недійсне: можливо, його обрізано або змінено. Нічого не змінено. Скопіюйте посилання з листа повністю або вимкніть новини у своєму профілі.
unsubscribe-account-link = Ваш профіль
account-updates-title = Новини від редакції
account-updates-lead = Час від часу ми розповідаємо патронам, на що пішла їхня підтримка, і дякуємо щороку. Квитанції та листи для входу надходять завжди.
account-updates-on = Ви отримуєте ці новини.
account-updates-off = Ви вимкнули новини { $date }.
account-updates-turn-off = Не надсилати новини
account-updates-turn-on = Знову надсилати новини
transparency-updates-title = Новини для патронів
error-update-subject-empty = Напишіть тему.
error-update-subject-too-long = Тема може мати щонайбільше 150 символів.
error-update-subject-control = Тема має бути одним рядком без керівних чи невидимих символів.
error-update-body-empty = Напишіть текст новини.
error-update-body-too-long = Текст може мати щонайбільше 10 000 символів.
error-update-body-control = Текст не може містити керівних чи невидимих символів.
error-update-translation-incomplete = Для перекладу потрібні і тема, і текст.
error-update-audience = Виберіть, хто отримає новину.
error-update-tier = Виберіть рівень, який існує.
error-update-topic = Виберіть тему, яка існує.
error-update-already-sent = Цю новину вже надіслано; вдруге її не надіслано.
error-update-audience-changed = Коло отримувачів змінилося, відколи ви дивилися: тепер новина піде { $count ->
    [one] { $count } отримувачеві
   *[other] { $count } отримувачам
}. Нічого не надіслано; перевірте число й надішліть знову.

# Подарункові членства
gift-link = Подарувати членство
gift-title = Подарувати членство
gift-lead = Подаруйте комусь членство на 3, 6 або 12 місяців з одноразовою оплатою. Ми надішлемо одержувачу посилання в день, який ви оберете; членство завершиться саме, без продовження.
gift-tier = Членство
gift-none = У цій валюті поки не можна подарувати жодного членства.
gift-length = На який строк
gift-months = { $months ->
    [one] { $months } місяць
    [few] { $months } місяці
   *[other] { $months } місяців
}
gift-recipient-name = Ім'я одержувача
gift-recipient-email = Електронна адреса одержувача
gift-message = Ваше повідомлення (необов'язково)
gift-message-hint = До 500 символів; ми додамо його до листа.
gift-deliver-on = Надіслати
gift-deliver-on-hint = Сьогодні або будь-якого дня протягом наступного року.
gift-language = Мова листа одержувачу
gift-giver-email = Ваша електронна адреса
gift-giver-email-hint = Для квитанції і щоб повідомити вас, коли подарунок отримають.
gift-giver-name = Ваше ім'я (його побачить одержувач; необов'язково)
gift-submit = Перейти до оплати
gift-what = Подарункове членство ({ $tier }, { $months ->
    [one] { $months } місяць
    [few] { $months } місяці
   *[other] { $months } місяців
}) для { $recipient }
gift-thanks-title = Дякуємо за подарунок
gift-thanks-body = Квитанцію вже надіслано. Ми надішлемо одержувачу подарунок у день, який ви обрали, і повідомимо вас, коли його отримають.
gift-another = Подарувати ще одне членство
gift-redeem-title = Ваше подарункове членство
gift-redeem-from = { $recipient }, { $giver } дарує вам членство ({ $tier }) на { $months ->
    [one] { $months } місяць
    [few] { $months } місяці
   *[other] { $months } місяців
}.
gift-redeem-anonymous = { $recipient }, вам подарували членство ({ $tier }) на { $months ->
    [one] { $months } місяць
    [few] { $months } місяці
   *[other] { $months } місяців
}.
gift-redeem-explain = Отримайте його, щоб членство почалося вже зараз: ви увійдете з цією електронною адресою. Воно завершиться саме, і платити нічого не потрібно.
gift-redeem-submit = Отримати подарунок
gift-already-redeemed = Цей подарунок уже отримано. Увійдіть з електронною адресою, на яку його надіслали.
payment-kind-gift = Подарункове членство
error-gift-months = Оберіть 3, 6 або 12 місяців.
error-gift-message-too-long = Повідомлення може мати щонайбільше 500 символів.
error-gift-message-control = Повідомлення не може містити керівних чи невидимих символів.
error-gift-delivery-date = Оберіть день від сьогодні до року вперед.
error-gift-recipient-name = Вкажіть ім'я людини, якій даруєте членство.
error-gift-language = Оберіть мову листа одержувачу.
error-gift-tier = Це членство не можна подарувати в цій валюті. Оберіть інше.
error-comp-reason = Вкажіть причину безкоштовного членства.
error-comp-reason-too-long = Причина може мати щонайбільше 200 символів.
error-comp-end = Дата завершення має бути пізнішою за сьогодні, або залиште поле порожнім.
email-gift-delivered-subject = Подарункове членство в { $newsroom } для вас
email-gift-delivered-from = { $giver } дарує вам членство в { $newsroom } ({ $tier }) на { $months ->
    [one] { $months } місяць
    [few] { $months } місяці
   *[other] { $months } місяців
}.
email-gift-delivered-anonymous = Вам подарували членство в { $newsroom } ({ $tier }) на { $months ->
    [one] { $months } місяць
    [few] { $months } місяці
   *[other] { $months } місяців
}.
email-gift-delivered-redeem = Отримати подарунок
email-gift-delivered-once = Посилання діє один раз. Членство почнеться, щойно ви його отримаєте, і завершиться саме; платити нічого не потрібно.
email-gift-redeemed-subject = Подароване вами членство в { $newsroom } отримано
email-gift-redeemed-body = { $recipient } отримує подароване вами членство в { $newsroom } ({ $tier }) на { $months ->
    [one] { $months } місяць
    [few] { $months } місяці
   *[other] { $months } місяців
}. Дякуємо, що ділитеся нашою журналістикою.
email-gift-ended-subject = Ваше подарункове членство в { $newsroom } завершилося
email-gift-ended-body = Подароване вам членство в { $newsroom } ({ $tier }) завершилося. Сподіваємося, вам було цікаво бути з нами.
email-gift-ended-continue = Залишитися з нами як патрон
account-period-comped-open = Безкоштовне членство без кінцевої дати.
