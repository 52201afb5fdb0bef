-- 002-outreach: outreach messages and the conversations replies start.
-- Idempotent: sqlite3 app.db < 002-outreach.sql.

-- A conversation begins with the first reply to an outbound message.
CREATE TABLE IF NOT EXISTS conversations (
  id                     INTEGER PRIMARY KEY,
  site_id                INTEGER NOT NULL REFERENCES sites (id),
  channel                TEXT NOT NULL,
  status                 TEXT NOT NULL
                         CHECK (status IN ('open', 'waiting', 'won', 'lost')),
  started_at             TEXT NOT NULL,
  last_message_at        TEXT NOT NULL,
  message_count          INTEGER NOT NULL DEFAULT 1,
  first_response_minutes INTEGER     -- our first answer after their reply
);
CREATE INDEX IF NOT EXISTS conversations_started_at ON conversations (started_at);

-- Every message sent or received. Outbound messages carry the furthest
-- delivery state reached (status) and, once answered, replied_at; each reply
-- is also stored as an inbound message of its conversation.
CREATE TABLE IF NOT EXISTS messages (
  id              INTEGER PRIMARY KEY,
  site_id         INTEGER NOT NULL REFERENCES sites (id),
  conversation_id INTEGER REFERENCES conversations (id),
  channel         TEXT NOT NULL CHECK (channel IN ('email', 'form', 'sms', 'linkedin')),
  direction       TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  status          TEXT NOT NULL
                  CHECK (status IN ('queued', 'sent', 'delivered', 'opened', 'replied',
                                    'bounced', 'failed', 'received')),
  created_at      TEXT NOT NULL,
  replied_at      TEXT
);
CREATE INDEX IF NOT EXISTS messages_created_at ON messages (created_at, direction);
CREATE INDEX IF NOT EXISTS messages_replied_at ON messages (replied_at) WHERE replied_at IS NOT NULL;
