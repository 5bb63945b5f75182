"""The loopback mail harness shared by the tests and the benchmark.

servers.py runs a private Dovecot, mailboxes.py reads mail back for assertions,
unix.py covers the accounts and processes Dovecot needs, and village.py has the
test village's addresses, its complaint and a configuration for the servers. The
embedded IMAP and SMTP servers are mailflow.demo's, which the demo uses too.
"""
