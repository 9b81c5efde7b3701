/* veza-streams-api.h — /api/v1/live/streams
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "veza-server-private.h"

G_BEGIN_DECLS

/* The columns every stream query selects, from live_streams s JOIN users u */
#define VEZA_STREAM_COLUMNS \
  "s.id, s.user_id, u.display_name AS streamer_name, s.title, s.description, s.category," \
  " array_to_json (s.tags) AS tags, s.thumbnail_url, s.stream_key, s.is_live, s.is_vod," \
  " s.viewer_count, s.scheduled_at, s.started_at, s.ended_at, s.stream_url, s.source_url," \
  " s.created_at, s.updated_at"

/* One stream by id ($1), every column above */
#define VEZA_STREAM_BY_ID_SQL \
  "SELECT " VEZA_STREAM_COLUMNS \
  " FROM live_streams s JOIN users u ON u.id = s.user_id WHERE s.id = $1"

void        veza_streams_api_register (VezaServer *server);
/* (transfer full): the public form, or the owner's form with stream_key,
 * rtmp_url and source_url */
JsonNode   *veza_stream_to_json       (VezaServer   *server,
                                       VezaDbResult *result,
                                       int           row,
                                       gboolean      owner_form);

G_END_DECLS
