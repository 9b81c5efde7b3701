/* veza-keyauth.c — authorises RTMP publishes by the stream keys in the database
 *
 * Answers VezaServer::publish-authorize: the key must belong to a stream
 * (compared in constant time once found). Which broadcast row it starts or
 * continues, and whether one is already being published, is the core's
 * business; this plugin only says whose key it is. Addresses that keep
 * guessing are refused without a query: more than `max-failures` (default
 * 10) unknown keys in `failure-window` seconds (default 60).
 *
 * Configuration, group [plugin:keyauth]: max-failures, failure-window.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <veza-plugin.h>

#include <string.h>

#define MAX_TRACKED_ADDRESSES 10000
#define MAX_KEY_LENGTH 256

typedef struct {
  VezaServer *server;
  gulong      handler;
  GHashTable *failures;     /* address → GArray of gint64 monotonic µs */
  guint       max_failures;
  gint64      window_us;
} KeyAuth;

typedef struct {
  KeyAuth         *ka;
  VezaPublishAuth *auth;
} Lookup;

/* Drops timestamps older than the window; returns how many remain. */
static guint
prune (KeyAuth *ka,
       GArray  *times,
       gint64   now)
{
  guint keep = 0;

  for (guint i = 0; i < times->len; i++)
    if (now - g_array_index (times, gint64, i) < ka->window_us)
      g_array_index (times, gint64, keep++) = g_array_index (times, gint64, i);
  g_array_set_size (times, keep);
  return keep;
}

static gboolean
address_blocked (KeyAuth    *ka,
                 const char *address)
{
  GArray *times = g_hash_table_lookup (ka->failures, address);

  return times != NULL && prune (ka, times, g_get_monotonic_time ()) >= ka->max_failures;
}

static void
record_failure (KeyAuth    *ka,
                const char *address)
{
  GArray *times = g_hash_table_lookup (ka->failures, address);
  gint64 now = g_get_monotonic_time ();

  if (times == NULL)
    {
      /* Bounded memory: forget addresses whose failures all expired, and
       * start over if a flood of addresses still fills the table. */
      if (g_hash_table_size (ka->failures) >= MAX_TRACKED_ADDRESSES)
        {
          GHashTableIter iter;
          gpointer value;

          g_hash_table_iter_init (&iter, ka->failures);
          while (g_hash_table_iter_next (&iter, NULL, &value))
            if (prune (ka, value, now) == 0)
              g_hash_table_iter_remove (&iter);
          if (g_hash_table_size (ka->failures) >= MAX_TRACKED_ADDRESSES)
            g_hash_table_remove_all (ka->failures);
        }
      times = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_hash_table_insert (ka->failures, g_strdup (address), times);
    }
  g_array_append_val (times, now);
}

static void
on_looked_up (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Lookup *lookup = user_data;
  KeyAuth *ka = lookup->ka;
  g_autoptr(VezaPublishAuth) auth = lookup->auth;
  g_autoptr(GError) error = NULL;
  g_autoptr(VezaDbResult) r = veza_db_query_finish (VEZA_DB (source), result, &error);
  const char *address = veza_publish_auth_get_remote_address (auth);

  g_free (lookup);

  if (r == NULL)
    {
      g_warning ("cannot check a stream key from %s: %s", address, error->message);
      veza_publish_auth_deny (auth, "database unavailable");
      return;
    }

  if (veza_db_result_n_rows (r) == 1 &&
      veza_secret_equal (veza_db_result_get (r, 0, "stream_key"), veza_publish_auth_get_key (auth)))
    {
      veza_publish_auth_allow (auth, veza_db_result_get (r, 0, "id"));
      return;
    }

  record_failure (ka, address);
  g_message ("publish from %s refused: unknown stream key", address);
  veza_publish_auth_deny (auth, "unknown stream key");
}

static gboolean
on_publish_authorize (VezaServer      *server,
                      VezaPublishAuth *auth,
                      gpointer         user_data)
{
  KeyAuth *ka = user_data;
  const char *key = veza_publish_auth_get_key (auth);
  const char *address = veza_publish_auth_get_remote_address (auth);
  const char *params[1] = { key };
  Lookup *lookup;

  if (address_blocked (ka, address))
    {
      g_message ("publish from %s refused: too many unknown keys", address);
      veza_publish_auth_deny (auth, "too many failed attempts");
      return TRUE;
    }
  /* Placeholders of ended broadcasts ("retired_…") are never keys. */
  if (key == NULL || key[0] == '\0' || strlen (key) > MAX_KEY_LENGTH ||
      g_str_has_prefix (key, "retired_"))
    {
      record_failure (ka, address);
      veza_publish_auth_deny (auth, "malformed stream key");
      return TRUE;
    }

  lookup = g_new0 (Lookup, 1);
  lookup->ka = ka;
  lookup->auth = g_object_ref (auth);
  veza_db_query_async (veza_server_get_db (server),
                       "SELECT id, stream_key FROM live_streams WHERE stream_key = $1",
                       1, params, NULL, on_looked_up, lookup);
  return TRUE;
}

static void
keyauth_free (gpointer data)
{
  KeyAuth *ka = data;

  g_hash_table_unref (ka->failures);
  g_free (ka);
}

static gboolean
keyauth_init (VezaPluginContext  *ctx,
              GError            **error)
{
  GKeyFile *kf = veza_plugin_context_get_config (ctx);
  const char *group = veza_plugin_context_get_config_group (ctx);
  KeyAuth *ka = g_new0 (KeyAuth, 1);
  gint max_failures = 10, window = 60;

  if (g_key_file_has_key (kf, group, "max-failures", NULL))
    max_failures = g_key_file_get_integer (kf, group, "max-failures", NULL);
  if (g_key_file_has_key (kf, group, "failure-window", NULL))
    window = g_key_file_get_integer (kf, group, "failure-window", NULL);
  if (max_failures < 1 || window < 1)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] max-failures and failure-window must be positive", group);
      g_free (ka);
      return FALSE;
    }

  ka->server = veza_plugin_context_get_server (ctx);
  ka->max_failures = (guint) max_failures;
  ka->window_us = (gint64) window * G_USEC_PER_SEC;
  ka->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_array_unref);
  ka->handler = g_signal_connect (ka->server, "publish-authorize",
                                  G_CALLBACK (on_publish_authorize), ka);
  veza_plugin_context_set_data (ctx, ka, keyauth_free);
  return TRUE;
}

static void
keyauth_shutdown (VezaPluginContext *ctx)
{
  KeyAuth *ka = veza_plugin_context_get_data (ctx);

  g_clear_signal_handler (&ka->handler, ka->server);
}

VEZA_PLUGIN_DEFINE ("keyauth", "Authorises RTMP publishes by the stream keys in the database",
                    VEZA_VERSION, keyauth_init, keyauth_shutdown)
