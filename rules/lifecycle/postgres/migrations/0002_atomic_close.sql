-- The member's profile version (PutMember's optimistic check), and the
-- invitation facts CloseInvitation writes: closed out of the sender's
-- sight (private) and the sender's own withdrawal of such an invitation.
ALTER TABLE members ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
UPDATE members SET version = 1;
ALTER TABLE invitations ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invitations ADD COLUMN sender_withdrawn_at TEXT NOT NULL DEFAULT '';
-- Snapshot's hidden invitations: ignored or private, not withdrawn by the sender.
CREATE INDEX invitations_hidden ON invitations (from_id, to_id, n)
	WHERE (status = 'ignored' OR private = 1) AND sender_withdrawn_at = '';
