-- The lifecycle's state. Members and invitations keep a JSON document
-- beside the columns the store queries or updates in place, so a field
-- added to lifecycle.Member or lifecycle.Invitation needs no migration.
-- Ids compare bytewise (COLLATE "C"), as the Go code sorts them.
CREATE TABLE members (
	id TEXT COLLATE "C" PRIMARY KEY,
	email TEXT COLLATE "C" NOT NULL DEFAULT '',
	doc TEXT NOT NULL,
	restricted_until TEXT NOT NULL DEFAULT '',
	answered BIGINT NOT NULL DEFAULT 0,
	accepted BIGINT NOT NULL DEFAULT 0,
	seq BIGINT NOT NULL DEFAULT 0,
	recv_seq BIGINT NOT NULL DEFAULT 0,
	counters TEXT NOT NULL DEFAULT '{}',
	over_start BIGINT NOT NULL DEFAULT 0,
	over_n BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX members_email ON members (email) WHERE email <> '';
-- Both directions of every connection: a member's list is one range.
CREATE TABLE conns (
	a TEXT COLLATE "C" NOT NULL,
	b TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (a, b)
);
CREATE TABLE contacts (
	owner TEXT COLLATE "C" NOT NULL,
	email TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (owner, email)
);
CREATE TABLE pairs (
	from_id TEXT COLLATE "C" NOT NULL,
	to_id TEXT COLLATE "C" NOT NULL,
	blocked INTEGER NOT NULL DEFAULT 0,
	rec TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (from_id, to_id)
);
CREATE TABLE invitations (
	n BIGSERIAL PRIMARY KEY,
	from_id TEXT COLLATE "C" NOT NULL,
	to_id TEXT COLLATE "C" NOT NULL,
	status TEXT NOT NULL,
	delivery TEXT NOT NULL DEFAULT '',
	closed_at TEXT NOT NULL DEFAULT '',
	sent_ns BIGINT NOT NULL,
	doc TEXT NOT NULL
);
CREATE INDEX invitations_pending ON invitations (from_id, to_id, n) WHERE status = 'pending';
CREATE INDEX invitations_pending_sent ON invitations (sent_ns, n) WHERE status = 'pending';
CREATE INDEX invitations_from ON invitations (from_id, n);
CREATE TABLE events (
	seq BIGSERIAL PRIMARY KEY,
	doc TEXT NOT NULL
);
