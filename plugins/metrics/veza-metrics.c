/* veza-metrics.c — Prometheus metrics at /metrics
 *
 * Renders the core's counters and counts HTTP requests by method and status
 * in the Prometheus text exposition format (version 0.0.4). Labels only ever
 * hold a method from a fixed list and a numeric status, never user input.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <veza-plugin.h>
#include <libsoup/soup.h>

#include <string.h>

typedef struct {
  VezaServer *server;
  gulong      handler;
  GHashTable *requests;  /* "METHOD status" → guint64* */
} Metrics;

static const char *
method_label (const char *method)
{
  static const char *const known[] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", NULL
  };

  for (guint i = 0; known[i] != NULL; i++)
    if (g_strcmp0 (method, known[i]) == 0)
      return known[i];
  return "other";
}

static void
on_request_finished (VezaServer *server,
                     const char *method,
                     guint       status,
                     gpointer    user_data)
{
  Metrics *m = user_data;
  g_autofree char *key = g_strdup_printf ("%s %u", method_label (method), MIN (status, 999u));
  guint64 *count = g_hash_table_lookup (m->requests, key);

  if (count == NULL)
    {
      count = g_new0 (guint64, 1);
      g_hash_table_insert (m->requests, g_steal_pointer (&key), count);
    }
  (*count)++;
}

static void
metric (GString    *out,
        const char *name,
        const char *type,
        const char *help,
        guint64     value)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n%s %" G_GUINT64_FORMAT "\n",
                          name, help, name, type, name, value);
}

static int
compare_keys (gconstpointer a,
              gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static void
handle_metrics (VezaRequest *request,
                gpointer     user_data)
{
  Metrics *m = user_data;
  const VezaCounters *c = veza_server_get_counters (m->server);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(GBytes) body = NULL;
  gsize len;

  metric (out, "veza_live_streams_active", "gauge",
          "Streams being broadcast now", c->streams_active);
  metric (out, "veza_live_stream_viewers", "gauge",
          "Viewers present now, all streams together", c->stream_viewers);
  metric (out, "veza_live_stream_viewers_total", "counter",
          "Viewer joins since start", c->stream_viewer_joins_total);
  metric (out, "veza_ingest_bytes_total", "counter",
          "RTMP bytes received from publishers", c->ingest_bytes_total);
  metric (out, "veza_hls_segments_total", "counter",
          "HLS segments written", c->hls_segments_total);
  metric (out, "veza_rtmp_connections", "gauge",
          "Open RTMP connections", c->rtmp_connections);

  g_string_append (out, "# HELP veza_http_requests_total HTTP requests answered\n"
                        "# TYPE veza_http_requests_total counter\n");
  keys = g_ptr_array_new ();
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, m->requests);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (keys, key);
  }
  g_ptr_array_sort (keys, compare_keys);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = g_ptr_array_index (keys, i);
      const char *space = strchr (key, ' ');
      guint64 *count = g_hash_table_lookup (m->requests, key);

      g_string_append_printf (out, "veza_http_requests_total{method=\"%.*s\",status=\"%s\"} %"
                              G_GUINT64_FORMAT "\n",
                              (int) (space - key), key, space + 1, *count);
    }
  g_string_append_printf (out, "# HELP veza_build_info Version of this vezad\n"
                               "# TYPE veza_build_info gauge\n"
                               "veza_build_info{version=\"%s\"} 1\n", VEZA_VERSION);

  len = out->len;
  body = g_bytes_new_take (g_string_free (g_steal_pointer (&out), FALSE), len);
  veza_request_set_response_header (request, "Cache-Control", "no-store");
  veza_request_respond_bytes (request, SOUP_STATUS_OK,
                              "text/plain; version=0.0.4; charset=utf-8", body);
}

static void
metrics_free (gpointer data)
{
  Metrics *m = data;

  g_hash_table_unref (m->requests);
  g_free (m);
}

static gboolean
metrics_init (VezaPluginContext  *ctx,
              GError            **error)
{
  Metrics *m = g_new0 (Metrics, 1);

  m->server = veza_plugin_context_get_server (ctx);
  m->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  m->handler = g_signal_connect (m->server, "request-finished",
                                 G_CALLBACK (on_request_finished), m);
  veza_server_add_route (m->server, "GET", "/metrics", VEZA_ROUTE_RAW, handle_metrics, m, NULL);
  veza_plugin_context_set_data (ctx, m, metrics_free);
  return TRUE;
}

static void
metrics_shutdown (VezaPluginContext *ctx)
{
  Metrics *m = veza_plugin_context_get_data (ctx);

  g_clear_signal_handler (&m->handler, m->server);
}

VEZA_PLUGIN_DEFINE ("metrics", "Prometheus metrics at /metrics", VEZA_VERSION,
                    metrics_init, metrics_shutdown)
