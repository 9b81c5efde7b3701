/* veza-json.h — JSON helpers: envelopes, field validation, times
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Serialise @node (consumed) into {"success":true,"data":node} */
GBytes     *veza_json_envelope_success (JsonNode   *data);
GBytes     *veza_json_envelope_error   (const char *code,
                                        const char *message);

/* Result of reading an optional field of a request object. */
typedef enum {
  VEZA_FIELD_ABSENT,   /* not present */
  VEZA_FIELD_NULL,     /* present and JSON null */
  VEZA_FIELD_OK,       /* present with the right type and bounds */
  VEZA_FIELD_INVALID,  /* wrong type or out of bounds; *error_message set */
} VezaField;

VezaField   veza_json_get_string  (JsonObject  *object,
                                   const char  *name,
                                   guint        min_chars,
                                   guint        max_chars,
                                   const char **out,
                                   char       **error_message);
VezaField   veza_json_get_string_array (JsonObject  *object,
                                        const char  *name,
                                        guint        max_items,
                                        guint        max_chars,
                                        GPtrArray  **out,
                                        char       **error_message);
VezaField   veza_json_get_int     (JsonObject  *object,
                                   const char  *name,
                                   gint64       min,
                                   gint64       max,
                                   gint64      *out,
                                   char       **error_message);

/* Parses an RFC 3339 date-time with an explicit offset; NULL if invalid. */
GDateTime  *veza_json_parse_time  (const char *text);
/* Formats as 2026-11-24T10:00:00Z (or with milliseconds when present) */
char       *veza_json_format_time (GDateTime  *time);
/* PostgreSQL timestamptz text ("2026-11-24 10:00:00.123+00") → RFC 3339 UTC */
char       *veza_json_time_from_db (const char *text);

gboolean    veza_json_is_uuid     (const char *text);

void        veza_json_builder_add_string_or_null (JsonBuilder *builder,
                                                  const char  *name,
                                                  const char  *value);

G_END_DECLS
