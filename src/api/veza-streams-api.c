/* veza-streams-api.c — /api/v1/live/streams
 *
 * Every handler validates all its input before touching the database, so a
 * client mistake changes nothing. Ownership is checked in SQL (the statement
 * that changes a row also requires the caller to own it); a second look tells
 * "not yours" (403) from "not there" (404).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-streams-api.h"
#include "veza-broadcasts.h"
#include "veza-json.h"
#include "veza-secret.h"

#include <glib/gi18n.h>
#include <string.h>

#define TITLE_MAX 200
#define DESCRIPTION_MAX 5000
#define CATEGORY_MAX 64
#define TAGS_MAX 10
#define TAG_MAX 32
#define URL_MAX 2048
#define LIST_LIMIT_DEFAULT 20
#define LIST_LIMIT_MAX 100
#define LIST_OFFSET_MAX 1000000

#define FROM_STREAMS " FROM live_streams s JOIN users u ON u.id = s.user_id"

typedef struct {
  VezaServer *server;
} Api;

/* ---- JSON -------------------------------------------------------------- */

static gboolean
db_bool (VezaDbResult *r,
         int           row,
         const char   *col)
{
  const char *v = veza_db_result_get (r, row, col);
  return v != NULL && v[0] == 't';
}

static void
add_time (JsonBuilder  *b,
          const char   *name,
          VezaDbResult *r,
          int           row)
{
  g_autofree char *t = veza_json_time_from_db (veza_db_result_get (r, row, name));
  veza_json_builder_add_string_or_null (b, name, t);
}

JsonNode *
veza_stream_to_json (VezaServer   *server,
                     VezaDbResult *r,
                     int           row,
                     gboolean      owner_form)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const char *id = veza_db_result_get (r, row, "id");
  const char *tags = veza_db_result_get (r, row, "tags");
  const char *stream_url = veza_db_result_get (r, row, "stream_url");
  VezaBroadcasts *broadcasts = veza_server_get_broadcasts (server);
  gint viewers = -1;

  json_builder_begin_object (b);
  veza_json_builder_add_string_or_null (b, "id", id);
  veza_json_builder_add_string_or_null (b, "user_id", veza_db_result_get (r, row, "user_id"));
  veza_json_builder_add_string_or_null (b, "streamer_name",
                                        veza_db_result_get (r, row, "streamer_name"));
  veza_json_builder_add_string_or_null (b, "title", veza_db_result_get (r, row, "title"));
  veza_json_builder_add_string_or_null (b, "description",
                                        veza_db_result_get (r, row, "description"));
  veza_json_builder_add_string_or_null (b, "category", veza_db_result_get (r, row, "category"));

  json_builder_set_member_name (b, "tags");
  {
    g_autoptr(JsonParser) parser = json_parser_new ();

    if (tags != NULL && json_parser_load_from_data (parser, tags, -1, NULL) &&
        JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)))
      json_builder_add_value (b, json_parser_steal_root (parser));
    else
      {
        json_builder_begin_array (b);
        json_builder_end_array (b);
      }
  }

  veza_json_builder_add_string_or_null (b, "thumbnail_url",
                                        veza_db_result_get (r, row, "thumbnail_url"));
  json_builder_set_member_name (b, "is_live");
  json_builder_add_boolean_value (b, db_bool (r, row, "is_live"));
  json_builder_set_member_name (b, "is_vod");
  json_builder_add_boolean_value (b, db_bool (r, row, "is_vod"));

  if (broadcasts != NULL && db_bool (r, row, "is_live"))
    viewers = veza_broadcasts_get_viewer_count (broadcasts, id);
  if (viewers < 0)
    viewers = (gint) g_ascii_strtoll (veza_db_result_get (r, row, "viewer_count"), NULL, 10);
  json_builder_set_member_name (b, "viewer_count");
  json_builder_add_int_value (b, MAX (viewers, 0));

  add_time (b, "scheduled_at", r, row);
  add_time (b, "started_at", r, row);
  add_time (b, "ended_at", r, row);

  if (stream_url != NULL && stream_url[0] == '/')
    {
      g_autofree char *url = g_strconcat (veza_server_get_public_url (server), stream_url, NULL);
      veza_json_builder_add_string_or_null (b, "stream_url", url);
    }
  else
    veza_json_builder_add_string_or_null (b, "stream_url", stream_url);

  add_time (b, "created_at", r, row);
  add_time (b, "updated_at", r, row);

  if (owner_form)
    {
      const char *key = veza_db_result_get (r, row, "stream_key");

      /* An ended broadcast whose key moved on holds a retired placeholder:
       * it is nobody's key, so it is not shown as one. */
      veza_json_builder_add_string_or_null (b, "stream_key",
                                            key != NULL && !g_str_has_prefix (key, "retired_")
                                            ? key : NULL);
      veza_json_builder_add_string_or_null (b, "rtmp_url",
                                            veza_server_get_rtmp_public_url (server));
      veza_json_builder_add_string_or_null (b, "source_url",
                                            veza_db_result_get (r, row, "source_url"));
    }
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

static JsonNode *
wrap (const char *name,
      JsonNode   *value)
{
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_member (o, name, value);
  json_node_take_object (node, o);
  return node;
}

static JsonNode *
key_json (VezaServer   *server,
          VezaDbResult *r)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  veza_json_builder_add_string_or_null (b, "stream_id", veza_db_result_get (r, 0, "id"));
  veza_json_builder_add_string_or_null (b, "stream_key", veza_db_result_get (r, 0, "stream_key"));
  veza_json_builder_add_string_or_null (b, "rtmp_url", veza_server_get_rtmp_public_url (server));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- request plumbing -------------------------------------------------- */

typedef struct {
  Api         *api;
  VezaRequest *request;
  char        *id;
  guint        status;
  gboolean     owner_form;
} Op;

static Op *
op_new (Api         *api,
        VezaRequest *request)
{
  Op *op = g_new0 (Op, 1);

  op->api = api;
  op->request = veza_request_ref (request);
  op->status = SOUP_STATUS_OK;
  return op;
}

static void
op_free (Op *op)
{
  veza_request_unref (op->request);
  g_free (op->id);
  g_free (op);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Op, op_free)

static VezaDb *
db_of (Op *op)
{
  return veza_server_get_db (op->api->server);
}

static void
bad_request (VezaRequest *request,
             const char  *message)
{
  veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request", message);
}

static void
not_found (VezaRequest *request)
{
  veza_request_respond_error (request, SOUP_STATUS_NOT_FOUND, "not_found",
                              _("No such stream"));
}

/* The {id} path parameter; answers 400 and returns NULL when malformed. */
static const char *
stream_id_param (VezaRequest *request)
{
  const char *id = veza_request_get_param (request, "id");

  g_autofree char *lower = NULL;

  if (!veza_json_is_uuid (id))
    {
      bad_request (request, _("The stream id is not a valid UUID"));
      return NULL;
    }
  /* One spelling from here on, the database's (lower case): broadcasts,
   * media folders and chat rooms are keyed by it. */
  lower = g_ascii_strdown (id, -1);
  veza_request_set_param (request, "id", lower);
  return veza_request_get_param (request, "id");
}

/* Answers the single stream row of a result (or 404). */
static void
on_single_stream (GObject      *source,
                  GAsyncResult *res,
                  gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (r == NULL)
    veza_request_respond_db_error (op->request, error);
  else if (veza_db_result_n_rows (r) == 0)
    not_found (op->request);
  else
    veza_request_respond_json (op->request, op->status,
                               op->owner_form
                               ? veza_stream_to_json (op->api->server, r, 0, TRUE)
                               : wrap ("stream", veza_stream_to_json (op->api->server, r, 0, FALSE)));
}

/* ---- fields shared by create and update -------------------------------- */

typedef struct {
  /* each: present? and value (NULL = SQL NULL) */
  gboolean  has_title, has_description, has_category, has_tags, has_thumbnail,
            has_scheduled, has_source;
  const char *title, *description, *category, *thumbnail, *source;
  char      *tags_json;
  char      *scheduled;
} Fields;

static void
fields_clear (Fields *f)
{
  g_free (f->tags_json);
  g_free (f->scheduled);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Fields, fields_clear)

static gboolean
url_ok (const char *url,
        gboolean    rtmp)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (url == NULL)
    return FALSE;
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    return FALSE;
  scheme = g_uri_get_scheme (uri);
  if (rtmp)
    return g_ascii_strcasecmp (scheme, "rtmp") == 0 || g_ascii_strcasecmp (scheme, "rtmps") == 0;
  return g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0;
}

/* Reads and validates the stream fields of @body. Answers 400 and returns
 * FALSE on any problem. */
static gboolean
read_fields (VezaRequest *request,
             JsonObject  *body,
             gboolean     creating,
             Fields      *f)
{
  g_autofree char *msg = NULL;
  g_autoptr(GPtrArray) tags = NULL;
  const char *scheduled = NULL;
  VezaField st;

  st = veza_json_get_string (body, "title", 1, TITLE_MAX, &f->title, &msg);
  if (st == VEZA_FIELD_INVALID || st == VEZA_FIELD_NULL ||
      (creating && st == VEZA_FIELD_ABSENT))
    {
      bad_request (request, msg != NULL ? msg : _("title is required (1 to 200 characters)"));
      return FALSE;
    }
  f->has_title = st == VEZA_FIELD_OK;
  if (f->has_title)
    {
      /* Only white space: as empty as an empty title. */
      g_autofree char *copy = g_strdup (f->title);

      if (g_strstrip (copy)[0] == '\0')
        {
          bad_request (request, _("title must not be blank"));
          return FALSE;
        }
    }

  st = veza_json_get_string (body, "description", 0, DESCRIPTION_MAX, &f->description, &msg);
  if (st == VEZA_FIELD_INVALID)
    {
      bad_request (request, msg);
      return FALSE;
    }
  f->has_description = st != VEZA_FIELD_ABSENT;
  if (st == VEZA_FIELD_NULL)
    f->description = "";

  st = veza_json_get_string (body, "category", 0, CATEGORY_MAX, &f->category, &msg);
  if (st == VEZA_FIELD_INVALID)
    {
      bad_request (request, msg);
      return FALSE;
    }
  f->has_category = st != VEZA_FIELD_ABSENT;
  if (st == VEZA_FIELD_NULL)
    f->category = "";

  st = veza_json_get_string_array (body, "tags", TAGS_MAX, TAG_MAX, &tags, &msg);
  if (st == VEZA_FIELD_INVALID)
    {
      bad_request (request, msg);
      return FALSE;
    }
  f->has_tags = st != VEZA_FIELD_ABSENT;
  if (f->has_tags)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; tags != NULL && i < tags->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (tags, i));
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      f->tags_json = json_generator_to_data (gen, NULL);
    }

  st = veza_json_get_string (body, "thumbnail_url", 0, URL_MAX, &f->thumbnail, &msg);
  if (st == VEZA_FIELD_INVALID)
    {
      bad_request (request, msg);
      return FALSE;
    }
  if (st == VEZA_FIELD_OK && f->thumbnail[0] != '\0' && !url_ok (f->thumbnail, FALSE))
    {
      bad_request (request, _("thumbnail_url must be an http or https URL"));
      return FALSE;
    }
  f->has_thumbnail = st != VEZA_FIELD_ABSENT;
  if (st == VEZA_FIELD_OK && f->thumbnail[0] == '\0')
    f->thumbnail = NULL;

  st = veza_json_get_string (body, "source_url", 0, URL_MAX, &f->source, &msg);
  if (st == VEZA_FIELD_INVALID)
    {
      bad_request (request, msg);
      return FALSE;
    }
  if (st == VEZA_FIELD_OK && f->source[0] != '\0' && !url_ok (f->source, TRUE))
    {
      bad_request (request, _("source_url must be an rtmp:// or rtmps:// URL"));
      return FALSE;
    }
  f->has_source = st != VEZA_FIELD_ABSENT;
  if (st == VEZA_FIELD_OK && f->source[0] == '\0')
    f->source = NULL;

  st = veza_json_get_string (body, "scheduled_at", 1, 64, &scheduled, &msg);
  if (st == VEZA_FIELD_INVALID)
    {
      bad_request (request, _("scheduled_at must be an RFC 3339 time"));
      return FALSE;
    }
  f->has_scheduled = st != VEZA_FIELD_ABSENT;
  if (st == VEZA_FIELD_OK)
    {
      g_autoptr(GDateTime) when = veza_json_parse_time (scheduled);
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

      if (when == NULL)
        {
          bad_request (request, _("scheduled_at must be an RFC 3339 time"));
          return FALSE;
        }
      if (g_date_time_compare (when, now) <= 0)
        {
          bad_request (request, _("scheduled_at must be in the future"));
          return FALSE;
        }
      f->scheduled = g_date_time_format_iso8601 (when);
    }

  return TRUE;
}

/* ---- GET /api/v1/live/streams ------------------------------------------ */

static gboolean
parse_bool (const char *text,
            const char **out)
{
  if (text == NULL)
    {
      *out = NULL;
      return TRUE;
    }
  if (g_ascii_strcasecmp (text, "true") == 0 || g_str_equal (text, "1"))
    *out = "true";
  else if (g_ascii_strcasecmp (text, "false") == 0 || g_str_equal (text, "0"))
    *out = "false";
  else
    return FALSE;
  return TRUE;
}

static gboolean
parse_uint (const char *text,
            guint64     min,
            guint64     max,
            guint64     fallback,
            guint64    *out)
{
  if (text == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  return g_ascii_string_to_unsigned (text, 10, min, max, out, NULL);
}

typedef struct {
  Op      *op;
  guint64  limit;
  guint64  offset;
} ListOp;

static void
on_list (GObject      *source,
         GAsyncResult *res,
         gpointer      user_data)
{
  ListOp *lop = user_data;
  g_autoptr(Op) op = lop->op;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  g_autoptr(JsonBuilder) b = NULL;
  int n;
  gint64 total = 0;

  if (r == NULL)
    {
      veza_request_respond_db_error (op->request, error);
      g_free (lop);
      return;
    }

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  n = veza_db_result_n_rows (r);
  for (int i = 0; i < n; i++)
    {
      if (i == 0)
        total = g_ascii_strtoll (veza_db_result_get (r, 0, "total"), NULL, 10);
      /* The LEFT JOIN gives one row of NULLs when the page is empty. */
      if (veza_db_result_get (r, i, "id") == NULL)
        continue;
      json_builder_add_value (b, veza_stream_to_json (op->api->server, r, i, FALSE));
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "total");
  json_builder_add_int_value (b, total);
  json_builder_set_member_name (b, "limit");
  json_builder_add_int_value (b, (gint64) lop->limit);
  json_builder_set_member_name (b, "offset");
  json_builder_add_int_value (b, (gint64) lop->offset);
  json_builder_end_object (b);

  veza_request_respond_json (op->request, SOUP_STATUS_OK, json_builder_get_root (b));
  g_free (lop);
}

static void
handle_list (VezaRequest *request,
             gpointer     user_data)
{
  Api *api = user_data;
  const char *is_live = NULL, *is_vod = NULL, *scheduled = NULL;
  const char *user_id = veza_request_get_query (request, "user_id");
  guint64 limit, offset;
  g_autofree char *limit_s = NULL, *offset_s = NULL;
  const char *params[6];
  ListOp *lop;

  if (!parse_bool (veza_request_get_query (request, "is_live"), &is_live) ||
      !parse_bool (veza_request_get_query (request, "is_vod"), &is_vod) ||
      !parse_bool (veza_request_get_query (request, "scheduled"), &scheduled))
    {
      bad_request (request, _("is_live, is_vod and scheduled take true or false"));
      return;
    }
  if (user_id != NULL && !veza_json_is_uuid (user_id))
    {
      bad_request (request, _("user_id is not a valid UUID"));
      return;
    }
  if (!parse_uint (veza_request_get_query (request, "limit"), 1, LIST_LIMIT_MAX,
                   LIST_LIMIT_DEFAULT, &limit))
    {
      bad_request (request, _("limit must be an integer from 1 to 100"));
      return;
    }
  if (!parse_uint (veza_request_get_query (request, "offset"), 0, LIST_OFFSET_MAX, 0, &offset))
    {
      bad_request (request, _("offset must be a non-negative integer"));
      return;
    }

  limit_s = g_strdup_printf ("%" G_GUINT64_FORMAT, limit);
  offset_s = g_strdup_printf ("%" G_GUINT64_FORMAT, offset);
  params[0] = is_live;
  params[1] = is_vod;
  params[2] = scheduled;
  params[3] = user_id;
  params[4] = limit_s;
  params[5] = offset_s;

  lop = g_new0 (ListOp, 1);
  lop->op = op_new (api, request);
  lop->limit = limit;
  lop->offset = offset;

  veza_db_query_async (veza_server_get_db (api->server),
                       "WITH f AS ("
                       "  SELECT s.id, s.created_at, s.scheduled_at FROM live_streams s"
                       "  WHERE ($1::boolean IS NULL OR s.is_live = $1::boolean)"
                       "    AND ($2::boolean IS NULL OR s.is_vod = $2::boolean)"
                       "    AND ($3::boolean IS NULL OR"
                       "         ($3::boolean AND s.scheduled_at > now () AND NOT s.is_live"
                       "            AND s.ended_at IS NULL) OR"
                       "         (NOT $3::boolean AND (s.scheduled_at IS NULL OR s.scheduled_at <= now ())))"
                       "    AND ($4::uuid IS NULL OR s.user_id = $4::uuid)),"
                       " page AS ("
                       "  SELECT f.id FROM f"
                       "  ORDER BY CASE WHEN $3::boolean THEN f.scheduled_at END ASC,"
                       "           f.created_at DESC, f.id"
                       "  LIMIT $5::int OFFSET $6::int)"
                       " SELECT t.total, p.* FROM (SELECT count (*) AS total FROM f) t"
                       " LEFT JOIN LATERAL (SELECT " VEZA_STREAM_COLUMNS FROM_STREAMS
                       "   JOIN page ON page.id = s.id"
                       "   ORDER BY CASE WHEN $3::boolean THEN s.scheduled_at END ASC,"
                       "            s.created_at DESC, s.id) p ON true",
                       6, params, NULL, on_list, lop);
}

/* ---- GET /api/v1/live/streams/{id} ------------------------------------- */

static void
handle_get (VezaRequest *request,
            gpointer     user_data)
{
  Api *api = user_data;
  const char *id = stream_id_param (request);
  const char *params[1];

  if (id == NULL)
    return;
  params[0] = id;
  veza_db_query_async (veza_server_get_db (api->server),
                       VEZA_STREAM_BY_ID_SQL,
                       1, params, NULL, on_single_stream, op_new (api, request));
}

/* ---- POST /api/v1/live/streams ----------------------------------------- */

static void
handle_create (VezaRequest *request,
               gpointer     user_data)
{
  Api *api = user_data;
  JsonObject *body = veza_request_get_json_object (request);
  g_auto(Fields) f = { 0 };
  g_autofree char *key = NULL;
  const char *params[9];
  Op *op;

  if (body == NULL || !read_fields (request, body, TRUE, &f))
    return;

  key = veza_secret_new_stream_key ();
  params[0] = veza_request_get_user_id (request);
  params[1] = f.title;
  params[2] = f.has_description ? f.description : "";
  params[3] = f.has_category ? f.category : "";
  params[4] = f.tags_json != NULL ? f.tags_json : "[]";
  params[5] = f.thumbnail;
  params[6] = f.scheduled;
  params[7] = key;
  params[8] = f.source;

  op = op_new (api, request);
  op->status = SOUP_STATUS_CREATED;
  op->owner_form = TRUE;
  veza_db_query_async (veza_server_get_db (api->server),
                       "WITH s AS ("
                       "  INSERT INTO live_streams (user_id, title, description, category, tags,"
                       "                            thumbnail_url, scheduled_at, stream_key, source_url)"
                       "  VALUES ($1, $2, $3, $4,"
                       "          ARRAY (SELECT json_array_elements_text ($5::json)),"
                       "          $6, $7::timestamptz, $8, $9)"
                       "  RETURNING *)"
                       " SELECT " VEZA_STREAM_COLUMNS " FROM s JOIN users u ON u.id = s.user_id",
                       9, params, NULL, on_single_stream, op);
}

/* ---- ownership --------------------------------------------------------- */

/* After a statement restricted to the owner touched no row: 404 or 403. */
static void
on_owner_probe (GObject      *source,
                GAsyncResult *res,
                gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (r == NULL)
    veza_request_respond_db_error (op->request, error);
  else if (veza_db_result_n_rows (r) == 0)
    not_found (op->request);
  else
    veza_request_respond_error (op->request, SOUP_STATUS_FORBIDDEN, "forbidden",
                                _("Only the stream's owner may do that"));
}

static void
answer_not_owner_or_missing (Op *op)
{
  const char *params[1] = { op->id };

  veza_db_query_async (db_of (op), "SELECT 1 FROM live_streams WHERE id = $1",
                       1, params, NULL, on_owner_probe, op);
}

/* ---- PUT /api/v1/live/streams/{id} ------------------------------------- */

static void
on_updated (GObject      *source,
            GAsyncResult *res,
            gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  g_autoptr(JsonNode) public_form = NULL;

  if (r == NULL)
    {
      veza_request_respond_db_error (op->request, error);
      return;
    }
  if (veza_db_result_n_rows (r) == 0)
    {
      answer_not_owner_or_missing (g_steal_pointer (&op));
      return;
    }

  public_form = veza_stream_to_json (op->api->server, r, 0, FALSE);
  veza_server_emit_stream_event (op->api->server, "stream-updated", op->id,
                                 json_node_get_object (public_form));
  veza_request_respond_json (op->request, SOUP_STATUS_OK,
                             veza_stream_to_json (op->api->server, r, 0, TRUE));
}

static void
handle_update (VezaRequest *request,
               gpointer     user_data)
{
  Api *api = user_data;
  const char *id = stream_id_param (request);
  JsonObject *body;
  g_auto(Fields) f = { 0 };
  const char *params[16];
  Op *op;

  if (id == NULL)
    return;
  body = veza_request_get_json_object (request);
  if (body == NULL || !read_fields (request, body, FALSE, &f))
    return;

  params[0] = id;
  params[1] = veza_request_get_user_id (request);
  params[2] = f.has_title ? "t" : "f";
  params[3] = f.title;
  params[4] = f.has_description ? "t" : "f";
  params[5] = f.description;
  params[6] = f.has_category ? "t" : "f";
  params[7] = f.category;
  params[8] = f.has_tags ? "t" : "f";
  params[9] = f.tags_json != NULL ? f.tags_json : "[]";
  params[10] = f.has_thumbnail ? "t" : "f";
  params[11] = f.thumbnail;
  params[12] = f.has_scheduled ? "t" : "f";
  params[13] = f.scheduled;
  params[14] = f.has_source ? "t" : "f";
  params[15] = f.source;

  op = op_new (api, request);
  op->id = g_strdup (id);
  veza_db_query_async (veza_server_get_db (api->server),
                       "WITH s AS ("
                       "  UPDATE live_streams SET"
                       "    title = CASE WHEN $3::boolean THEN $4 ELSE title END,"
                       "    description = CASE WHEN $5::boolean THEN $6 ELSE description END,"
                       "    category = CASE WHEN $7::boolean THEN $8 ELSE category END,"
                       "    tags = CASE WHEN $9::boolean"
                       "             THEN ARRAY (SELECT json_array_elements_text ($10::json))"
                       "             ELSE tags END,"
                       "    thumbnail_url = CASE WHEN $11::boolean THEN $12 ELSE thumbnail_url END,"
                       "    scheduled_at = CASE WHEN $13::boolean THEN $14::timestamptz ELSE scheduled_at END,"
                       "    source_url = CASE WHEN $15::boolean THEN $16 ELSE source_url END,"
                       "    updated_at = now ()"
                       "  WHERE id = $1 AND user_id = $2"
                       "  RETURNING *)"
                       " SELECT " VEZA_STREAM_COLUMNS " FROM s JOIN users u ON u.id = s.user_id",
                       16, params, NULL, on_updated, op);
}

/* ---- DELETE /api/v1/live/streams/{id} and POST …/stop ------------------- */

static void
on_deleted (GObject      *source,
            GAsyncResult *res,
            gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (r == NULL)
    {
      veza_request_respond_db_error (op->request, error);
      return;
    }
  if (veza_db_result_n_rows (r) == 0)
    {
      /* Someone else deleted it meanwhile. */
      not_found (op->request);
      return;
    }
  veza_broadcasts_delete_media (veza_server_get_broadcasts (op->api->server), op->id);
  g_message ("stream %s deleted", op->id);
  veza_request_respond_json (op->request, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
delete_row (Op *op)
{
  const char *params[2] = { op->id, veza_request_get_user_id (op->request) };

  veza_db_query_async (db_of (op),
                       "DELETE FROM live_streams WHERE id = $1 AND user_id = $2 RETURNING id",
                       2, params, NULL, on_deleted, op);
}

static void
on_ended_for_delete (GObject      *source,
                     GAsyncResult *res,
                     gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;

  /* Not live any more is fine: it is being deleted anyway. */
  if (!veza_broadcasts_end_finish (veza_server_get_broadcasts (op->api->server), res, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED))
    {
      if (error->domain == VEZA_DB_ERROR)
        veza_request_respond_db_error (op->request, error);
      else
        veza_request_respond_error (op->request, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                                    _("The broadcast could not be stopped"));
      return;
    }
  delete_row (g_steal_pointer (&op));
}

static void
on_ended (GObject      *source,
          GAsyncResult *res,
          gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  const char *params[1];
  VezaDb *db;

  if (!veza_broadcasts_end_finish (veza_server_get_broadcasts (op->api->server), res, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED))
        veza_request_respond_error (op->request, SOUP_STATUS_CONFLICT, "conflict",
                                    _("The stream is not live"));
      else if (error->domain == VEZA_DB_ERROR)
        veza_request_respond_db_error (op->request, error);
      else
        veza_request_respond_error (op->request, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                                    _("The broadcast could not be stopped"));
      return;
    }

  params[0] = op->id;
  op->owner_form = TRUE;
  db = db_of (op);
  veza_db_query_async (db,
                       VEZA_STREAM_BY_ID_SQL,
                       1, params, NULL, on_single_stream, g_steal_pointer (&op));
}

typedef enum { OWNED_DELETE, OWNED_STOP, OWNED_START } OwnedAction;

typedef struct {
  Op          *op;
  OwnedAction  action;
} OwnedOp;

static void
on_pull_started (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  const char *params[1];
  VezaDb *db;
  char *live_id = veza_broadcasts_start_pull_finish (veza_server_get_broadcasts (op->api->server),
                                                     res, &error);

  if (live_id == NULL)
    {
      if (error->domain == VEZA_DB_ERROR)
        veza_request_respond_db_error (op->request, error);
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        veza_request_respond_error (op->request, SOUP_STATUS_CONFLICT, "conflict",
                                    _("The stream is already live"));
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
        veza_request_respond_error (op->request, SOUP_STATUS_CONFLICT, "conflict",
                                    _("The stream has no source_url to pull from"));
      else
        veza_request_respond_error (op->request, SOUP_STATUS_BAD_GATEWAY, "upstream_failed",
                                    error->message);
      return;
    }

  /* Starting an ended stream starts its successor: answer with that. */
  g_free (op->id);
  op->id = live_id;
  params[0] = op->id;
  op->owner_form = TRUE;
  db = db_of (op);
  veza_db_query_async (db,
                       VEZA_STREAM_BY_ID_SQL,
                       1, params, NULL, on_single_stream, g_steal_pointer (&op));
}

static void
on_ownership (GObject      *source,
              GAsyncResult *res,
              gpointer      user_data)
{
  OwnedOp *oop = user_data;
  g_autoptr(Op) op = oop->op;
  OwnedAction action = oop->action;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  VezaBroadcasts *broadcasts = veza_server_get_broadcasts (op->api->server);
  const char *id;

  g_free (oop);
  if (r == NULL)
    {
      veza_request_respond_db_error (op->request, error);
      return;
    }
  if (veza_db_result_n_rows (r) == 0)
    {
      not_found (op->request);
      return;
    }
  if (g_strcmp0 (veza_db_result_get (r, 0, "user_id"), veza_request_get_user_id (op->request)) != 0)
    {
      veza_request_respond_error (op->request, SOUP_STATUS_FORBIDDEN, "forbidden",
                                  _("Only the stream's owner may do that"));
      return;
    }

  id = op->id;
  switch (action)
    {
    case OWNED_DELETE:
      if (veza_db_result_get (r, 0, "is_live")[0] == 't')
        veza_broadcasts_end_async (broadcasts, id, on_ended_for_delete, g_steal_pointer (&op));
      else
        delete_row (g_steal_pointer (&op));
      break;
    case OWNED_STOP:
      veza_broadcasts_end_async (broadcasts, id, on_ended, g_steal_pointer (&op));
      break;
    case OWNED_START:
      veza_broadcasts_start_pull_async (broadcasts, id, on_pull_started, g_steal_pointer (&op));
      break;
    }
}

static void
owned_action (Api         *api,
              VezaRequest *request,
              OwnedAction  action)
{
  const char *id = stream_id_param (request);
  const char *params[1];
  OwnedOp *oop;

  if (id == NULL)
    return;
  oop = g_new0 (OwnedOp, 1);
  oop->op = op_new (api, request);
  oop->op->id = g_strdup (id);
  oop->action = action;
  params[0] = id;
  veza_db_query_async (veza_server_get_db (api->server),
                       "SELECT user_id, is_live FROM live_streams WHERE id = $1",
                       1, params, NULL, on_ownership, oop);
}

static void
handle_delete (VezaRequest *request,
               gpointer     user_data)
{
  owned_action (user_data, request, OWNED_DELETE);
}

static void
handle_stop (VezaRequest *request,
             gpointer     user_data)
{
  owned_action (user_data, request, OWNED_STOP);
}

static void
handle_start (VezaRequest *request,
              gpointer     user_data)
{
  owned_action (user_data, request, OWNED_START);
}

/* ---- GET /api/v1/live/streams/me ---------------------------------------- */

static void
on_mine (GObject      *source,
         GAsyncResult *res,
         gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  g_autoptr(JsonBuilder) b = NULL;
  int n;

  if (r == NULL)
    {
      veza_request_respond_db_error (op->request, error);
      return;
    }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  n = veza_db_result_n_rows (r);
  for (int i = 0; i < n; i++)
    json_builder_add_value (b, veza_stream_to_json (op->api->server, r, i, TRUE));
  json_builder_end_array (b);
  json_builder_end_object (b);
  veza_request_respond_json (op->request, SOUP_STATUS_OK, json_builder_get_root (b));
}

static void
handle_mine (VezaRequest *request,
             gpointer     user_data)
{
  Api *api = user_data;
  const char *params[1] = { veza_request_get_user_id (request) };

  veza_db_query_async (veza_server_get_db (api->server),
                       "SELECT " VEZA_STREAM_COLUMNS FROM_STREAMS
                       " WHERE s.user_id = $1 ORDER BY s.created_at DESC, s.id",
                       1, params, NULL, on_mine, op_new (api, request));
}

/* ---- /me/key and /me/key/regenerate ------------------------------------- */

static void
on_key (GObject      *source,
        GAsyncResult *res,
        gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (r == NULL)
    veza_request_respond_db_error (op->request, error);
  else if (veza_db_result_n_rows (r) == 0)
    veza_request_respond_error (op->request, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                                _("Try again"));
  else
    veza_request_respond_json (op->request, SOUP_STATUS_OK, key_json (op->api->server, r));
}

/* The user's current stream is the newest one that has not ended. When
 * there is none, a draft takes its place: it inherits the key and the
 * metadata of the user's last ended broadcast (so the key in OBS stays the
 * one shown), or gets "My Stream" and a new key for a first stream. With
 * @regenerate the current (or new draft's) key is a new one and the
 * previous key stops working. One statement: the key moves within it (the
 * uniqueness check runs at its end), and a draft is only made when no
 * current row exists. */
static void
current_key (Api         *api,
             VezaRequest *request,
             gboolean     regenerate)
{
  g_autofree char *new_key = veza_secret_new_stream_key ();
  g_autofree char *draft_key = veza_secret_new_stream_key ();
  g_autofree char *retired = veza_secret_new_stream_key ();
  g_autofree char *retired_key = g_strconcat ("retired_", retired, NULL);
  const char *params[5] = {
    veza_request_get_user_id (request), regenerate ? "t" : "f", new_key, draft_key, retired_key
  };

  veza_db_query_async (veza_server_get_db (api->server),
                       "WITH cur AS ("
                       "  SELECT id FROM live_streams"
                       "  WHERE user_id = $1 AND ended_at IS NULL"
                       "  ORDER BY created_at DESC, id LIMIT 1 FOR UPDATE),"
                       " prev AS ("
                       "  SELECT * FROM live_streams"
                       "  WHERE user_id = $1 AND ended_at IS NOT NULL"
                       "    AND stream_key NOT LIKE 'retired\\_%'"
                       "    AND NOT EXISTS (SELECT 1 FROM cur)"
                       "  ORDER BY ended_at DESC, id LIMIT 1 FOR UPDATE),"
                       " upd AS ("
                       "  UPDATE live_streams SET stream_key = $3, updated_at = now ()"
                       "  WHERE $2::boolean AND id IN (SELECT id FROM cur)"
                       "  RETURNING id, stream_key),"
                       " retire AS ("
                       "  UPDATE live_streams SET stream_key = $5, updated_at = now ()"
                       "  WHERE id IN (SELECT id FROM prev)"
                       "  RETURNING id),"
                       " ins AS ("
                       "  INSERT INTO live_streams (user_id, title, description, category, tags,"
                       "                            thumbnail_url, source_url, stream_key)"
                       "  SELECT $1, COALESCE (prev.title, 'My Stream'),"
                       "         COALESCE (prev.description, ''), COALESCE (prev.category, ''),"
                       "         COALESCE (prev.tags, '{}'), prev.thumbnail_url, prev.source_url,"
                       "         CASE WHEN $2::boolean THEN $3"
                       "              ELSE COALESCE (prev.stream_key, $4) END"
                       "  FROM (SELECT 1) AS one LEFT JOIN prev ON true"
                       "  WHERE NOT EXISTS (SELECT 1 FROM cur)"
                       "  RETURNING id, stream_key)"
                       " SELECT id, stream_key FROM upd"
                       " UNION ALL SELECT id, stream_key FROM ins"
                       " UNION ALL SELECT s.id, s.stream_key FROM live_streams s"
                       "   WHERE s.id IN (SELECT id FROM cur) AND NOT $2::boolean",
                       5, params, NULL, on_key, op_new (api, request));
}

static void
handle_my_key (VezaRequest *request,
               gpointer     user_data)
{
  current_key (user_data, request, FALSE);
}

static void
handle_regenerate (VezaRequest *request,
                   gpointer     user_data)
{
  current_key (user_data, request, TRUE);
}

/* ---- GET /api/v1/live/streams/{id}/viewers ------------------------------ */

static void
on_viewers (GObject      *source,
            GAsyncResult *res,
            gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  g_autoptr(JsonBuilder) b = NULL;
  gint count = -1;

  if (r == NULL)
    {
      veza_request_respond_db_error (op->request, error);
      return;
    }
  if (veza_db_result_n_rows (r) == 0)
    {
      not_found (op->request);
      return;
    }
  if (veza_db_result_get (r, 0, "is_live")[0] == 't')
    count = veza_broadcasts_get_viewer_count (veza_server_get_broadcasts (op->api->server), op->id);
  if (count < 0)
    count = (gint) g_ascii_strtoll (veza_db_result_get (r, 0, "viewer_count"), NULL, 10);
  if (veza_db_result_get (r, 0, "is_live")[0] != 't')
    count = 0;

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "viewer_count");
  json_builder_add_int_value (b, MAX (count, 0));
  json_builder_end_object (b);
  veza_request_set_response_header (op->request, "Cache-Control", "no-cache");
  veza_request_respond_json (op->request, SOUP_STATUS_OK, json_builder_get_root (b));
}

static void
handle_viewers (VezaRequest *request,
                gpointer     user_data)
{
  Api *api = user_data;
  const char *id = stream_id_param (request);
  const char *params[1];
  Op *op;

  if (id == NULL)
    return;
  params[0] = id;
  op = op_new (api, request);
  op->id = g_strdup (id);
  veza_db_query_async (veza_server_get_db (api->server),
                       "SELECT is_live, viewer_count FROM live_streams WHERE id = $1",
                       1, params, NULL, on_viewers, op);
}

/* ---- registration ------------------------------------------------------ */

void
veza_streams_api_register (VezaServer *server)
{
  VezaHttpServer *http = veza_server_get_http (server);
  Api *api = g_new0 (Api, 1);

  api->server = server;

#define ROUTE(method, path, flags, handler) \
  veza_http_server_add_route (http, method, "/api/v1/live/streams" path, flags, handler, api, NULL)
  ROUTE ("GET", "", VEZA_ROUTE_NONE, handle_list);
  ROUTE ("POST", "", VEZA_ROUTE_AUTH, handle_create);
  ROUTE ("GET", "/me", VEZA_ROUTE_AUTH, handle_mine);
  ROUTE ("GET", "/me/key", VEZA_ROUTE_AUTH, handle_my_key);
  ROUTE ("POST", "/me/key/regenerate", VEZA_ROUTE_AUTH, handle_regenerate);
  ROUTE ("GET", "/{id}", VEZA_ROUTE_NONE, handle_get);
  ROUTE ("PUT", "/{id}", VEZA_ROUTE_AUTH, handle_update);
  ROUTE ("DELETE", "/{id}", VEZA_ROUTE_AUTH, handle_delete);
  ROUTE ("POST", "/{id}/stop", VEZA_ROUTE_AUTH, handle_stop);
  ROUTE ("POST", "/{id}/start", VEZA_ROUTE_AUTH, handle_start);
#undef ROUTE
  /* The last route owns @api: it is freed with the server's routes. */
  veza_http_server_add_route (http, "GET", "/api/v1/live/streams/{id}/viewers",
                              VEZA_ROUTE_NONE, handle_viewers, api, g_free);
}
