-- Accounts and login sessions.

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid (),
  username      text NOT NULL,
  display_name  text NOT NULL,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now (),
  updated_at    timestamptz NOT NULL DEFAULT now (),
  CONSTRAINT users_username_format CHECK (username ~ '^[A-Za-z0-9_.-]{3,32}$')
);
-- Usernames are unique regardless of case.
CREATE UNIQUE INDEX users_username_lower_idx ON users (lower (username));

CREATE TABLE sessions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid (),
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now (),
  expires_at  timestamptz NOT NULL,
  last_seen_address text
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Failed logins, for rate limiting per account and per address across nodes.
CREATE TABLE login_failures (
  id          bigserial PRIMARY KEY,
  username    text NOT NULL,
  address     text NOT NULL,
  failed_at   timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX login_failures_username_idx ON login_failures (lower (username), failed_at);
CREATE INDEX login_failures_address_idx ON login_failures (address, failed_at);
