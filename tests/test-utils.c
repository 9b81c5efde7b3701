/* test-utils.c — helpers for suites that run a whole Veza server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "test-utils.h"
#include "veza-secret.h"
#include "veza-db.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static char *tmp_root;

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

static void
cleanup_tmp_root (void)
{
  if (tmp_root != NULL && g_getenv ("VEZA_TEST_KEEP") == NULL)
    remove_tree (tmp_root);
}

const char *
test_tmp_dir (void)
{
  if (tmp_root == NULL)
    {
      g_autoptr(GError) error = NULL;

      /* Under /tmp with mode 0755: when the tests run as root the embedded
       * PostgreSQL runs as the postgres user, which must reach it. */
      tmp_root = g_dir_make_tmp ("veza-test-XXXXXX", &error);
      g_assert_no_error (error);
      g_chmod (tmp_root, 0755);
      atexit (cleanup_tmp_root);
    }
  return tmp_root;
}

/* ---- the main context --------------------------------------------------- */

static gboolean
flag_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
test_wait_until (gboolean (*done) (gpointer),
                 gpointer   data,
                 guint      timeout_s)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (timeout_s, flag_timeout, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return done (data);
}

void
test_run_for (guint ms)
{
  gboolean timed_out = FALSE;

  g_timeout_add (ms, flag_timeout, &timed_out);
  while (!timed_out)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- the server --------------------------------------------------------- */

TestServer *
test_server_new (void (*configure) (VezaConfig *config))
{
  static guint counter;
  TestServer *ts = g_new0 (TestServer, 1);
  VezaConfig *config = veza_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("server-%u", counter++);

  g_assert_true (veza_secret_init ());
  /* A server logs warnings about its clients' mistakes (which the tests
   * make on purpose); only criticals are bugs. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  ts->data_dir = g_build_filename (test_tmp_dir (), name, NULL);
  g_mkdir_with_parents (ts->data_dir, 0755);

  g_free (config->data_dir);
  config->data_dir = g_strdup (ts->data_dir);
  config->http_port = 0;
  config->rtmp_port = 0;
  config->reconnect_grace = 3;
  if (configure != NULL)
    configure (config);
  g_assert_true (veza_config_validate (config, &error));

  ts->server = veza_server_new (config);
  veza_server_start (ts->server, &error);
  g_assert_no_error (error);

  ts->base_url = g_strdup_printf ("http://127.0.0.1:%u", veza_server_get_http_port (ts->server));
  ts->rtmp_port = veza_server_get_rtmp_port (ts->server);
  ts->session = soup_session_new_with_options ("timeout", TEST_TIMEOUT_S, NULL);
  return ts;
}

static void
on_test_shutdown (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  veza_server_shutdown_finish (VEZA_SERVER (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

void
test_server_free (TestServer *ts)
{
  gboolean done = FALSE;

  if (ts == NULL)
    return;
  g_clear_object (&ts->session);
  veza_server_shutdown_async (ts->server, on_test_shutdown, &done);
  g_assert_true (test_wait_until (is_true, &done, TEST_TIMEOUT_S));
  g_clear_object (&ts->server);
  g_free (ts->base_url);
  g_free (ts->data_dir);
  g_free (ts);
}

char *
test_server_conninfo (TestServer *ts)
{
  return g_strdup (veza_server_get_conninfo (ts->server));
}

/* ---- HTTP --------------------------------------------------------------- */

void
test_response_free (TestResponse *r)
{
  if (r == NULL)
    return;
  g_free (r->body);
  g_clear_pointer (&r->root, json_node_unref);
  g_clear_pointer (&r->headers, soup_message_headers_unref);
  g_free (r);
}

typedef struct {
  GBytes   *bytes;
  GError   *error;
  gboolean  done;
} Pending;

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Pending *p = user_data;

  p->bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &p->error);
  p->done = TRUE;
}

static gboolean
pending_done (gpointer data)
{
  return ((Pending *) data)->done;
}

TestResponse *
test_request_full (TestServer          *ts,
                   const char          *method,
                   const char          *path,
                   const char * const  *headers,
                   const char          *body,
                   gsize                body_len)
{
  g_autofree char *url = g_strconcat (ts->base_url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  TestResponse *r;
  Pending p = { 0 };

  g_assert_nonnull (msg);
  for (guint i = 0; headers != NULL && headers[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (headers[i], ": ", 2);
      soup_message_headers_replace (soup_message_get_request_headers (msg), kv[0], kv[1]);
    }
  if (body != NULL)
    {
      g_autoptr(GBytes) b = g_bytes_new (body, body_len);
      const char *ct = soup_message_headers_get_content_type (soup_message_get_request_headers (msg), NULL);

      soup_message_set_request_body_from_bytes (msg, ct != NULL ? ct : "application/json", b);
    }

  soup_session_send_and_read_async (ts->session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, &p);
  g_assert_true (test_wait_until (pending_done, &p, TEST_TIMEOUT_S));
  g_assert_no_error (p.error);

  r = g_new0 (TestResponse, 1);
  r->status = soup_message_get_status (msg);
  r->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  r->body = g_bytes_unref_to_data (p.bytes, &r->body_len);
  r->body = g_realloc (r->body, r->body_len + 1);
  r->body[r->body_len] = '\0';
  if (r->body_len > 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      if (json_parser_load_from_data (parser, r->body, r->body_len, NULL))
        r->root = json_parser_steal_root (parser);
    }
  return r;
}

TestResponse *
test_request (TestServer *ts,
              const char *method,
              const char *path,
              const char *token,
              const char *body,
              const char *content_type)
{
  g_autofree char *auth = token != NULL ? g_strconcat ("Authorization: Bearer ", token, NULL) : NULL;
  g_autofree char *ct = content_type != NULL ? g_strconcat ("Content-Type: ", content_type, NULL)
                                             : NULL;
  const char *headers[3] = { NULL, NULL, NULL };
  guint n = 0;

  if (auth != NULL)
    headers[n++] = auth;
  if (ct != NULL)
    headers[n++] = ct;
  return test_request_full (ts, method, path, headers, body, body != NULL ? strlen (body) : 0);
}

JsonNode *
test_json_node (TestResponse *r,
                const char   *path)
{
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  JsonNode *node = r->root;

  for (guint i = 0; node != NULL && parts[i] != NULL; i++)
    {
      if (JSON_NODE_HOLDS_OBJECT (node))
        node = json_object_get_member (json_node_get_object (node), parts[i]);
      else if (JSON_NODE_HOLDS_ARRAY (node))
        {
          guint64 idx;
          JsonArray *a = json_node_get_array (node);

          if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXUINT, &idx, NULL) ||
              idx >= json_array_get_length (a))
            return NULL;
          node = json_array_get_element (a, (guint) idx);
        }
      else
        return NULL;
    }
  return node;
}

const char *
test_json_string (TestResponse *r,
                  const char   *path)
{
  JsonNode *node = test_json_node (r, path);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  return json_node_get_string (node);
}

gint64
test_json_int (TestResponse *r,
               const char   *path)
{
  JsonNode *node = test_json_node (r, path);

  g_assert_nonnull (node);
  return json_node_get_int (node);
}

gboolean
test_json_bool (TestResponse *r,
                const char   *path)
{
  JsonNode *node = test_json_node (r, path);

  g_assert_nonnull (node);
  return json_node_get_boolean (node);
}

void
test_assert_error (TestResponse *r,
                   guint         status,
                   const char   *code)
{
  if (r->status != status)
    g_printerr ("unexpected answer %u: %s\n", r->status, r->body);
  g_assert_cmpuint (r->status, ==, status);
  g_assert_nonnull (r->root);
  g_assert_false (test_json_bool (r, "success"));
  g_assert_cmpstr (test_json_string (r, "error.code"), ==, code);
  g_assert_nonnull (test_json_string (r, "error.message"));
}

char *
test_register_user (TestServer  *ts,
                    const char  *prefix,
                    char       **user_id)
{
  static guint counter;
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s%u\",\"password\":\"correct horse\"}",
                                           prefix, counter++);
  g_autoptr(TestResponse) r = test_request (ts, "POST", "/api/v1/auth/register", NULL, body, NULL);

  g_assert_cmpuint (r->status, ==, 201);
  if (user_id != NULL)
    *user_id = g_strdup (test_json_string (r, "data.user.id"));
  return g_strdup (test_json_string (r, "data.token"));
}

/* ---- media and children ------------------------------------------------- */

GPtrArray *
test_ffmpeg_publish_argv (const char *url,
                          const char *clip,
                          gboolean    loop)
{
  GPtrArray *argv = g_ptr_array_new ();
  const char *head[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-re" };
  const char *tail[] = { "-i", clip, "-c", "copy", "-f", "flv", url };

  for (guint i = 0; i < G_N_ELEMENTS (head); i++)
    g_ptr_array_add (argv, (gpointer) head[i]);
  if (loop)
    {
      g_ptr_array_add (argv, "-stream_loop");
      g_ptr_array_add (argv, "-1");
    }
  for (guint i = 0; i < G_N_ELEMENTS (tail); i++)
    g_ptr_array_add (argv, (gpointer) tail[i]);
  g_ptr_array_add (argv, NULL);
  return argv;
}

GSubprocess *
test_spawn (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  GSubprocess *proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                         G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                         G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);

  g_assert_no_error (error);
  return proc;
}

static void
on_child_waited (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

int
test_wait_child (GSubprocess *proc,
                 guint        timeout_s)
{
  gboolean done = FALSE;

  g_subprocess_wait_async (proc, NULL, on_child_waited, &done);
  if (!test_wait_until (is_true, &done, timeout_s))
    {
      test_kill_child (proc);
      return -1;
    }
  if (g_subprocess_get_if_exited (proc))
    return g_subprocess_get_exit_status (proc);
  return -1;
}

void
test_kill_child (GSubprocess *proc)
{
  gboolean done = FALSE;

  if (proc == NULL)
    return;
  g_subprocess_force_exit (proc);
  g_subprocess_wait_async (proc, NULL, on_child_waited, &done);
  test_wait_until (is_true, &done, 10);
}

const char *
test_make_clip (const char *kind,
                guint       seconds)
{
  static GHashTable *clips;
  g_autofree char *key = g_strdup_printf ("%s-%u", kind, seconds);
  char *path;
  g_autofree char *duration = g_strdup_printf ("%u", seconds);
  GPtrArray *argv;
  g_autoptr(GSubprocess) proc = NULL;

  if (clips == NULL)
    clips = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  path = g_hash_table_lookup (clips, key);
  if (path != NULL)
    return path;

  path = g_strdup_printf ("%s/clip-%s.flv", test_tmp_dir (), key);
  argv = g_ptr_array_new ();
  g_ptr_array_add (argv, "ffmpeg");
  g_ptr_array_add (argv, "-nostdin");
  g_ptr_array_add (argv, "-loglevel");
  g_ptr_array_add (argv, "error");
  g_ptr_array_add (argv, "-y");
  if (!g_str_equal (kind, "audio"))
    {
      g_ptr_array_add (argv, "-f");
      g_ptr_array_add (argv, "lavfi");
      g_ptr_array_add (argv, "-i");
      g_ptr_array_add (argv, "testsrc2=size=320x240:rate=30");
    }
  if (!g_str_equal (kind, "video"))
    {
      g_ptr_array_add (argv, "-f");
      g_ptr_array_add (argv, "lavfi");
      g_ptr_array_add (argv, "-i");
      g_ptr_array_add (argv, "sine=frequency=440:sample_rate=44100");
    }
  g_ptr_array_add (argv, "-t");
  g_ptr_array_add (argv, duration);
  if (!g_str_equal (kind, "audio"))
    {
      g_ptr_array_add (argv, "-c:v");
      g_ptr_array_add (argv, "libx264");
      g_ptr_array_add (argv, "-preset");
      g_ptr_array_add (argv, "ultrafast");
      g_ptr_array_add (argv, "-g");
      g_ptr_array_add (argv, "30");
      g_ptr_array_add (argv, "-keyint_min");
      g_ptr_array_add (argv, "30");
      g_ptr_array_add (argv, "-sc_threshold");
      g_ptr_array_add (argv, "0");
      g_ptr_array_add (argv, "-pix_fmt");
      g_ptr_array_add (argv, "yuv420p");
    }
  if (!g_str_equal (kind, "video"))
    {
      g_ptr_array_add (argv, "-c:a");
      g_ptr_array_add (argv, "aac");
    }
  g_ptr_array_add (argv, "-f");
  g_ptr_array_add (argv, "flv");
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, NULL);

  proc = test_spawn ((const char * const *) argv->pdata);
  g_ptr_array_unref (argv);
  g_assert_cmpint (test_wait_child (proc, 120), ==, 0);
  g_hash_table_insert (clips, g_steal_pointer (&key), path);
  return path;
}

char *
test_read_file (const char *path)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return contents;
}

/* ---- helpers of the REST API suites ------------------------------------- */

typedef struct {
  VezaDbResult *result;
  GError       *error;
  gboolean      done;
} DbPending;

static void
on_db_value (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  DbPending *p = user_data;

  p->result = veza_db_query_finish (VEZA_DB (source), result, &p->error);
  p->done = TRUE;
}

static gboolean
db_pending_done (gpointer data)
{
  return ((DbPending *) data)->done;
}

char *
test_db_value (TestServer         *ts,
               const char         *sql,
               int                 n_params,
               const char * const *params)
{
  DbPending p = { 0 };
  char *value;

  veza_db_query_async (veza_server_get_db (ts->server), sql, n_params, params, NULL,
                       on_db_value, &p);
  g_assert_true (test_wait_until (db_pending_done, &p, TEST_TIMEOUT_S));
  g_assert_no_error (p.error);
  value = g_strdup (veza_db_result_n_rows (p.result) > 0
                    ? veza_db_result_get (p.result, 0, "value")
                    : NULL);
  veza_db_result_unref (p.result);
  return value;
}

TestResponse *
test_stream_event (TestServer *ts,
                   const char *internal_token,
                   const char *event,
                   const char *stream_id)
{
  g_autofree char *header = internal_token != NULL
                            ? g_strconcat ("X-Internal-Token: ", internal_token, NULL) : NULL;
  g_autofree char *body = g_strdup_printf ("{\"event\":\"%s\",\"stream_id\":\"%s\"}",
                                           event, stream_id);
  const char *headers[2] = { header, NULL };

  return test_request_full (ts, "POST", "/internal/stream-events", headers, body, strlen (body));
}

char *
test_create_stream (TestServer *ts,
                    const char *token,
                    const char *title)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *body = NULL;
  g_autoptr(TestResponse) r = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "title");
  json_builder_add_string_value (b, title);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);

  r = test_request (ts, "POST", "/api/v1/live/streams", token, body, NULL);
  if (r->status != 201)
    g_printerr ("unexpected answer %u: %s\n", r->status, r->body);
  g_assert_cmpuint (r->status, ==, 201);
  g_assert_nonnull (test_json_string (r, "data.id"));
  return g_strdup (test_json_string (r, "data.id"));
}

void
test_fake_recording (TestServer *ts,
                     const char *stream_id)
{
  g_autofree char *dir = g_build_filename (ts->data_dir, "media", stream_id, NULL);
  const char *playlist =
    "#EXTM3U\n"
    "#EXT-X-VERSION:3\n"
    "#EXT-X-TARGETDURATION:2\n"
    "#EXT-X-MEDIA-SEQUENCE:0\n"
    "#EXTINF:2.000,\n"
    "segment-0.ts\n"
    "#EXT-X-ENDLIST\n";
  const char *names[] = { "live.m3u8", "vod.m3u8" };
  g_autoptr(GError) error = NULL;
  g_autofree char *segment = g_build_filename (dir, "segment-0.ts", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);

      g_file_set_contents (path, playlist, -1, &error);
      g_assert_no_error (error);
    }
  /* A null TS packet (sync byte, PID 0x1fff) padded to 188 bytes. */
  {
    char packet[188] = { 0x47, 0x1f, (char) 0xff, 0x10 };

    g_file_set_contents (segment, packet, sizeof packet, &error);
    g_assert_no_error (error);
  }
}

/* ---- vezad as a child process -------------------------------------------- */

static void read_next (Daemon *d);

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Daemon *d = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, NULL);

  if (line == NULL)
    {
      d->eof = TRUE;
      return;
    }
  g_string_append (d->log, line);
  g_string_append_c (d->log, '\n');
  read_next (d);
}

static void
read_next (Daemon *d)
{
  g_data_input_stream_read_line_async (d->err, G_PRIORITY_DEFAULT, NULL, on_line, d);
}

Daemon *
daemon_start (const char * const *args)
{
  Daemon *d = g_new0 (Daemon, 1);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("VEZAD"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  d->proc = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDERR_MERGE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                               &error);
  g_assert_no_error (error);
  d->err = g_data_input_stream_new (g_subprocess_get_stdout_pipe (d->proc));
  d->log = g_string_new (NULL);
  read_next (d);
  return d;
}

typedef struct {
  Daemon     *d;
  const char *needle;
} Want;

static gboolean
log_has (gpointer data)
{
  Want *w = data;
  return strstr (w->d->log->str, w->needle) != NULL || w->d->eof;
}

gboolean
daemon_wait_log (Daemon     *d,
                 const char *needle,
                 guint       timeout_s)
{
  Want w = { d, needle };

  test_wait_until (log_has, &w, timeout_s);
  if (strstr (d->log->str, needle) == NULL)
    g_printerr ("vezad log so far:\n%s\n", d->log->str);
  return strstr (d->log->str, needle) != NULL;
}

static gboolean
daemon_is_eof (gpointer data)
{
  return ((Daemon *) data)->eof;
}

/* Waits for the end of its output and its exit; returns the exit status. */
int
daemon_finish (Daemon *d,
               guint   timeout_s)
{
  int status;

  test_wait_until (daemon_is_eof, d, timeout_s);
  status = test_wait_child (d->proc, timeout_s);
  return status;
}

void
daemon_free (Daemon *d)
{
  if (g_subprocess_get_identifier (d->proc) != NULL)
    test_kill_child (d->proc);
  g_object_unref (d->err);
  g_object_unref (d->proc);
  g_string_free (d->log, TRUE);
  g_free (d);
}


TestServer *
test_server_for_url (const char *base_url)
{
  TestServer *ts = g_new0 (TestServer, 1);

  ts->base_url = g_strdup (base_url);
  ts->session = soup_session_new_with_options ("timeout", TEST_TIMEOUT_S, NULL);
  return ts;
}

void
test_server_for_url_free (TestServer *ts)
{
  g_clear_object (&ts->session);
  g_free (ts->base_url);
  g_free (ts);
}

void
streamer_free (Streamer *s)
{
  if (s == NULL)
    return;
  g_free (s->token);
  g_free (s->user_id);
  g_free (s->stream_id);
  g_free (s->key);
  g_free (s);
}
