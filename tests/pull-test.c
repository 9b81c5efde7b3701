/* pull-test.c — pull mode and the nginx-rtmp callbacks against a real
 * nginx with the RTMP module: a stream with a source_url pulled through the
 * API, an nginx-rtmp edge that accepts exactly Veza's stream keys (Veza then
 * pulls from the edge), and an upstream that goes away during a pull
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "test-utils.h"

#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define NGINX_MODULE "/usr/lib/nginx/modules/ngx_rtmp_module.so"
#define INTERNAL_TOKEN "pull-test-internal-secret"

static TestServer *ts;
static volatile pid_t postgres_pid;

/* Every child of this suite, so that none outlives it. */
static GPtrArray *children;

static void
kill_children (void)
{
  for (guint i = 0; children != NULL && i < children->len; i++)
    {
      GSubprocess *proc = g_ptr_array_index (children, i);

      if (g_subprocess_get_identifier (proc) != NULL)
        g_subprocess_force_exit (proc);
    }
}

/* The child dies with the test process, even when an assertion aborts it
 * (atexit handlers do not run then). */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn_child (const char * const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                               G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  if (children == NULL)
    {
      children = g_ptr_array_new_with_free_func (g_object_unref);
      atexit (kill_children);
    }
  g_ptr_array_add (children, g_object_ref (proc));
  return proc;
}

/* A failed assertion aborts the process: the children above die with it,
 * the server's embedded PostgreSQL is told to stop here. */
static void
on_fatal_signal (int sig)
{
  if (postgres_pid > 0)
    kill (postgres_pid, SIGQUIT);
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
watch_postgres (void)
{
  g_autofree char *path = g_build_filename (ts->data_dir, "postgres", "data", "postmaster.pid",
                                            NULL);
  g_autofree char *contents = test_read_file (path);

  if (contents != NULL)
    postgres_pid = (pid_t) g_ascii_strtoll (contents, NULL, 10);
  signal (SIGABRT, on_fatal_signal);
  signal (SIGTRAP, on_fatal_signal);
}

/* ---- nginx with the RTMP module ----------------------------------------- */

typedef struct {
  char        *dir;
  guint16      port;
  GSubprocess *proc;
} Nginx;

static guint16
free_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_no_error (error);
  g_socket_bind (sock, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
port_open (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;

  g_socket_client_set_timeout (client, 2);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return conn != NULL;
}

static void
nginx_print_log (Nginx *n)
{
  g_autofree char *path = g_build_filename (n->dir, "error.log", NULL);
  g_autofree char *log = test_read_file (path);

  g_printerr ("nginx error.log:\n%s\n", log != NULL ? log : "(none)");
}

/* Starts nginx on a free port with the applications of @applications (the
 * text inside `server { }` after `listen`). */
static Nginx *
nginx_start (const char *applications)
{
  static guint counter;
  Nginx *n = g_new0 (Nginx, 1);
  g_autofree char *name = g_strdup_printf ("nginx-%u", counter++);
  g_autofree char *conf_path = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *error_log = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  n->dir = g_build_filename (test_tmp_dir (), name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (n->dir, 0755), ==, 0);
  conf_path = g_build_filename (n->dir, "nginx.conf", NULL);
  error_log = g_build_filename (n->dir, "error.log", NULL);

  for (guint attempt = 0; attempt < 5; attempt++)
    {
      n->port = free_port ();
      conf = g_strdup_printf ("load_module %s;\n"
                              "daemon off;\n"
                              "master_process off;\n"
                              "%s"
                              "pid %s/nginx.pid;\n"
                              "error_log %s warn;\n"
                              "events { worker_connections 256; }\n"
                              "rtmp {\n"
                              "  server {\n"
                              "    listen 127.0.0.1:%u;\n"
                              "    chunk_size 4096;\n"
                              "%s"
                              "  }\n"
                              "}\n",
                              NGINX_MODULE, geteuid () == 0 ? "user root;\n" : "",
                              n->dir, error_log, n->port, applications);
      g_file_set_contents (conf_path, conf, -1, &error);
      g_assert_no_error (error);
      g_clear_pointer (&conf, g_free);

      {
        const char *argv[] = { "nginx", "-p", n->dir, "-e", error_log, "-c", conf_path, NULL };
        n->proc = spawn_child (argv);
      }

      deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
      while (g_get_monotonic_time () < deadline && g_subprocess_get_identifier (n->proc) != NULL &&
             !port_open (n->port))
        test_run_for (100);
      if (g_subprocess_get_identifier (n->proc) != NULL && port_open (n->port))
        return n;

      /* The port was taken in between, or nginx failed: try again. */
      nginx_print_log (n);
      test_kill_child (n->proc);
      g_clear_object (&n->proc);
    }
  g_error ("nginx did not start");
  return NULL;
}

static void
nginx_stop (Nginx *n)
{
  if (n == NULL)
    return;
  if (n->proc != NULL)
    {
      /* SIGQUIT: a graceful stop (nginx's own protocol) */
      if (g_subprocess_get_identifier (n->proc) != NULL)
        g_subprocess_send_signal (n->proc, SIGQUIT);
      if (test_wait_child (n->proc, 5) < 0)
        test_kill_child (n->proc);
      g_clear_object (&n->proc);
    }
  g_free (n->dir);
  g_free (n);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Nginx, nginx_stop)

/* ---- publishers --------------------------------------------------------- */

static GSubprocess *
publish (const char *url,
         const char *clip,
         gboolean    loop)
{
  g_autoptr(GPtrArray) argv = test_ffmpeg_publish_argv (url, clip, loop);

  return spawn_child ((const char * const *) argv->pdata);
}

static gboolean
still_running (GSubprocess *proc)
{
  /* let the child watch see an exit that already happened */
  test_run_for (50);
  return g_subprocess_get_identifier (proc) != NULL;
}

/* ---- the server's state ------------------------------------------------- */


/* A user and a stream; @source_url is nullable. */
static Streamer *
streamer_new (const char *title,
              const char *source_url)
{
  Streamer *s = g_new0 (Streamer, 1);
  g_autofree char *body = NULL;
  g_autoptr(TestResponse) r = NULL;

  if (source_url != NULL)
    body = g_strdup_printf ("{\"title\":\"%s\",\"source_url\":\"%s\"}", title, source_url);
  else
    body = g_strdup_printf ("{\"title\":\"%s\"}", title);
  s->token = test_register_user (ts, "puller", &s->user_id);
  r = test_request (ts, "POST", "/api/v1/live/streams", s->token, body, NULL);
  if (r->status != 201)
    g_printerr ("unexpected answer %u: %s\n", r->status, r->body);
  g_assert_cmpuint (r->status, ==, 201);
  s->stream_id = g_strdup (test_json_string (r, "data.id"));
  s->key = g_strdup (test_json_string (r, "data.stream_key"));
  g_assert_nonnull (s->key);
  g_assert_cmpstr (test_json_string (r, "data.source_url"), ==, source_url);
  return s;
}

static char *
stream_path (const char *id,
             const char *action)   /* nullable */
{
  return g_strconcat ("/api/v1/live/streams/", id, action != NULL ? "/" : NULL, action, NULL);
}

static TestResponse *
get_stream (const char *id)
{
  g_autofree char *path = stream_path (id, NULL);
  return test_request (ts, "GET", path, NULL, NULL, NULL);
}

static TestResponse *
fetch (const char *id,
       const char *name)
{
  g_autofree char *path = g_strdup_printf ("/hls/%s/%s", id, name);
  return test_request (ts, "GET", path, NULL, NULL, NULL);
}

/* Polls GET @path every 200 ms until it answers 200 containing @needle. */
static gboolean
wait_for (const char *path,
          const char *needle,
          guint       timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(TestResponse) r = test_request (ts, "GET", path, NULL, NULL, NULL);

      if (r->status == 200 && strstr (r->body, needle) != NULL)
        return TRUE;
      test_run_for (200);
    }
  return FALSE;
}

static gboolean
wait_segments (const char *id,
               guint       timeout_s)
{
  g_autofree char *path = g_strdup_printf ("/hls/%s/live.m3u8", id);
  return wait_for (path, "#EXTINF", timeout_s);
}

static gboolean
wait_live (const char *id,
           gboolean    live,
           guint       timeout_s)
{
  g_autofree char *path = stream_path (id, NULL);
  return wait_for (path, live ? "\"is_live\":true" : "\"is_live\":false", timeout_s);
}

/* Starts pulling @s's source (whose publisher was just started on nginx)
 * and waits for its first segment. */
static void
start_pull (Streamer *s)
{
  g_autofree char *start = stream_path (s->stream_id, "start");
  g_autoptr(TestResponse) r = NULL;

  /* The publisher is on nginx before Veza starts pulling. */
  test_run_for (1000);
  r = test_request (ts, "POST", start, s->token, NULL, NULL);
  g_assert_cmpuint (r->status, ==, 200);
  g_assert_true (wait_segments (s->stream_id, 25));
}

static guint
count_lines_with (const char *text,
                  const char *prefix)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      n++;
  return n;
}

/* Every segment the playlist lists is served, as MPEG-TS. */
static void
assert_segments_served (const char *id,
                        const char *playlist)
{
  g_auto(GStrv) lines = g_strsplit (playlist, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(TestResponse) r = NULL;

      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      r = fetch (id, lines[i]);
      g_assert_cmpuint (r->status, ==, 200);
      g_assert_cmpstr (soup_message_headers_get_content_type (r->headers, NULL), ==, "video/mp2t");
      g_assert_cmpuint (r->body_len, >, 188);
      g_assert_cmpint (r->body[0], ==, 0x47);
      n++;
    }
  g_assert_cmpuint (n, >, 0);
}

/* The broadcast ended as a VOD: the row says so, both playlists are closed
 * and every segment is served. */
static void
assert_vod (const char *id)
{
  g_autoptr(TestResponse) row = get_stream (id);
  g_autoptr(TestResponse) vod = fetch (id, "vod.m3u8");
  g_autoptr(TestResponse) live = fetch (id, "live.m3u8");

  g_assert_false (test_json_bool (row, "data.stream.is_live"));
  g_assert_true (test_json_bool (row, "data.stream.is_vod"));
  g_assert_nonnull (test_json_string (row, "data.stream.ended_at"));
  g_assert_true (g_str_has_suffix (test_json_string (row, "data.stream.stream_url"), "/vod.m3u8"));
  g_assert_cmpuint (vod->status, ==, 200);
  g_assert_nonnull (strstr (vod->body, "#EXT-X-PLAYLIST-TYPE:VOD"));
  g_assert_nonnull (strstr (vod->body, "#EXT-X-ENDLIST"));
  g_assert_cmpuint (count_lines_with (vod->body, "#EXTINF:"), >=, 1);
  assert_segments_served (id, vod->body);
  g_assert_nonnull (strstr (live->body, "#EXT-X-ENDLIST"));
}

/* The stream key shows in none of the public answers nor the playlists. */
static void
assert_key_private (const Streamer *s)
{
  const char *public_paths[] = {
    "/api/v1/live/streams", "/api/v1/live/streams?is_live=true", "/api/v1/live/streams?limit=100",
  };
  g_autoptr(TestResponse) row = get_stream (s->stream_id);
  g_autoptr(TestResponse) live = fetch (s->stream_id, "live.m3u8");
  g_autoptr(TestResponse) vod = fetch (s->stream_id, "vod.m3u8");
  g_autoptr(TestResponse) metrics = test_request (ts, "GET", "/metrics", NULL, NULL, NULL);

  g_assert_cmpuint (row->status, ==, 200);
  g_assert_null (strstr (row->body, s->key));
  g_assert_null (test_json_node (row, "data.stream.stream_key"));
  g_assert_null (test_json_node (row, "data.stream.source_url"));
  g_assert_null (strstr (live->body, s->key));
  g_assert_null (strstr (vod->body, s->key));
  g_assert_null (strstr (metrics->body, s->key));
  for (guint i = 0; i < G_N_ELEMENTS (public_paths); i++)
    {
      g_autoptr(TestResponse) r = test_request (ts, "GET", public_paths[i], NULL, NULL, NULL);

      g_assert_cmpuint (r->status, ==, 200);
      g_assert_null (strstr (r->body, s->key));
    }
}

static guint
n_live_streams (void)
{
  g_autoptr(TestResponse) r = test_request (ts, "GET", "/api/v1/live/streams?is_live=true&limit=100",
                                            NULL, NULL, NULL);
  JsonNode *streams = test_json_node (r, "data.streams");

  g_assert_nonnull (streams);
  return json_array_get_length (json_node_get_array (streams));
}

/* ---- 1. a pull started and stopped through the API ---------------------- */

static void
test_pull_api (void)
{
  g_autoptr(Nginx) nginx = nginx_start ("    application src { live on; }\n");
  g_autofree char *source = g_strdup_printf ("rtmp://127.0.0.1:%u/src/feed", nginx->port);
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pub = publish (source, clip, TRUE);
  g_autoptr(Streamer) s = streamer_new ("pulled", source);
  g_autoptr(Streamer) plain = streamer_new ("not pulled", NULL);
  g_autofree char *other_token = test_register_user (ts, "other", NULL);
  g_autofree char *start = stream_path (s->stream_id, "start");
  g_autofree char *stop = stream_path (s->stream_id, "stop");
  g_autofree char *plain_start = stream_path (plain->stream_id, "start");

  /* The publisher is on nginx before Veza starts pulling. */
  test_run_for (1000);
  g_assert_true (still_running (pub));

  {
    g_autoptr(TestResponse) denied = test_request (ts, "POST", start, other_token, NULL, NULL);
    g_autoptr(TestResponse) anonymous = test_request (ts, "POST", start, NULL, NULL, NULL);
    g_autoptr(TestResponse) no_source = test_request (ts, "POST", plain_start, plain->token,
                                                      NULL, NULL);

    test_assert_error (denied, 403, "forbidden");
    g_assert_cmpuint (anonymous->status, ==, 401);
    test_assert_error (no_source, 409, "conflict");
  }
  {
    g_autoptr(TestResponse) row = get_stream (plain->stream_id);
    g_assert_false (test_json_bool (row, "data.stream.is_live"));
  }

  {
    g_autoptr(TestResponse) r = test_request (ts, "POST", start, s->token, NULL, NULL);

    if (r->status != 200)
      g_printerr ("unexpected answer %u: %s\n", r->status, r->body);
    g_assert_cmpuint (r->status, ==, 200);
    g_assert_true (test_json_bool (r, "data.is_live"));
    g_assert_cmpstr (test_json_string (r, "data.id"), ==, s->stream_id);
  }
  {
    g_autoptr(TestResponse) again = test_request (ts, "POST", start, s->token, NULL, NULL);
    test_assert_error (again, 409, "conflict");
  }

  g_assert_true (wait_segments (s->stream_id, 25));
  {
    g_autoptr(TestResponse) row = get_stream (s->stream_id);

    g_assert_true (test_json_bool (row, "data.stream.is_live"));
    g_assert_true (g_str_has_suffix (test_json_string (row, "data.stream.stream_url"), "/live.m3u8"));
  }
  /* a little more, so that the VOD has a few segments */
  test_run_for (2500);
  assert_key_private (s);

  {
    g_autoptr(TestResponse) denied = test_request (ts, "POST", stop, other_token, NULL, NULL);
    g_autoptr(TestResponse) r = test_request (ts, "POST", stop, s->token, NULL, NULL);

    test_assert_error (denied, 403, "forbidden");
    if (r->status != 200)
      g_printerr ("unexpected answer %u: %s\n", r->status, r->body);
    g_assert_cmpuint (r->status, ==, 200);
    g_assert_false (test_json_bool (r, "data.is_live"));
    g_assert_true (test_json_bool (r, "data.is_vod"));
  }
  assert_vod (s->stream_id);
  assert_key_private (s);

  /* Stopping Veza's pull leaves the upstream alone. */
  g_assert_true (still_running (pub));

  /* Started again, the ended stream hands its key and source to a new
   * broadcast, which the answer shows. */
  {
    g_autoptr(TestResponse) r = test_request (ts, "POST", start, s->token, NULL, NULL);
    g_autofree char *next_id = NULL;
    g_autofree char *next_stop = NULL;
    g_autoptr(TestResponse) stopped = NULL;

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_true (test_json_bool (r, "data.is_live"));
    next_id = g_strdup (test_json_string (r, "data.id"));
    g_assert_cmpstr (next_id, !=, s->stream_id);
    g_assert_cmpstr (test_json_string (r, "data.source_url"), ==, source);
    g_assert_true (wait_segments (next_id, 25));

    next_stop = stream_path (next_id, "stop");
    stopped = test_request (ts, "POST", next_stop, s->token, NULL, NULL);
    g_assert_cmpuint (stopped->status, ==, 200);
    g_assert_true (test_json_bool (stopped, "data.is_vod"));
    assert_vod (next_id);
    /* the first broadcast's VOD is untouched */
    assert_vod (s->stream_id);
  }
  test_kill_child (pub);
}

/* ---- 2. an nginx-rtmp edge using Veza's keys ---------------------------- */

static void
configure_internal_token (VezaConfig *config)
{
  g_free (config->internal_token);
  config->internal_token = g_strdup (INTERNAL_TOKEN);
}

static char *
edge_applications (void)
{
  const char *base = ts->base_url;

  return g_strdup_printf ("    application live {\n"
                          "      live on;\n"
                          "      on_publish %s/internal/rtmp/on_publish?token=%s;\n"
                          "      on_publish_done %s/internal/rtmp/on_publish_done?token=%s;\n"
                          "    }\n"
                          "    application wrongtoken {\n"
                          "      live on;\n"
                          "      on_publish %s/internal/rtmp/on_publish?token=not-the-secret;\n"
                          "    }\n",
                          base, INTERNAL_TOKEN, base, INTERNAL_TOKEN, base);
}

static void
test_edge (void)
{
  g_autofree char *apps = edge_applications ();
  g_autoptr(Nginx) nginx = nginx_start (apps);
  g_autoptr(Streamer) s = streamer_new ("edge", NULL);
  g_autoptr(Streamer) t = streamer_new ("wrong token", NULL);
  const char *clip = test_make_clip ("av", 8);
  g_autofree char *url = g_strdup_printf ("rtmp://127.0.0.1:%u/live/%s", nginx->port, s->key);
  g_autoptr(GSubprocess) pub = NULL;
  guint live_before = n_live_streams ();

  /* An unknown key: Veza says no, nginx refuses the publish. */
  {
    g_autofree char *bad = g_strdup_printf ("rtmp://127.0.0.1:%u/live/live_not_a_real_key",
                                            nginx->port);
    g_autoptr(GSubprocess) intruder = publish (bad, clip, FALSE);

    g_assert_cmpint (test_wait_child (intruder, 20), !=, 0);
    g_assert_cmpuint (n_live_streams (), ==, live_before);
  }
  /* A valid key through an edge configured with the wrong secret. */
  {
    g_autofree char *wrong = g_strdup_printf ("rtmp://127.0.0.1:%u/wrongtoken/%s",
                                              nginx->port, t->key);
    g_autoptr(GSubprocess) refused = publish (wrong, clip, FALSE);
    g_autoptr(TestResponse) row = NULL;

    g_assert_cmpint (test_wait_child (refused, 20), !=, 0);
    row = get_stream (t->stream_id);
    g_assert_false (test_json_bool (row, "data.stream.is_live"));
    g_assert_null (test_json_string (row, "data.stream.started_at"));
    g_assert_cmpuint (n_live_streams (), ==, live_before);
  }

  /* A valid key: accepted, Veza goes live and pulls from the edge. */
  pub = publish (url, clip, TRUE);
  g_assert_true (wait_live (s->stream_id, TRUE, 15));
  g_assert_true (wait_segments (s->stream_id, 25));
  g_assert_true (still_running (pub));
  g_assert_cmpuint (n_live_streams (), ==, live_before + 1);
  test_run_for (2000);
  assert_key_private (s);

  /* A second publisher on the same key is not let in, and its attempt
   * does not end the first one's broadcast. */
  {
    g_autoptr(GSubprocess) second = publish (url, clip, FALSE);
    g_autoptr(TestResponse) row = NULL;

    g_assert_cmpint (test_wait_child (second, 20), !=, 0);
    test_run_for (1000);
    g_assert_true (still_running (pub));
    row = get_stream (s->stream_id);
    g_assert_true (test_json_bool (row, "data.stream.is_live"));
  }

  /* The publisher stops (SIGTERM: ffmpeg closes the stream) →
   * on_publish_done → the broadcast ends as a VOD. */
  g_subprocess_send_signal (pub, SIGTERM);
  g_assert_cmpint (test_wait_child (pub, 15), >=, 0);
  g_assert_true (wait_live (s->stream_id, FALSE, 20));
  assert_vod (s->stream_id);
  assert_key_private (s);
  g_assert_cmpuint (n_live_streams (), ==, live_before);

  /* The same key again: a new broadcast (the ended row hands its key to a
   * successor), which the edge's end of publish ends too. */
  {
    g_autoptr(GSubprocess) again = publish (url, clip, TRUE);
    g_autoptr(TestResponse) mine = NULL;
    g_autofree char *next_id = NULL;

    g_assert_true (wait_for ("/api/v1/live/streams?is_live=true", "\"edge\"", 15));
    mine = test_request (ts, "GET", "/api/v1/live/streams/me", s->token, NULL, NULL);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (test_json_node (mine,
                                                                                  "data.streams"))),
                      ==, 2);
    next_id = g_strdup (test_json_string (mine, "data.streams.0.id"));
    g_assert_cmpstr (next_id, !=, s->stream_id);
    g_assert_cmpstr (test_json_string (mine, "data.streams.0.stream_key"), ==, s->key);
    g_assert_true (wait_segments (next_id, 25));

    g_subprocess_send_signal (again, SIGTERM);
    g_assert_cmpint (test_wait_child (again, 15), >=, 0);
    g_assert_true (wait_live (next_id, FALSE, 10));
    assert_vod (next_id);
  }
}

/* The callbacks themselves, as nginx-rtmp posts them. */
static void
test_edge_callbacks (void)
{
  g_autoptr(Streamer) s = streamer_new ("callbacks", NULL);
  g_autofree char *form = g_strdup_printf ("call=publish&name=%s&app=live&"
                                           "tcurl=rtmp://127.0.0.1:1/live&addr=192.0.2.7", s->key);
  const char *form_type[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
  g_autoptr(TestResponse) no_token = test_request_full (ts, "POST", "/internal/rtmp/on_publish",
                                                        form_type, form, strlen (form));
  g_autoptr(TestResponse) wrong = test_request_full (ts, "POST",
                                                     "/internal/rtmp/on_publish?token=nope",
                                                     form_type, form, strlen (form));
  g_autoptr(TestResponse) wrong_done =
    test_request_full (ts, "POST", "/internal/rtmp/on_publish_done?token=nope",
                       form_type, form, strlen (form));
  g_autoptr(TestResponse) unknown = NULL;
  g_autoptr(TestResponse) no_name = NULL;
  g_autoptr(TestResponse) row = NULL;

  g_assert_cmpuint (no_token->status, ==, 403);
  g_assert_cmpuint (wrong->status, ==, 403);
  g_assert_cmpuint (wrong_done->status, ==, 403);

  {
    const char *body = "call=publish&name=live_unknown_key&app=live&"
                       "tcurl=rtmp://127.0.0.1:1/live&addr=192.0.2.7";

    unknown = test_request_full (ts, "POST", "/internal/rtmp/on_publish?token=" INTERNAL_TOKEN,
                                 form_type, body, strlen (body));
    g_assert_cmpuint (unknown->status, ==, 403);
  }
  {
    const char *body = "call=publish&app=live";

    no_name = test_request_full (ts, "POST", "/internal/rtmp/on_publish?token=" INTERNAL_TOKEN,
                                 form_type, body, strlen (body));
    g_assert_cmpuint (no_name->status, ==, 400);
  }

  test_run_for (300);
  row = get_stream (s->stream_id);
  g_assert_false (test_json_bool (row, "data.stream.is_live"));
}

/* ---- 3. the upstream goes away during a pull ---------------------------- */

/* The upstream's publisher comes back within the grace: the pull goes on
 * in the same broadcast, after a discontinuity. */
static void
test_upstream_back_within_grace (void)
{
  g_autoptr(Nginx) nginx = nginx_start ("    application src { live on; }\n");
  g_autofree char *source = g_strdup_printf ("rtmp://127.0.0.1:%u/src/flaky", nginx->port);
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pub = publish (source, clip, TRUE);
  g_autoptr(GSubprocess) back = NULL;
  g_autoptr(Streamer) s = streamer_new ("flaky upstream", source);
  g_autofree char *stop = stream_path (s->stream_id, "stop");
  g_autoptr(TestResponse) vod = NULL;

  start_pull (s);

  test_kill_child (pub);
  back = publish (source, clip, TRUE);
  /* well past the grace (3 s in these tests) */
  test_run_for (6000);
  {
    g_autoptr(TestResponse) row = get_stream (s->stream_id);
    g_assert_true (test_json_bool (row, "data.stream.is_live"));
  }
  {
    g_autofree char *live = g_strdup_printf ("/hls/%s/live.m3u8", s->stream_id);
    g_assert_true (wait_for (live, "#EXT-X-DISCONTINUITY", 10));
  }
  {
    g_autoptr(TestResponse) r = test_request (ts, "POST", stop, s->token, NULL, NULL);
    g_assert_cmpuint (r->status, ==, 200);
  }
  vod = fetch (s->stream_id, "vod.m3u8");
  g_assert_nonnull (strstr (vod->body, "#EXT-X-DISCONTINUITY"));
  assert_vod (s->stream_id);
  test_kill_child (back);
}

/* The publisher of the upstream stream dies; the upstream server stays. */
static void
test_upstream_publisher_gone (void)
{
  g_autoptr(Nginx) nginx = nginx_start ("    application src { live on; }\n");
  g_autofree char *source = g_strdup_printf ("rtmp://127.0.0.1:%u/src/unpublished", nginx->port);
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pub = publish (source, clip, TRUE);
  g_autoptr(Streamer) s = streamer_new ("publisher gone", source);
  gint64 t0;

  start_pull (s);
  test_run_for (2000);

  test_kill_child (pub);
  t0 = g_get_monotonic_time ();
  g_assert_true (wait_live (s->stream_id, FALSE, 20));
  g_test_message ("ended %.1f s after the publisher went away",
                  (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
  assert_vod (s->stream_id);
}

static void
test_upstream_gone (void)
{
  Nginx *nginx = nginx_start ("    application src { live on; }\n");
  g_autofree char *source = g_strdup_printf ("rtmp://127.0.0.1:%u/src/gone", nginx->port);
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pub = publish (source, clip, TRUE);
  g_autoptr(Streamer) s = streamer_new ("upstream gone", source);
  g_autofree char *start = stream_path (s->stream_id, "start");
  gint64 t0;

  start_pull (s);
  test_run_for (2000);

  /* The publisher and the upstream server die. */
  test_kill_child (pub);
  g_subprocess_force_exit (nginx->proc);
  t0 = g_get_monotonic_time ();
  g_assert_true (wait_live (s->stream_id, FALSE, 20));
  g_test_message ("ended %.1f s after the upstream went away",
                  (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
  assert_vod (s->stream_id);

  /* Started while its upstream is unreachable: live for the grace, then
   * ended, with nothing to replay. */
  {
    g_autoptr(TestResponse) r = test_request (ts, "POST", start, s->token, NULL, NULL);
    g_autoptr(TestResponse) row = NULL;
    const char *next_id;

    g_assert_cmpuint (r->status, ==, 200);
    next_id = test_json_string (r, "data.id");
    g_assert_true (wait_live (next_id, FALSE, 20));
    row = get_stream (next_id);
    g_assert_false (test_json_bool (row, "data.stream.is_vod"));
    g_assert_null (test_json_string (row, "data.stream.stream_url"));
    g_assert_nonnull (test_json_string (row, "data.stream.ended_at"));
  }
  nginx_stop (nginx);
}

static void
skip_without_nginx (void)
{
  g_test_skip ("nginx with the RTMP module is not installed");
}

int
main (int argc, char *argv[])
{
  int ret;

  g_autofree char *nginx = NULL;

  g_test_init (&argc, &argv, NULL);

  nginx = g_find_program_in_path ("nginx");
  if (nginx == NULL || !g_file_test (NGINX_MODULE, G_FILE_TEST_EXISTS))
    {
      g_test_add_func ("/veza/pull/nginx-missing", skip_without_nginx);
      return g_test_run ();
    }

  ts = test_server_new (configure_internal_token);
  watch_postgres ();

  g_test_add_func ("/veza/pull/api-start-stop", test_pull_api);
  g_test_add_func ("/veza/pull/edge-callbacks", test_edge_callbacks);
  g_test_add_func ("/veza/pull/nginx-edge", test_edge);
  g_test_add_func ("/veza/pull/upstream-gone", test_upstream_gone);
  g_test_add_func ("/veza/pull/upstream-publisher-gone", test_upstream_publisher_gone);
  g_test_add_func ("/veza/pull/upstream-back-within-grace", test_upstream_back_within_grace);

  ret = g_test_run ();
  test_server_free (ts);
  postgres_pid = 0;
  kill_children ();
  g_clear_pointer (&children, g_ptr_array_unref);
  return ret;
}
