-- The lifecycle's state. Members and invitations keep a JSON document
-- beside the columns the store queries or updates in place, so a field
-- added to lifecycle.Member or lifecycle.Invitation needs no migration.
CREATE TABLE members (
	id TEXT PRIMARY KEY,
	email TEXT NOT NULL DEFAULT '',
	doc TEXT NOT NULL,
	restricted_until TEXT NOT NULL DEFAULT '',
	answered INTEGER NOT NULL DEFAULT 0,
	accepted INTEGER NOT NULL DEFAULT 0,
	seq INTEGER NOT NULL DEFAULT 0,
	recv_seq INTEGER NOT NULL DEFAULT 0,
	counters TEXT NOT NULL DEFAULT '{}',
	over_start INTEGER NOT NULL DEFAULT 0,
	over_n INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX members_email ON members (email) WHERE email <> '';
-- Both directions of every connection: a member's list is one range.
CREATE TABLE conns (
	a TEXT NOT NULL,
	b TEXT NOT NULL,
	PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE TABLE contacts (
	owner TEXT NOT NULL,
	email TEXT NOT NULL,
	PRIMARY KEY (owner, email)
) WITHOUT ROWID;
CREATE TABLE pairs (
	from_id TEXT NOT NULL,
	to_id TEXT NOT NULL,
	blocked INTEGER NOT NULL DEFAULT 0,
	rec TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (from_id, to_id)
) WITHOUT ROWID;
CREATE TABLE invitations (
	n INTEGER PRIMARY KEY,
	from_id TEXT NOT NULL,
	to_id TEXT NOT NULL,
	status TEXT NOT NULL,
	delivery TEXT NOT NULL DEFAULT '',
	closed_at TEXT NOT NULL DEFAULT '',
	sent_ns INTEGER NOT NULL,
	doc TEXT NOT NULL
);
CREATE INDEX invitations_pending ON invitations (from_id, to_id, n) WHERE status = 'pending';
CREATE INDEX invitations_pending_sent ON invitations (sent_ns, n) WHERE status = 'pending';
CREATE INDEX invitations_from ON invitations (from_id, n);
CREATE TABLE events (
	seq INTEGER PRIMARY KEY,
	doc TEXT NOT NULL
);
