/* veza-server.c — VezaServer: owns the database, the HTTP and RTMP servers,
 * the broadcasts and the plugins, and carries the signals plugins connect to
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "veza-server-private.h"
#include "veza-broadcasts.h"
#include "veza-db.h"
#include "veza-embedded-pg.h"
#include "veza-migrations.h"
#include "veza-plugin-loader.h"
#include "veza-accounts.h"
#include "veza-streams-api.h"
#include "veza-internal-api.h"
#include "veza-hls-handler.h"
#include "veza-web.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

struct _VezaServer {
  GObject           parent_instance;

  VezaConfig       *config;
  VezaEmbeddedPg   *pg;
  VezaDb           *db;
  VezaHttpServer   *http;
  VezaBroadcasts   *broadcasts;
  VezaPluginLoader *plugins;
  VezaCounters      counters;

  char             *public_url;
  char             *rtmp_public_url;
  char             *media_dir;
  char             *conninfo;
  guint16           http_port;
  guint16           rtmp_port;
  gboolean          started;
  gboolean          shut_down;
};

enum {
  SIGNAL_PUBLISH_AUTHORIZE,
  SIGNAL_STREAM_STARTED,
  SIGNAL_STREAM_ENDED,
  SIGNAL_STREAM_UPDATED,
  SIGNAL_PIPELINE_CREATED,
  SIGNAL_VIEWER_JOINED,
  SIGNAL_VIEWER_LEFT,
  SIGNAL_REQUEST_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (VezaServer, veza_server, G_TYPE_OBJECT)

static void
veza_server_finalize (GObject *object)
{
  VezaServer *self = VEZA_SERVER (object);

  g_clear_object (&self->plugins);
  g_clear_pointer (&self->broadcasts, veza_broadcasts_free);
  g_clear_object (&self->http);
  if (self->db != NULL)
    veza_db_close (self->db);
  g_clear_object (&self->db);
  if (self->pg != NULL)
    veza_embedded_pg_stop (self->pg);
  g_clear_object (&self->pg);
  g_clear_pointer (&self->config, veza_config_free);
  g_free (self->public_url);
  g_free (self->rtmp_public_url);
  g_free (self->media_dir);
  g_free (self->conninfo);

  G_OBJECT_CLASS (veza_server_parent_class)->finalize (object);
}

static void
veza_server_class_init (VezaServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = veza_server_finalize;

  /**
   * VezaServer::publish-authorize:
   * @auth: the pending publish
   *
   * Returns: %TRUE when the handler takes the request (and will answer it)
   */
  signals[SIGNAL_PUBLISH_AUTHORIZE] =
    g_signal_new ("publish-authorize", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_true_handled, NULL, NULL,
                  G_TYPE_BOOLEAN, 1, VEZA_TYPE_PUBLISH_AUTH);
  signals[SIGNAL_STREAM_STARTED] =
    g_signal_new ("stream-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, JSON_TYPE_OBJECT);
  signals[SIGNAL_STREAM_ENDED] =
    g_signal_new ("stream-ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, JSON_TYPE_OBJECT);
  signals[SIGNAL_STREAM_UPDATED] =
    g_signal_new ("stream-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, JSON_TYPE_OBJECT);
  signals[SIGNAL_PIPELINE_CREATED] =
    g_signal_new ("pipeline-created", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4, G_TYPE_STRING, GST_TYPE_PIPELINE,
                  GST_TYPE_ELEMENT, GST_TYPE_ELEMENT);
  signals[SIGNAL_VIEWER_JOINED] =
    g_signal_new ("viewer-joined", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_VIEWER_LEFT] =
    g_signal_new ("viewer-left", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_REQUEST_FINISHED] =
    g_signal_new ("request-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_UINT);
}

static void
veza_server_init (VezaServer *self)
{
}

VezaServer *
veza_server_new (VezaConfig *config)
{
  VezaServer *self = g_object_new (VEZA_TYPE_SERVER, NULL);

  self->config = config;
  self->http = veza_http_server_new ();
  self->media_dir = g_build_filename (config->data_dir, "media", NULL);
  return self;
}

/* ---- accessors --------------------------------------------------------- */

VezaDb *
veza_server_get_db (VezaServer *self)
{
  g_return_val_if_fail (VEZA_IS_SERVER (self), NULL);
  return self->db;
}

const VezaCounters *
veza_server_get_counters (VezaServer *self)
{
  g_return_val_if_fail (VEZA_IS_SERVER (self), NULL);
  return &self->counters;
}

VezaCounters *
veza_server_get_counters_mutable (VezaServer *self)
{
  return &self->counters;
}

const char *
veza_server_get_public_url (VezaServer *self)
{
  return self->public_url;
}

const char *
veza_server_get_rtmp_public_url (VezaServer *self)
{
  return self->rtmp_public_url;
}

VezaConfig *
veza_server_get_config (VezaServer *self)
{
  return self->config;
}

VezaHttpServer *
veza_server_get_http (VezaServer *self)
{
  return self->http;
}

VezaBroadcasts *
veza_server_get_broadcasts (VezaServer *self)
{
  return self->broadcasts;
}

guint16
veza_server_get_http_port (VezaServer *self)
{
  return self->http_port;
}

guint16
veza_server_get_rtmp_port (VezaServer *self)
{
  return self->rtmp_port;
}

const char *
veza_server_get_media_dir (VezaServer *self)
{
  return self->media_dir;
}

void
veza_server_add_route (VezaServer       *self,
                       const char       *method,
                       const char       *pattern,
                       VezaRouteFlags    flags,
                       VezaRouteHandler  handler,
                       gpointer          user_data,
                       GDestroyNotify    destroy)
{
  g_return_if_fail (VEZA_IS_SERVER (self));
  veza_http_server_add_route (self->http, method, pattern, flags, handler, user_data, destroy);
}

/* ---- signals ----------------------------------------------------------- */

void
veza_server_authorize_publish (VezaServer      *self,
                               VezaPublishAuth *auth)
{
  gboolean taken = FALSE;

  g_signal_emit (self, signals[SIGNAL_PUBLISH_AUTHORIZE], 0, auth, &taken);
  if (!taken && !veza_publish_auth_is_answered (auth))
    veza_publish_auth_deny (auth, "no plugin authorises publishing");
}

void
veza_server_emit_stream_event (VezaServer *self,
                               const char *signal_name,
                               const char *stream_id,
                               JsonObject *stream)
{
  guint id;

  if (g_str_equal (signal_name, "stream-started"))
    id = signals[SIGNAL_STREAM_STARTED];
  else if (g_str_equal (signal_name, "stream-ended"))
    id = signals[SIGNAL_STREAM_ENDED];
  else
    id = signals[SIGNAL_STREAM_UPDATED];
  g_signal_emit (self, id, 0, stream_id, stream);
}

void
veza_server_emit_viewer (VezaServer *self,
                         gboolean    joined,
                         const char *stream_id,
                         const char *viewer_id)
{
  g_signal_emit (self, signals[joined ? SIGNAL_VIEWER_JOINED : SIGNAL_VIEWER_LEFT], 0,
                 stream_id, viewer_id);
}

void
veza_server_emit_pipeline_created (VezaServer  *self,
                                   const char  *stream_id,
                                   GstPipeline *pipeline,
                                   GstElement  *video_tee,
                                   GstElement  *audio_tee)
{
  g_signal_emit (self, signals[SIGNAL_PIPELINE_CREATED], 0, stream_id, pipeline,
                 video_tee, audio_tee);
}

static void
on_soup_request_finished (SoupServer        *soup,
                          SoupServerMessage *msg,
                          VezaServer        *self)
{
  g_signal_emit (self, signals[SIGNAL_REQUEST_FINISHED], 0,
                 soup_server_message_get_method (msg),
                 soup_server_message_get_status (msg));
}

/* ---- /healthz ---------------------------------------------------------- */

static void
on_health_pinged (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(VezaRequest) request = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gboolean ok = veza_db_ping_finish (VEZA_DB (source), result, &error);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, ok ? "ok" : "unavailable");
  json_builder_set_member_name (b, "database");
  json_builder_add_string_value (b, ok ? "ok" : "unavailable");
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, VEZA_VERSION);
  json_builder_end_object (b);

  veza_request_set_response_header (request, "Cache-Control", "no-store");
  if (ok)
    veza_request_respond_json (request, SOUP_STATUS_OK, json_builder_get_root (b));
  else
    veza_request_respond_error (request, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                                _("The database does not answer"));
}

static void
handle_healthz (VezaRequest *request,
                gpointer     user_data)
{
  VezaServer *self = user_data;

  veza_db_ping_async (self->db, NULL, on_health_pinged, veza_request_ref (request));
}

/* ---- start-up ---------------------------------------------------------- */

static gboolean
ensure_dir (const char  *path,
            int          mode,
            GError     **error)
{
  if (g_mkdir_with_parents (path, mode) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot create directory %s: %s"), path, g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

static char *
url_host (const char *address)
{
  /* IPv6 literals need brackets in URLs. */
  if (strchr (address, ':') != NULL)
    return g_strdup_printf ("[%s]", address);
  return g_strdup (address);
}

gboolean
veza_server_start (VezaServer  *self,
                   GError     **error)
{
  VezaConfig *config = self->config;
  g_autofree char *conninfo = NULL;
  g_autofree char *host = NULL;
  gint applied;

  g_return_val_if_fail (!self->started, FALSE);

  if (!ensure_dir (config->data_dir, 0755, error) ||
      !ensure_dir (self->media_dir, 0755, error))
    return FALSE;

  /* The database: the configured server, or a private cluster. */
  if (config->database_url != NULL && config->database_url[0] != '\0')
    conninfo = g_strdup (config->database_url);
  else
    {
      g_autofree char *cluster = g_build_filename (config->data_dir, "postgres", NULL);

      self->pg = veza_embedded_pg_new (cluster);
      if (!veza_embedded_pg_start (self->pg, error))
        return FALSE;
      conninfo = g_strdup (veza_embedded_pg_get_conninfo (self->pg));
    }

  applied = veza_migrations_run (conninfo, error);
  if (applied < 0)
    return FALSE;
  if (applied > 0)
    g_message (ngettext ("applied %d database migration", "applied %d database migrations",
                         applied), applied);

  self->db = veza_db_new (conninfo, config->db_pool_size);
  self->conninfo = g_strdup (conninfo);

  /* HTTP */
  if (!veza_http_server_listen (self->http, config->http_address, config->http_port,
                                &self->http_port, error))
    {
      g_prefix_error (error, _("Cannot listen on %s:%u: "), config->http_address,
                      config->http_port);
      return FALSE;
    }
  host = url_host (config->http_address);
  if (config->public_url != NULL && config->public_url[0] != '\0')
    self->public_url = g_strdup (config->public_url);
  else
    self->public_url = g_strdup_printf ("http://%s:%u", host, self->http_port);
  /* Not translated: scripts read the port from this line. */
  g_message ("listening on http://%s:%u", host, self->http_port);
  g_signal_connect (veza_http_server_get_soup_server (self->http), "request-finished",
                    G_CALLBACK (on_soup_request_finished), self);

  /* Core routes, then the broadcasts (with RTMP ingest), then the plugins. */
  veza_http_server_add_route (self->http, "GET", "/healthz", VEZA_ROUTE_NONE,
                              handle_healthz, self, NULL);
  veza_accounts_register (self);
  veza_streams_api_register (self);
  veza_internal_api_register (self);
  veza_hls_handler_register (self);
  veza_web_register (self);

  self->broadcasts = veza_broadcasts_new (self);
  if (!veza_broadcasts_start (self->broadcasts, &self->rtmp_port, error))
    return FALSE;
  g_free (host);
  host = url_host (config->rtmp_address);
  if (config->rtmp_public_url != NULL && config->rtmp_public_url[0] != '\0')
    self->rtmp_public_url = g_strdup (config->rtmp_public_url);
  else
    self->rtmp_public_url = g_strdup_printf ("rtmp://%s:%u/live", host, self->rtmp_port);

  self->plugins = veza_plugin_loader_new (self);
  veza_plugin_loader_load_all (self->plugins);

  self->started = TRUE;
  return TRUE;
}

/* ---- shutdown ---------------------------------------------------------- */

static void
on_broadcasts_shut_down (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  VezaServer *self = g_task_get_source_object (task);

  /* No more requests, then no more plugins. */
  veza_http_server_disconnect (self->http);
  if (self->plugins != NULL)
    veza_plugin_loader_unload_all (self->plugins);
  if (self->db != NULL)
    veza_db_close (self->db);
  if (self->pg != NULL)
    veza_embedded_pg_stop (self->pg);
  g_task_return_boolean (task, TRUE);
}

void
veza_server_shutdown_async (VezaServer          *self,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, veza_server_shutdown_async);
  if (self->shut_down)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  self->shut_down = TRUE;

  if (self->broadcasts != NULL)
    veza_broadcasts_shutdown_async (self->broadcasts, on_broadcasts_shut_down,
                                    g_steal_pointer (&task));
  else
    on_broadcasts_shut_down (NULL, NULL, g_steal_pointer (&task));
}

gboolean
veza_server_shutdown_finish (VezaServer    *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gpointer
veza_server_get_plugin_loader (VezaServer *self)
{
  return self->plugins;
}

const char *
veza_server_get_conninfo (VezaServer *self)
{
  return self->conninfo;
}

gpointer
veza_server_get_embedded_pg (VezaServer *self)
{
  return self->pg;
}
