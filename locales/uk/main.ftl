email-sign-in-subject = Посилання для входу до { $newsroom }
