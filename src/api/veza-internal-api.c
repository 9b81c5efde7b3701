/* veza-internal-api.c — the internal API for external ingest servers
 *
 * POST /internal/stream-events: an external ingest reports lifecycle events,
 * authenticated by the X-Internal-Token header. POST /internal/rtmp/on_publish
 * and on_publish_done: nginx-rtmp's callbacks (form-encoded, the secret in
 * ?token=), so that an nginx-rtmp edge accepts exactly Veza's stream keys;
 * on an accepted publish Veza pulls the stream from the edge.
 *
 * Everything here is refused while no internal-token is configured.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-internal-api.h"
#include "veza-broadcasts.h"
#include "veza-json.h"
#include "veza-streams-api.h"

#include <glib/gi18n.h>
#include <string.h>

#define MAX_FORM_VALUE 512

typedef struct {
  VezaServer *server;
} Api;

/* Checks the secret; answers and returns FALSE when it does not match. */
static gboolean
check_token (Api         *api,
             VezaRequest *request,
             const char  *given)
{
  const char *secret = veza_server_get_config (api->server)->internal_token;

  if (secret == NULL || secret[0] == '\0')
    {
      veza_request_respond_error (request, SOUP_STATUS_FORBIDDEN, "forbidden",
                                  _("The internal API is disabled (no internal-token configured)"));
      return FALSE;
    }
  if (!veza_secret_equal (given, secret))
    {
      veza_request_respond_error (request, SOUP_STATUS_FORBIDDEN, "forbidden",
                                  _("Wrong or missing internal token"));
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  Api         *api;
  VezaRequest *request;
  char        *stream_id;
  char        *event;
  char        *listener;
} Op;

static void
op_free (Op *op)
{
  veza_request_unref (op->request);
  g_free (op->stream_id);
  g_free (op->event);
  g_free (op->listener);
  g_free (op);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Op, op_free)

static void
on_stream_row (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  g_autoptr(JsonBuilder) b = NULL;

  if (r == NULL)
    {
      veza_request_respond_db_error (op->request, error);
      return;
    }
  if (veza_db_result_n_rows (r) == 0)
    {
      veza_request_respond_error (op->request, SOUP_STATUS_NOT_FOUND, "not_found",
                                  _("No such stream"));
      return;
    }

  if (g_str_equal (op->event, "listener_joined") || g_str_equal (op->event, "listener_left"))
    {
      gboolean joined = g_str_equal (op->event, "listener_joined");

      if (joined)
        veza_server_get_counters_mutable (op->api->server)->stream_viewer_joins_total++;
      veza_server_emit_viewer (op->api->server, joined, op->stream_id,
                               op->listener != NULL ? op->listener : "external");
    }

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "stream");
  json_builder_add_value (b, veza_stream_to_json (op->api->server, r, 0, FALSE));
  json_builder_end_object (b);
  veza_request_respond_json (op->request, SOUP_STATUS_OK, json_builder_get_root (b));
}

static void
answer_with_stream (Op *op)
{
  const char *params[1] = { op->stream_id };

  veza_db_query_async (veza_server_get_db (op->api->server),
                       VEZA_STREAM_BY_ID_SQL,
                       1, params, NULL, on_stream_row, op);
}

/* After stream_ended found nothing live: 404 when there is no such stream
 * at all, 409 when it is just not live. */
static void
on_end_probe (GObject      *source,
              GAsyncResult *res,
              gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);

  if (r == NULL)
    veza_request_respond_db_error (op->request, error);
  else if (veza_db_result_n_rows (r) == 0)
    veza_request_respond_error (op->request, SOUP_STATUS_NOT_FOUND, "not_found",
                                _("No such stream"));
  else
    veza_request_respond_error (op->request, SOUP_STATUS_CONFLICT, "conflict",
                                _("The stream is not live"));
}

static void
on_lifecycle_done (GObject      *source,
                   GAsyncResult *res,
                   gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  VezaBroadcasts *broadcasts = veza_server_get_broadcasts (op->api->server);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (g_str_equal (op->event, "stream_started"))
    {
      /* Starting an ended stream starts its successor: answer with that. */
      char *live_id = veza_broadcasts_start_external_finish (broadcasts, res, &error);

      ok = live_id != NULL;
      if (ok)
        {
          g_free (op->stream_id);
          op->stream_id = live_id;
        }
    }
  else
    ok = veza_broadcasts_end_finish (broadcasts, res, &error);

  if (!ok)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        veza_request_respond_error (op->request, SOUP_STATUS_NOT_FOUND, "not_found",
                                    _("No such stream"));
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED))
        {
          const char *params[1] = { op->stream_id };
          VezaDb *db = veza_server_get_db (op->api->server);

          veza_db_query_async (db, "SELECT 1 FROM live_streams WHERE id = $1",
                               1, params, NULL, on_end_probe, g_steal_pointer (&op));
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        veza_request_respond_error (op->request, SOUP_STATUS_CONFLICT, "conflict",
                                    _("The stream is already live"));
      else if (error->domain == VEZA_DB_ERROR)
        veza_request_respond_db_error (op->request, error);
      else
        veza_request_respond_error (op->request, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                                    _("Internal error"));
      return;
    }
  answer_with_stream (g_steal_pointer (&op));
}

static void
on_listener_counted (GObject      *source,
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
  answer_with_stream (g_steal_pointer (&op));
}

static void
handle_stream_events (VezaRequest *request,
                      gpointer     user_data)
{
  Api *api = user_data;
  JsonObject *body;
  const char *event = NULL, *stream_id = NULL, *listener = NULL;
  g_autofree char *message = NULL;
  VezaBroadcasts *broadcasts = veza_server_get_broadcasts (api->server);
  Op *op;

  if (!check_token (api, request, veza_request_get_header (request, "X-Internal-Token")))
    return;
  body = veza_request_get_json_object (request);
  if (body == NULL)
    return;

  if (veza_json_get_string (body, "event", 1, 32, &event, &message) != VEZA_FIELD_OK ||
      veza_json_get_string (body, "stream_id", 36, 36, &stream_id, &message) != VEZA_FIELD_OK ||
      !veza_json_is_uuid (stream_id))
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                  _("event and a valid stream_id are required"));
      return;
    }
  if (veza_json_get_string (body, "listener_id", 1, 128, &listener, &message) == VEZA_FIELD_INVALID)
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request", message);
      return;
    }

  op = g_new0 (Op, 1);
  op->api = api;
  op->request = veza_request_ref (request);
  /* The database's spelling (lower case), by which broadcasts, media
   * folders and chat rooms know the stream */
  op->stream_id = g_ascii_strdown (stream_id, -1);
  op->event = g_strdup (event);
  op->listener = g_strdup (listener);

  if (g_str_equal (event, "stream_started"))
    veza_broadcasts_start_external_async (broadcasts, op->stream_id, on_lifecycle_done, op);
  else if (g_str_equal (event, "stream_ended"))
    veza_broadcasts_end_async (broadcasts, op->stream_id, on_lifecycle_done, op);
  else if (g_str_equal (event, "listener_joined") || g_str_equal (event, "listener_left"))
    {
      const char *params[2] = { op->stream_id, g_str_equal (event, "listener_joined") ? "1" : "-1" };

      veza_db_query_async (veza_server_get_db (api->server),
                           "UPDATE live_streams"
                           " SET viewer_count = GREATEST (0, viewer_count + $2::int)"
                           " WHERE id = $1 AND is_live",
                           2, params, NULL, on_listener_counted, op);
    }
  else
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                  _("event must be stream_started, stream_ended,"
                                    " listener_joined or listener_left"));
      op_free (op);
    }
}

/* ---- nginx-rtmp callbacks ---------------------------------------------- */

/* nginx-rtmp posts application/x-www-form-urlencoded fields. */
static GHashTable *
parse_form (VezaRequest *request)
{
  g_autoptr(GBytes) body = veza_request_get_body (request);
  gsize len;
  const char *data = g_bytes_get_data (body, &len);

  if (len == 0)
    return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (memchr (data, '\0', len) != NULL)
    return NULL;
  return g_uri_parse_params (data, len, "&", G_URI_PARAMS_NONE, NULL);
}

static const char *
form_value (GHashTable  *form,
            VezaRequest *request,
            const char  *name)
{
  const char *v = form != NULL ? g_hash_table_lookup (form, name) : NULL;

  if (v == NULL)
    v = veza_request_get_query (request, name);
  if (v != NULL && strlen (v) > MAX_FORM_VALUE)
    return NULL;
  return v;
}

typedef struct {
  Api         *api;
  VezaRequest *request;
  char        *pull_url;
} PublishOp;

static void
publish_op_free (PublishOp *op)
{
  veza_request_unref (op->request);
  g_free (op->pull_url);
  g_free (op);
}

static void
on_edge_publish_authorized (VezaPublishAuth *auth,
                            gboolean         allowed,
                            const char      *stream_id,
                            const char      *reason,
                            gpointer         user_data)
{
  PublishOp *op = user_data;
  VezaBroadcasts *broadcasts = veza_server_get_broadcasts (op->api->server);

  if (allowed && veza_broadcasts_is_busy (broadcasts, stream_id))
    {
      /* nginx-rtmp reports the end of every publish it let through: a
       * second publisher's would end the first one's broadcast. */
      g_message ("edge publish refused: stream %s already has a publisher", stream_id);
      veza_request_respond_error (op->request, SOUP_STATUS_FORBIDDEN, "forbidden",
                                  _("Unknown or busy stream key"));
    }
  else if (allowed)
    {
      g_message ("edge publish accepted for stream %s", stream_id);
      veza_broadcasts_pull_from_edge (broadcasts, stream_id, op->pull_url);
      g_autoptr(GBytes) ok = g_bytes_new_static ("OK\n", 3);

      veza_request_respond_bytes (op->request, SOUP_STATUS_OK, "text/plain", ok);
    }
  else
    {
      g_message ("edge publish refused: %s", reason != NULL ? reason : "");
      veza_request_respond_error (op->request, SOUP_STATUS_FORBIDDEN, "forbidden",
                                  _("Unknown or busy stream key"));
    }
  publish_op_free (op);
}

static void
handle_on_publish (VezaRequest *request,
                   gpointer     user_data)
{
  Api *api = user_data;
  g_autoptr(GHashTable) form = NULL;
  const char *name, *app, *tcurl, *addr;
  g_autoptr(VezaPublishAuth) auth = NULL;
  PublishOp *op;

  if (!check_token (api, request, veza_request_get_query (request, "token")))
    return;
  form = parse_form (request);
  name = form_value (form, request, "name");
  app = form_value (form, request, "app");
  tcurl = form_value (form, request, "tcurl");
  addr = form_value (form, request, "addr");
  if (name == NULL || name[0] == '\0' || strchr (name, '/') != NULL)
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                  _("name (the stream key) is required"));
      return;
    }

  op = g_new0 (PublishOp, 1);
  op->api = api;
  op->request = veza_request_ref (request);
  /* The edge's own URL for this stream, to pull from. */
  if (tcurl != NULL && g_str_has_prefix (tcurl, "rtmp://"))
    op->pull_url = g_strconcat (tcurl, g_str_has_suffix (tcurl, "/") ? "" : "/", name, NULL);

  auth = veza_publish_auth_new (app != NULL ? app : "live", name,
                                addr != NULL ? addr : veza_request_get_remote_address (request),
                                on_edge_publish_authorized, op);
  veza_server_authorize_publish (api->server, auth);
}

static void
on_edge_unpublished (GObject      *source,
                     GAsyncResult *res,
                     gpointer      user_data)
{
  g_autoptr(VezaRequest) request = user_data;
  g_autoptr(GBytes) ok = g_bytes_new_static ("OK\n", 3);

  /* Whatever the outcome (the pull may already have noticed), nginx only
   * needs a 2xx here. */
  veza_request_respond_bytes (request, SOUP_STATUS_OK, "text/plain", ok);
}

static void
handle_on_publish_done (VezaRequest *request,
                        gpointer     user_data)
{
  Api *api = user_data;
  g_autoptr(GHashTable) form = NULL;
  const char *name;

  if (!check_token (api, request, veza_request_get_query (request, "token")))
    return;
  form = parse_form (request);
  name = form_value (form, request, "name");
  if (name == NULL || name[0] == '\0')
    {
      veza_request_respond_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                                  _("name (the stream key) is required"));
      return;
    }
  veza_broadcasts_edge_unpublished_async (veza_server_get_broadcasts (api->server), name,
                                          on_edge_unpublished, veza_request_ref (request));
}

void
veza_internal_api_register (VezaServer *server)
{
  VezaHttpServer *http = veza_server_get_http (server);
  Api *api = g_new0 (Api, 1);

  api->server = server;
  veza_http_server_add_route (http, "POST", "/internal/stream-events", VEZA_ROUTE_NONE,
                              handle_stream_events, api, NULL);
  veza_http_server_add_route (http, "POST", "/internal/rtmp/on_publish", VEZA_ROUTE_RAW,
                              handle_on_publish, api, NULL);
  veza_http_server_add_route (http, "POST", "/internal/rtmp/on_publish_done", VEZA_ROUTE_RAW,
                              handle_on_publish_done, api, g_free);
}
