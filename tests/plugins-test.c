/* plugins-test.c — the plugin loader and the metrics plugin
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "test-utils.h"
#include "veza-plugin-loader.h"

#include <string.h>

static TestServer *ts;

static void
configure_main (VezaConfig *config)
{
  g_key_file_set_string (config->keyfile, "plugin:hello", "greeting", "bonjour");
}

static void
test_loaded (void)
{
  VezaPluginLoader *loader = veza_server_get_plugin_loader (ts->server);

  g_assert_true (veza_plugin_loader_is_loaded (loader, "keyauth"));
  g_assert_true (veza_plugin_loader_is_loaded (loader, "metrics"));
  g_assert_true (veza_plugin_loader_is_loaded (loader, "hello"));
}

static void
test_abi_refused (void)
{
  VezaPluginLoader *loader = veza_server_get_plugin_loader (ts->server);

  /* Their init functions abort the process if ever called. */
  g_assert_false (veza_plugin_loader_is_loaded (loader, "abi-major"));
  g_assert_false (veza_plugin_loader_is_loaded (loader, "abi-minor"));
}

static void
test_third_party_route (void)
{
  g_autofree char *token = test_register_user (ts, "plug", NULL);
  g_autoptr(TestResponse) r = test_request (ts, "GET", "/hello", NULL, NULL, NULL);
  g_autoptr(TestResponse) created = NULL;
  g_autoptr(TestResponse) after = NULL;
  g_autofree char *path = NULL;
  g_autoptr(TestResponse) put = NULL;

  g_assert_cmpuint (r->status, ==, 200);
  /* Its own config group, the database, and the server's signals. */
  g_assert_cmpstr (test_json_string (r, "data.greeting"), ==, "bonjour");
  g_assert_cmpint (g_ascii_strtoll (test_json_string (r, "data.users"), NULL, 10), >=, 1);

  created = test_request (ts, "POST", "/api/v1/live/streams", token, "{\"title\":\"p\"}", NULL);
  g_assert_cmpuint (created->status, ==, 201);
  path = g_strconcat ("/api/v1/live/streams/", test_json_string (created, "data.id"), NULL);
  put = test_request (ts, "PUT", path, token, "{\"title\":\"q\"}", NULL);
  g_assert_cmpuint (put->status, ==, 200);
  after = test_request (ts, "GET", "/hello", NULL, NULL, NULL);
  g_assert_cmpint (test_json_int (after, "data.updates"), ==, test_json_int (r, "data.updates") + 1);
}

static void
test_metrics (void)
{
  g_autoptr(TestResponse) warm = test_request (ts, "GET", "/api/v1/live/streams", NULL, NULL, NULL);
  g_autoptr(TestResponse) r = test_request (ts, "GET", "/metrics", NULL, NULL, NULL);
  const char *names[] = {
    "veza_live_streams_active ", "veza_live_stream_viewers ", "veza_live_stream_viewers_total ",
    "veza_ingest_bytes_total ", "veza_hls_segments_total ",
    "veza_http_requests_total{method=\"GET\",status=\"200\"} ",
  };

  g_assert_cmpuint (warm->status, ==, 200);
  g_assert_cmpuint (r->status, ==, 200);
  g_assert_true (g_str_has_prefix (soup_message_headers_get_content_type (r->headers, NULL),
                                   "text/plain"));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_test_message ("looking for %s", names[i]);
      g_assert_nonnull (strstr (r->body, names[i]));
    }
  /* Every sample line is NAME{labels} VALUE or NAME VALUE. */
  {
    g_auto(GStrv) lines = g_strsplit (r->body, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++)
      if (lines[i][0] != '\0' && lines[i][0] != '#')
        g_assert_true (g_regex_match_simple ("^[a-z_]+(\\{[a-z_]+=\"[A-Za-z0-9._]+\"(,[a-z_]+=\"[A-Za-z0-9._]+\")*\\})? [0-9]+$",
                                             lines[i], 0, 0));
  }
}

static void
test_metrics_count_requests (void)
{
  g_autoptr(TestResponse) before = test_request (ts, "GET", "/metrics", NULL, NULL, NULL);
  g_autoptr(TestResponse) miss = test_request (ts, "GET", "/nope", NULL, NULL, NULL);
  g_autoptr(TestResponse) after = test_request (ts, "GET", "/metrics", NULL, NULL, NULL);
  const char *line = "veza_http_requests_total{method=\"GET\",status=\"404\"} ";
  const char *b = strstr (before->body, line);
  const char *a = strstr (after->body, line);
  gint64 nb = b != NULL ? g_ascii_strtoll (b + strlen (line), NULL, 10) : 0;

  g_assert_cmpuint (miss->status, ==, 404);
  g_assert_nonnull (a);
  g_assert_cmpint (g_ascii_strtoll (a + strlen (line), NULL, 10), ==, nb + 1);
}

static void
configure_disabled (VezaConfig *config)
{
  g_strfreev (config->plugins_disabled);
  config->plugins_disabled = g_strsplit ("metrics;hello", ";", -1);
}

static void
test_disabled (void)
{
  TestServer *other = test_server_new (configure_disabled);
  VezaPluginLoader *loader = veza_server_get_plugin_loader (other->server);
  g_autoptr(TestResponse) r = NULL;

  g_assert_false (veza_plugin_loader_is_loaded (loader, "metrics"));
  g_assert_true (veza_plugin_loader_is_loaded (loader, "keyauth"));
  r = test_request (other, "GET", "/metrics", NULL, NULL, NULL);
  test_assert_error (r, 404, "not_found");
  test_server_free (other);
}

int
main (int argc, char *argv[])
{
  g_autofree char *path = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  path = g_strconcat (g_getenv ("VEZA_PLUGIN_PATH"), G_SEARCHPATH_SEPARATOR_S,
                      g_getenv ("VEZA_TEST_PLUGIN_PATH"), NULL);
  g_setenv ("VEZA_PLUGIN_PATH", path, TRUE);
  ts = test_server_new (configure_main);

  g_test_add_func ("/veza/plugins/loaded", test_loaded);
  g_test_add_func ("/veza/plugins/abi-refused", test_abi_refused);
  g_test_add_func ("/veza/plugins/third-party-route", test_third_party_route);
  g_test_add_func ("/veza/plugins/disabled", test_disabled);
  g_test_add_func ("/veza/metrics/text-format", test_metrics);
  g_test_add_func ("/veza/metrics/counts-requests", test_metrics_count_requests);

  ret = g_test_run ();
  test_server_free (ts);
  return ret;
}
