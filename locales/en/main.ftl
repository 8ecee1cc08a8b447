email-sign-in-subject = Your sign-in link for { $newsroom }
