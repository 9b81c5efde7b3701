-- Live streams (one row per broadcast).
CREATE TABLE live_streams (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid (),
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title          text NOT NULL,
  description    text NOT NULL DEFAULT '',
  category       text NOT NULL DEFAULT '',
  tags           text[] NOT NULL DEFAULT '{}',
  thumbnail_url  text,
  -- Only the newest broadcast of a key holds it; ended rows give theirs up.
  stream_key     text NOT NULL,
  is_live        boolean NOT NULL DEFAULT false,
  is_vod         boolean NOT NULL DEFAULT false,
  viewer_count   integer NOT NULL DEFAULT 0,
  scheduled_at   timestamptz,
  started_at     timestamptz,
  ended_at       timestamptz,
  stream_url     text,
  source_url     text,
  created_at     timestamptz NOT NULL DEFAULT now (),
  updated_at     timestamptz NOT NULL DEFAULT now (),
  CONSTRAINT live_streams_title_len CHECK (char_length (title) BETWEEN 1 AND 200),
  CONSTRAINT live_streams_description_len CHECK (char_length (description) <= 5000),
  CONSTRAINT live_streams_category_len CHECK (char_length (category) <= 64),
  -- Checked at the end of each statement, so that one statement can move a
  -- key from an ended broadcast to its successor.
  CONSTRAINT live_streams_stream_key_key UNIQUE (stream_key) DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX live_streams_user_id_idx ON live_streams (user_id, created_at DESC);
CREATE INDEX live_streams_is_live_idx ON live_streams (is_live) WHERE is_live;
CREATE INDEX live_streams_is_vod_idx ON live_streams (is_vod, ended_at DESC) WHERE is_vod;
CREATE INDEX live_streams_scheduled_at_idx ON live_streams (scheduled_at) WHERE scheduled_at IS NOT NULL;
CREATE INDEX live_streams_created_at_idx ON live_streams (created_at DESC);
