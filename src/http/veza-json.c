/* veza-json.c — JSON helpers: envelopes, field validation, times
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-json.h"

#include <glib/gi18n.h>
#include <string.h>

static GBytes *
serialise (JsonNode *root)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  return g_bytes_new_take (text, len);
}

GBytes *
veza_json_envelope_success (JsonNode *data)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "success");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "data");
  if (data != NULL)
    json_builder_add_value (b, data);
  else
    {
      json_builder_begin_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  return serialise (root);
}

GBytes *
veza_json_envelope_error (const char *code,
                          const char *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "success");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  return serialise (root);
}

static JsonNode *
member (JsonObject *object,
        const char *name,
        VezaField  *state)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    *state = VEZA_FIELD_ABSENT;
  else if (JSON_NODE_HOLDS_NULL (node))
    *state = VEZA_FIELD_NULL;
  else
    *state = VEZA_FIELD_OK;
  return node;
}

static gboolean
is_string_node (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_STRING;
}

VezaField
veza_json_get_string (JsonObject  *object,
                      const char  *name,
                      guint        min_chars,
                      guint        max_chars,
                      const char **out,
                      char       **error_message)
{
  VezaField state;
  JsonNode *node = member (object, name, &state);
  const char *value;
  glong chars;

  if (state != VEZA_FIELD_OK)
    return state;

  if (!is_string_node (node))
    {
      *error_message = g_strdup_printf (_("%s must be a string"), name);
      return VEZA_FIELD_INVALID;
    }

  value = json_node_get_string (node);
  /* json-glib validates UTF-8 while parsing; NUL bytes inside strings are
   * refused here because they would truncate the value silently. */
  if (value == NULL || !g_utf8_validate (value, -1, NULL))
    {
      *error_message = g_strdup_printf (_("%s must be valid UTF-8"), name);
      return VEZA_FIELD_INVALID;
    }
  chars = g_utf8_strlen (value, -1);
  if ((guint) chars < min_chars || (guint) chars > max_chars)
    {
      if (min_chars > 0)
        *error_message = g_strdup_printf (_("%s must be %u to %u characters long"),
                                          name, min_chars, max_chars);
      else
        *error_message = g_strdup_printf (_("%s must be at most %u characters long"),
                                          name, max_chars);
      return VEZA_FIELD_INVALID;
    }

  *out = value;
  return VEZA_FIELD_OK;
}

VezaField
veza_json_get_string_array (JsonObject  *object,
                            const char  *name,
                            guint        max_items,
                            guint        max_chars,
                            GPtrArray  **out,
                            char       **error_message)
{
  VezaField state;
  JsonNode *node = member (object, name, &state);
  JsonArray *array;
  g_autoptr(GPtrArray) items = NULL;
  guint n;

  if (state != VEZA_FIELD_OK)
    return state;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      *error_message = g_strdup_printf (_("%s must be an array of strings"), name);
      return VEZA_FIELD_INVALID;
    }

  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n > max_items)
    {
      *error_message = g_strdup_printf (_("%s has more than %u items"), name, max_items);
      return VEZA_FIELD_INVALID;
    }

  items = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      const char *value;
      glong chars;

      if (!is_string_node (item))
        {
          *error_message = g_strdup_printf (_("%s must be an array of strings"), name);
          return VEZA_FIELD_INVALID;
        }
      value = json_node_get_string (item);
      chars = g_utf8_strlen (value, -1);
      if (chars < 1 || (guint) chars > max_chars)
        {
          *error_message = g_strdup_printf (_("each of %s must be 1 to %u characters long"),
                                            name, max_chars);
          return VEZA_FIELD_INVALID;
        }
      g_ptr_array_add (items, g_strdup (value));
    }

  *out = g_steal_pointer (&items);
  return VEZA_FIELD_OK;
}

VezaField
veza_json_get_int (JsonObject  *object,
                   const char  *name,
                   gint64       min,
                   gint64       max,
                   gint64      *out,
                   char       **error_message)
{
  VezaField state;
  JsonNode *node = member (object, name, &state);
  gint64 value;

  if (state != VEZA_FIELD_OK)
    return state;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      *error_message = g_strdup_printf (_("%s must be an integer"), name);
      return VEZA_FIELD_INVALID;
    }
  value = json_node_get_int (node);
  if (value < min || value > max)
    {
      /* The bounds as strings: a format macro inside a message would cut
       * it for translators. */
      g_autofree char *lo = g_strdup_printf ("%" G_GINT64_FORMAT, min);
      g_autofree char *hi = g_strdup_printf ("%" G_GINT64_FORMAT, max);

      *error_message = g_strdup_printf (_("%s must be between %s and %s"), name, lo, hi);
      return VEZA_FIELD_INVALID;
    }

  *out = value;
  return VEZA_FIELD_OK;
}

GDateTime *
veza_json_parse_time (const char *text)
{
  gsize len;

  if (text == NULL)
    return NULL;
  len = strlen (text);
  /* RFC 3339 requires the full date, a 'T' and an explicit offset; GLib's
   * ISO 8601 parser accepts more, so check the shape first. */
  if (len < 20 || len > 40 || (text[10] != 'T' && text[10] != 't'))
    return NULL;
  if (!(text[len - 1] == 'Z' || text[len - 1] == 'z' ||
        (len > 6 && (text[len - 6] == '+' || text[len - 6] == '-') && text[len - 3] == ':')))
    return NULL;

  return g_date_time_new_from_iso8601 (text, NULL);
}

char *
veza_json_format_time (GDateTime *time)
{
  g_autoptr(GDateTime) utc = g_date_time_to_utc (time);
  gint usec = g_date_time_get_microsecond (utc);
  g_autofree char *seconds = g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S");

  if (usec / 1000 == 0)
    return g_strconcat (seconds, "Z", NULL);
  return g_strdup_printf ("%s.%03dZ", seconds, usec / 1000);
}

char *
veza_json_time_from_db (const char *text)
{
  g_autofree char *iso = NULL;
  g_autoptr(GDateTime) dt = NULL;
  gsize len;

  if (text == NULL)
    return NULL;

  /* "2026-11-24 10:00:00.123456+00" → "2026-11-24T10:00:00.123456+00:00" */
  iso = g_strdup (text);
  if (strlen (iso) > 10 && iso[10] == ' ')
    iso[10] = 'T';
  len = strlen (iso);
  if (len > 3 && (iso[len - 3] == '+' || iso[len - 3] == '-'))
    {
      char *with_minutes = g_strconcat (iso, ":00", NULL);
      g_free (iso);
      iso = with_minutes;
    }

  dt = g_date_time_new_from_iso8601 (iso, NULL);
  if (dt == NULL)
    return NULL;
  return veza_json_format_time (dt);
}

gboolean
veza_json_is_uuid (const char *text)
{
  return text != NULL && strlen (text) == 36 && g_uuid_string_is_valid (text);
}

void
veza_json_builder_add_string_or_null (JsonBuilder *builder,
                                      const char  *name,
                                      const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}
