/* A third-party style plugin: a route, its own config group, a database
 * query and a signal, all through the public header only. */
#include <veza-plugin.h>
#include <libsoup/soup.h>

typedef struct {
  VezaServer *server;
  char       *greeting;
  guint       updates;
  gulong      handler;
} Hello;

typedef struct {
  Hello       *hello;
  VezaRequest *request;
} Call;

static void
on_counted (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(VezaRequest) request = call->request;
  Hello *hello = call->hello;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), res, &error);
  JsonObject *o;
  JsonNode *node;

  g_free (call);
  if (r == NULL)
    {
      veza_request_respond_db_error (request, error);
      return;
    }
  o = json_object_new ();
  json_object_set_string_member (o, "greeting", hello->greeting);
  json_object_set_string_member (o, "users", veza_db_result_get (r, 0, "n"));
  json_object_set_int_member (o, "updates", hello->updates);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, o);
  veza_request_respond_json (request, SOUP_STATUS_OK, node);
}

static void
handle_hello (VezaRequest *request, gpointer user_data)
{
  Call *call = g_new0 (Call, 1);

  call->hello = user_data;
  call->request = veza_request_ref (request);
  veza_db_query_async (veza_server_get_db (call->hello->server),
                       "SELECT count (*) AS n FROM users", 0, NULL, NULL, on_counted, call);
}

static void
on_updated (VezaServer *server, const char *id, JsonObject *stream, Hello *hello)
{
  hello->updates++;
}

static void
hello_free (gpointer data)
{
  Hello *hello = data;

  g_free (hello->greeting);
  g_free (hello);
}

static gboolean
init (VezaPluginContext *ctx, GError **error)
{
  Hello *hello = g_new0 (Hello, 1);
  GKeyFile *kf = veza_plugin_context_get_config (ctx);

  hello->server = veza_plugin_context_get_server (ctx);
  hello->greeting = g_key_file_get_string (kf, veza_plugin_context_get_config_group (ctx),
                                           "greeting", NULL);
  if (hello->greeting == NULL)
    hello->greeting = g_strdup ("hello");
  hello->handler = g_signal_connect (hello->server, "stream-updated", G_CALLBACK (on_updated), hello);
  veza_server_add_route (hello->server, "GET", "/hello", VEZA_ROUTE_NONE, handle_hello, hello, NULL);
  veza_plugin_context_set_data (ctx, hello, hello_free);
  return TRUE;
}

static void
shutdown (VezaPluginContext *ctx)
{
  Hello *hello = veza_plugin_context_get_data (ctx);

  g_clear_signal_handler (&hello->handler, hello->server);
}

VEZA_PLUGIN_DEFINE ("hello", "Test plugin", "1.0", init, shutdown)
