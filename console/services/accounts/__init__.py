"""Accounts and identity: who is acting, sign-in, passwords, sessions, worker credentials, what each role may do."""
