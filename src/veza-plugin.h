/* veza-plugin.h — the public API for Veza Live plugins
 *
 * This is the only header a plugin includes. Everything here is stable within
 * an ABI major version; new functions bump the minor version.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>
#include <gio/gio.h>
#include <gmodule.h>
#include <json-glib/json-glib.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define VEZA_PLUGIN_ABI_MAJOR 1
#define VEZA_PLUGIN_ABI_MINOR 0

#if defined(VEZA_COMPILATION)
# define VEZA_API __attribute__ ((visibility ("default")))
#else
# define VEZA_API
#endif

/* ------------------------------------------------------------------------ */
/* Database                                                                   */
/* ------------------------------------------------------------------------ */

#define VEZA_DB_ERROR (veza_db_error_quark ())
VEZA_API GQuark veza_db_error_quark (void);

/**
 * VezaDbError:
 * @VEZA_DB_ERROR_UNAVAILABLE: no connection to the database could be had
 * @VEZA_DB_ERROR_UNIQUE: a unique constraint was violated (SQLSTATE 23505)
 * @VEZA_DB_ERROR_CONSTRAINT: another integrity or data error (SQLSTATE 22xxx, 23xxx)
 * @VEZA_DB_ERROR_FAILED: any other failure
 */
typedef enum {
  VEZA_DB_ERROR_UNAVAILABLE,
  VEZA_DB_ERROR_UNIQUE,
  VEZA_DB_ERROR_CONSTRAINT,
  VEZA_DB_ERROR_FAILED,
} VezaDbError;

#define VEZA_TYPE_DB (veza_db_get_type ())
VEZA_API G_DECLARE_FINAL_TYPE (VezaDb, veza_db, VEZA, DB, GObject)

typedef struct _VezaDbResult VezaDbResult;
#define VEZA_TYPE_DB_RESULT (veza_db_result_get_type ())
VEZA_API GType veza_db_result_get_type (void);

/**
 * veza_db_query_async:
 * @db: a #VezaDb
 * @sql: one SQL statement with `$1`…`$n` placeholders
 * @n_params: number of parameters
 * @params: (array length=n_params) (nullable): text parameters; a %NULL entry is SQL NULL
 *
 * Runs a parameterised statement on a pooled connection, off the main loop.
 * The callback runs in the thread-default main context of the caller.
 */
VEZA_API void          veza_db_query_async      (VezaDb              *db,
                                                 const char          *sql,
                                                 int                  n_params,
                                                 const char * const  *params,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
/* Returns: (transfer full): the result, or %NULL with @error set */
VEZA_API VezaDbResult *veza_db_query_finish     (VezaDb              *db,
                                                 GAsyncResult        *result,
                                                 GError             **error);
VEZA_API gboolean      veza_db_is_available     (VezaDb              *db);

VEZA_API VezaDbResult *veza_db_result_ref       (VezaDbResult *result);
VEZA_API void          veza_db_result_unref     (VezaDbResult *result);
VEZA_API int           veza_db_result_n_rows    (VezaDbResult *result);
/* Number of rows affected by INSERT/UPDATE/DELETE */
VEZA_API guint64       veza_db_result_n_affected (VezaDbResult *result);
VEZA_API int           veza_db_result_column    (VezaDbResult *result,
                                                 const char   *name);
/* Returns: (nullable): the text value, %NULL for SQL NULL or out of range */
VEZA_API const char   *veza_db_result_get       (VezaDbResult *result,
                                                 int           row,
                                                 const char   *column);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaDbResult, veza_db_result_unref)

/* ------------------------------------------------------------------------ */
/* HTTP requests                                                              */
/* ------------------------------------------------------------------------ */

typedef struct _VezaRequest VezaRequest;
#define VEZA_TYPE_REQUEST (veza_request_get_type ())
VEZA_API GType veza_request_get_type (void);

/**
 * VezaRouteFlags:
 * @VEZA_ROUTE_NONE: public route
 * @VEZA_ROUTE_AUTH: a valid bearer token is required (401 otherwise); the
 *   user is resolved before the handler runs
 * @VEZA_ROUTE_AUTH_OPTIONAL: the user is resolved when a token is given
 * @VEZA_ROUTE_RAW: the handler writes its own response body (no JSON envelope
 *   is required); used for /metrics, HLS, pages
 * @VEZA_ROUTE_PREFIX: the pattern matches every path that starts with it
 */
typedef enum {
  VEZA_ROUTE_NONE = 0,
  VEZA_ROUTE_AUTH = 1 << 0,
  VEZA_ROUTE_AUTH_OPTIONAL = 1 << 1,
  VEZA_ROUTE_RAW = 1 << 2,
  VEZA_ROUTE_PREFIX = 1 << 3,
} VezaRouteFlags;

typedef void (*VezaRouteHandler) (VezaRequest *request,
                                  gpointer     user_data);

VEZA_API VezaRequest  *veza_request_ref          (VezaRequest *request);
VEZA_API void          veza_request_unref        (VezaRequest *request);
VEZA_API const char   *veza_request_get_method   (VezaRequest *request);
VEZA_API const char   *veza_request_get_path     (VezaRequest *request);
/* A `{name}` segment of the route pattern */
VEZA_API const char   *veza_request_get_param    (VezaRequest *request,
                                                  const char  *name);
/* A query-string value (decoded), or %NULL */
VEZA_API const char   *veza_request_get_query    (VezaRequest *request,
                                                  const char  *name);
VEZA_API const char   *veza_request_get_header   (VezaRequest *request,
                                                  const char  *name);
/* The request body (at most 64 KiB; larger bodies never reach a handler) */
VEZA_API GBytes       *veza_request_get_body     (VezaRequest *request);
/* The body parsed as a JSON object; on failure the request has already
 * been answered with 400 invalid_request and %NULL is returned. */
VEZA_API JsonObject   *veza_request_get_json_object (VezaRequest *request);
/* The authenticated user's id, or %NULL */
VEZA_API const char   *veza_request_get_user_id  (VezaRequest *request);
VEZA_API const char   *veza_request_get_remote_address (VezaRequest *request);
/* The underlying libsoup message (for raw routes) */
VEZA_API gpointer      veza_request_get_message  (VezaRequest *request);

/* Answer {"success":true,"data":data}; takes ownership of @data (may be NULL
 * for an empty object). */
VEZA_API void          veza_request_respond_json (VezaRequest *request,
                                                  guint        status,
                                                  JsonNode    *data);
/* Answer {"success":false,"error":{"code","message"}} */
VEZA_API void          veza_request_respond_error (VezaRequest *request,
                                                   guint        status,
                                                   const char  *code,
                                                   const char  *message);
/* Answer with a raw body */
VEZA_API void          veza_request_respond_bytes (VezaRequest *request,
                                                   guint        status,
                                                   const char  *content_type,
                                                   GBytes      *body);
VEZA_API void          veza_request_set_response_header (VezaRequest *request,
                                                         const char  *name,
                                                         const char  *value);
/* Answer a database error: 503 when unavailable, 409 for a unique
 * violation, 500 otherwise (with no SQL in the message) */
VEZA_API void          veza_request_respond_db_error (VezaRequest  *request,
                                                      const GError *error);
VEZA_API gboolean      veza_request_is_answered  (VezaRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VezaRequest, veza_request_unref)

/* ------------------------------------------------------------------------ */
/* Publish authorisation                                                      */
/* ------------------------------------------------------------------------ */

/**
 * VezaPublishAuth:
 *
 * A pending RTMP publish. A handler of #VezaServer::publish-authorize that
 * takes the request returns %TRUE and later calls exactly one of
 * veza_publish_auth_allow() or veza_publish_auth_deny(), possibly after an
 * asynchronous database query. When no handler takes it, it is denied.
 */
#define VEZA_TYPE_PUBLISH_AUTH (veza_publish_auth_get_type ())
VEZA_API G_DECLARE_FINAL_TYPE (VezaPublishAuth, veza_publish_auth, VEZA, PUBLISH_AUTH, GObject)

/* The key the publisher gave. Never log it. */
VEZA_API const char *veza_publish_auth_get_key            (VezaPublishAuth *auth);
VEZA_API const char *veza_publish_auth_get_app            (VezaPublishAuth *auth);
VEZA_API const char *veza_publish_auth_get_remote_address (VezaPublishAuth *auth);
/* @stream_id: the live_streams row this key belongs to */
VEZA_API void        veza_publish_auth_allow              (VezaPublishAuth *auth,
                                                           const char      *stream_id);
VEZA_API void        veza_publish_auth_deny               (VezaPublishAuth *auth,
                                                           const char      *reason);

/* ------------------------------------------------------------------------ */
/* Counters                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * VezaCounters:
 *
 * Process-wide figures kept by the core, read by the metrics plugin.
 * Read them on the main thread.
 */
typedef struct {
  guint64 streams_active;
  guint64 stream_viewers;
  guint64 stream_viewer_joins_total;
  guint64 ingest_bytes_total;
  guint64 hls_segments_total;
  guint64 chat_messages_total;
  guint64 ws_connections;
  guint64 rtmp_connections;
  /*< private >*/
  guint64 padding[24];
} VezaCounters;

/* ------------------------------------------------------------------------ */
/* The server                                                                 */
/* ------------------------------------------------------------------------ */

#define VEZA_TYPE_SERVER (veza_server_get_type ())
VEZA_API G_DECLARE_FINAL_TYPE (VezaServer, veza_server, VEZA, SERVER, GObject)

/*
 * Signals of VezaServer (all emitted on the main thread):
 *
 * "publish-authorize"  gboolean (VezaServer*, VezaPublishAuth*)
 *      boolean-accumulated: the first handler returning TRUE takes the request.
 * "stream-started"     void (VezaServer*, const char *stream_id, JsonObject *stream)
 * "stream-ended"       void (VezaServer*, const char *stream_id, JsonObject *stream)
 * "stream-updated"     void (VezaServer*, const char *stream_id, JsonObject *stream)
 * "pipeline-created"   void (VezaServer*, const char *stream_id, GstPipeline *pipeline,
 *                            GstElement *video_tee (nullable), GstElement *audio_tee (nullable))
 *                      data flows through the tees in the main loop's thread: a
 *                      branch starts with a queue, its sinks set async=false
 * "viewer-joined"      void (VezaServer*, const char *stream_id, const char *viewer_id)
 * "viewer-left"        void (VezaServer*, const char *stream_id, const char *viewer_id)
 * "request-finished"   void (VezaServer*, const char *method, guint status)
 */

VEZA_API VezaDb             *veza_server_get_db       (VezaServer *server);
VEZA_API const VezaCounters *veza_server_get_counters (VezaServer *server);
/* The public base URL (e.g. http://127.0.0.1:8080) */
VEZA_API const char         *veza_server_get_public_url (VezaServer *server);
VEZA_API void                veza_server_add_route    (VezaServer       *server,
                                                       const char       *method,
                                                       const char       *pattern,
                                                       VezaRouteFlags    flags,
                                                       VezaRouteHandler  handler,
                                                       gpointer          user_data,
                                                       GDestroyNotify    destroy);
/* Compare two secrets in constant time (for their common length; different
 * lengths compare unequal). */
VEZA_API gboolean            veza_secret_equal        (const char *a,
                                                       const char *b);

/* ------------------------------------------------------------------------ */
/* Plugins                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct _VezaPluginContext VezaPluginContext;

VEZA_API VezaServer *veza_plugin_context_get_server (VezaPluginContext *ctx);
VEZA_API const char *veza_plugin_context_get_name   (VezaPluginContext *ctx);
/* The plugin's own configuration group `[plugin:<name>]` (may be empty) */
VEZA_API GKeyFile   *veza_plugin_context_get_config (VezaPluginContext *ctx);
VEZA_API const char *veza_plugin_context_get_config_group (VezaPluginContext *ctx);
/* Private data for the plugin's own use */
VEZA_API void        veza_plugin_context_set_data   (VezaPluginContext *ctx,
                                                     gpointer           data,
                                                     GDestroyNotify     destroy);
VEZA_API gpointer    veza_plugin_context_get_data   (VezaPluginContext *ctx);

typedef gboolean (*VezaPluginInitFunc)     (VezaPluginContext *ctx,
                                            GError           **error);
typedef void     (*VezaPluginShutdownFunc) (VezaPluginContext *ctx);

/**
 * VezaPluginDescriptor:
 *
 * Exported by every plugin module as the symbol `veza_plugin_descriptor`
 * through VEZA_PLUGIN_DEFINE(). The loader refuses a module whose
 * @abi_major differs from the server's or whose @abi_minor is newer.
 */
typedef struct {
  guint32                abi_major;
  guint32                abi_minor;
  const char            *name;
  const char            *description;
  const char            *version;
  VezaPluginInitFunc     init;
  VezaPluginShutdownFunc shutdown;
  /*< private >*/
  gpointer               padding[8];
} VezaPluginDescriptor;

#define VEZA_PLUGIN_DESCRIPTOR_SYMBOL "veza_plugin_descriptor"

#define VEZA_PLUGIN_DEFINE(name_, description_, version_, init_, shutdown_) \
  G_MODULE_EXPORT const VezaPluginDescriptor veza_plugin_descriptor = {     \
    VEZA_PLUGIN_ABI_MAJOR, VEZA_PLUGIN_ABI_MINOR,                           \
    name_, description_, version_, init_, shutdown_, { NULL }               \
  };

G_END_DECLS
