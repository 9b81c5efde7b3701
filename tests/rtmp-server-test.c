/* rtmp-server-test.c — the RTMP server against real publishers
 *
 * The server runs in-process on 127.0.0.1; ffmpeg and gst-launch-1.0
 * (rtmp2sink) publish a clip generated at start-up; raw sockets send
 * malformed input.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "veza-rtmp-server.h"

static char *tmp_dir;
static char *clip_path;

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

typedef gboolean (*Predicate) (gpointer data);

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the main context until @pred holds or @timeout_s passes. */
static gboolean
wait_until (Predicate pred, gpointer data, double timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  guint id = g_timeout_add (50, wake, NULL);
  gboolean ok;

  while (!(ok = pred (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  return ok;
}

static gboolean
bool_is_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
child_setup (gpointer data)
{
  /* A child must not outlive a test that aborts. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

typedef struct {
  GSubprocess *proc;
  gboolean done;
} Child;

static void
child_waited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Child *child = user_data;
  /* The exit status is read afterwards; an error here means cancelled. */
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  child->done = TRUE;
}

static Child *
child_spawn (const char * const *argv)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  Child *child = g_new0 (Child, 1);

  launcher = g_subprocess_launcher_new (g_getenv ("VEZA_TEST_VERBOSE")
                                          ? G_SUBPROCESS_FLAGS_NONE
                                          : G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                              G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  child->proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_wait_async (child->proc, NULL, child_waited, child);
  return child;
}

/* Waits for the child to end (killing it after @timeout_s); returns its exit
 * status, or -1 if it had to be killed or died of a signal. */
static int
child_finish (Child *child, double timeout_s)
{
  int status = -1;

  if (!wait_until (bool_is_set, &child->done, timeout_s))
    {
      g_test_message ("child did not finish in %.0f s: killing it", timeout_s);
      g_subprocess_force_exit (child->proc);
      wait_until (bool_is_set, &child->done, 5);
    }
  else if (g_subprocess_get_if_exited (child->proc))
    status = g_subprocess_get_exit_status (child->proc);
  g_object_unref (child->proc);
  g_free (child);
  return status;
}

static Child *
spawn_ffmpeg (guint16 port, const char *key)
{
  g_autofree char *url = g_strdup_printf ("rtmp://127.0.0.1:%u/live/%s", port, key);
  const char *argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", clip_path,
                         "-c", "copy", "-f", "flv", url, NULL };
  return child_spawn (argv);
}

static Child *
spawn_rtmp2sink (guint16 port, const char *key)
{
  g_autofree char *loc = g_strdup_printf ("location=%s", clip_path);
  g_autofree char *url = g_strdup_printf ("location=rtmp://127.0.0.1:%u/live/%s", port, key);
  const char *argv[] = { "gst-launch-1.0", "-q", "-e", "filesrc", loc, "!", "flvdemux",
                         "name=d", "flvmux", "name=m", "streamable=true", "!", "rtmp2sink",
                         url, "d.video", "!", "queue", "!", "h264parse", "!", "m.video",
                         "d.audio", "!", "queue", "!", "aacparse", "!", "m.audio", NULL };
  return child_spawn (argv);
}

/* ---------------------------------------------------------------------- */
/* A server with a publish handler that records what happens              */
/* ---------------------------------------------------------------------- */

typedef struct {
  char *stream_name;
  guint n_media[3];      /* audio, video, script */
  guint32 last_ts[3];
  gboolean ts_decreased;
  gboolean meta_ok;
  gboolean accepted;
  gboolean unpublished;
  gboolean closed;
  guint n_closed;
  guint64 bytes;
} Publisher;

typedef struct {
  VezaRtmpServer *server;
  guint16 port;
  GPtrArray *publishers; /* Publisher* */
} Fixture;

static void
publisher_free (gpointer data)
{
  Publisher *p = data;
  g_free (p->stream_name);
  g_free (p);
}

static int
media_index (guint type)
{
  return type == 8 ? 0 : type == 9 ? 1 : 2;
}

static void
on_media (VezaRtmpSession *session, guint type, guint32 ts, GBytes *payload, gpointer data)
{
  Publisher *p = data;
  int i = media_index (type);
  gsize size;
  const guint8 *body = g_bytes_get_data (payload, &size);

  g_assert_true (type == 8 || type == 9 || type == 18);
  g_assert_true (p->accepted);
  if (p->n_media[i] > 0 && ts < p->last_ts[i])
    p->ts_decreased = TRUE;
  p->last_ts[i] = ts;
  p->n_media[i]++;
  if (type == 18)
    {
      static const guint8 on_meta[] = { 0x02, 0x00, 0x0a, 'o', 'n', 'M', 'e', 't', 'a',
                                        'D', 'a', 't', 'a' };
      p->meta_ok = size > sizeof on_meta && memcmp (body, on_meta, sizeof on_meta) == 0 &&
                   (body[sizeof on_meta] == 0x08 || body[sizeof on_meta] == 0x03);
    }
}

static void
on_unpublished (VezaRtmpSession *session, gpointer data)
{
  Publisher *p = data;
  g_assert_false (p->unpublished);
  p->unpublished = TRUE;
}

static void
on_closed (VezaRtmpSession *session, const GError *error, gpointer data)
{
  Publisher *p = data;
  p->closed = TRUE;
  p->n_closed++;
  p->bytes = veza_rtmp_session_get_bytes_received (session);
}

static void
on_publish (VezaRtmpServer *server, VezaRtmpSession *session, const char *app,
            const char *stream_name, gpointer data)
{
  Fixture *f = data;
  Publisher *p = g_new0 (Publisher, 1);

  g_assert_cmpstr (app, ==, "live");
  g_assert_cmpstr (veza_rtmp_session_get_app (session), ==, "live");
  g_assert_cmpstr (veza_rtmp_session_get_stream_name (session), ==, stream_name);
  g_assert_nonnull (veza_rtmp_session_get_remote_address (session));
  p->stream_name = g_strdup (stream_name);
  g_ptr_array_add (f->publishers, p);
  g_signal_connect (session, "media", G_CALLBACK (on_media), p);
  g_signal_connect (session, "unpublished", G_CALLBACK (on_unpublished), p);
  g_signal_connect (session, "closed", G_CALLBACK (on_closed), p);

  if (g_str_equal (stream_name, "goodkey"))
    {
      p->accepted = TRUE;
      veza_rtmp_session_accept_publish (session);
    }
  else
    veza_rtmp_session_reject_publish (session, "NetStream.Publish.BadName", "Unknown key.");
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  const VezaRtmpLimits *limits = data;
  g_autoptr (GError) error = NULL;

  f->server = veza_rtmp_server_new (limits);
  f->publishers = g_ptr_array_new_with_free_func (publisher_free);
  g_signal_connect (f->server, "publish", G_CALLBACK (on_publish), f);
  g_assert_true (veza_rtmp_server_listen (f->server, "127.0.0.1", 0, &f->port, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->port, >, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  veza_rtmp_server_stop (f->server);
  g_assert_cmpuint (veza_rtmp_server_get_n_sessions (f->server), ==, 0);
  g_clear_object (&f->server);
  g_clear_pointer (&f->publishers, g_ptr_array_unref);
  /* Let cancelled operations of closed sessions return. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
publisher_closed (gpointer data)
{
  return ((Publisher *) data)->closed;
}

static gboolean
no_sessions (gpointer data)
{
  return veza_rtmp_server_get_n_sessions (data) == 0;
}

static void
assert_good_publish (Fixture *f, Publisher *p)
{
  g_assert_true (wait_until (publisher_closed, p, 10));
  g_assert_cmpuint (p->n_closed, ==, 1);
  g_assert_true (p->unpublished);
  g_assert_cmpuint (p->n_media[0], >, 50); /* audio: ~43 AAC frames a second */
  g_assert_cmpuint (p->n_media[1], >, 60); /* video: 30 frames a second */
  g_assert_cmpuint (p->n_media[2], >=, 1);
  g_assert_true (p->meta_ok);
  g_assert_false (p->ts_decreased);
  g_assert_cmpuint (p->last_ts[1], >, 3000);
  g_assert_cmpuint (p->bytes, >, 50000);
  g_assert_cmpuint (veza_rtmp_server_get_bytes_received (f->server), >=, p->bytes);
}

/* ---------------------------------------------------------------------- */
/* Publishing                                                             */
/* ---------------------------------------------------------------------- */

static void
test_ffmpeg_publish (Fixture *f, gconstpointer data)
{
  Child *c = spawn_ffmpeg (f->port, "goodkey");
  g_assert_cmpint (child_finish (c, 30), ==, 0);
  g_assert_cmpuint (f->publishers->len, ==, 1);
  assert_good_publish (f, g_ptr_array_index (f->publishers, 0));
  g_assert_true (wait_until (no_sessions, f->server, 5));
}

static void
test_rtmp2sink_publish (Fixture *f, gconstpointer data)
{
  Child *c = spawn_rtmp2sink (f->port, "goodkey");
  g_assert_cmpint (child_finish (c, 30), ==, 0);
  g_assert_cmpuint (f->publishers->len, ==, 1);
  assert_good_publish (f, g_ptr_array_index (f->publishers, 0));
  g_assert_true (wait_until (no_sessions, f->server, 5));
}

static void
test_bad_key (Fixture *f, gconstpointer data)
{
  Child *c = spawn_ffmpeg (f->port, "badkey?token=1");
  g_assert_cmpint (child_finish (c, 30), !=, 0);
  g_assert_cmpuint (f->publishers->len, ==, 1);

  Publisher *p = g_ptr_array_index (f->publishers, 0);
  g_assert_cmpstr (p->stream_name, ==, "badkey");
  g_assert_true (wait_until (publisher_closed, p, 10));
  g_assert_cmpuint (p->n_media[0] + p->n_media[1] + p->n_media[2], ==, 0);
  g_assert_false (p->unpublished);
  g_assert_true (wait_until (no_sessions, f->server, 5));
}

/* Without any "publish" handler, the session refuses by itself. */
static void
test_no_handler (void)
{
  g_autoptr (VezaRtmpServer) server = veza_rtmp_server_new (NULL);
  g_autoptr (GError) error = NULL;
  guint16 port = 0;

  g_assert_true (veza_rtmp_server_listen (server, "127.0.0.1", 0, &port, &error));
  Child *c = spawn_ffmpeg (port, "goodkey");
  g_assert_cmpint (child_finish (c, 30), !=, 0);
  g_assert_true (wait_until (no_sessions, server, 5));
  g_assert_cmpuint (veza_rtmp_server_get_bytes_received (server), >, 3000);
  veza_rtmp_server_stop (server);
}

/* The answer may come later; no answer at all is a refusal after the
 * handshake timeout; stopping the server ends a live publish. */
typedef struct {
  VezaRtmpSession *pending;
  guint n_publish;
  guint n_media;
  gboolean closed;
} Deferred;

static void
deferred_on_media (VezaRtmpSession *session, guint type, guint32 ts, GBytes *payload,
                   gpointer data)
{
  ((Deferred *) data)->n_media++;
}

static void
deferred_on_closed (VezaRtmpSession *session, const GError *error, gpointer data)
{
  Deferred *d = data;
  g_assert_no_error (error);
  d->closed = TRUE;
}

static void
deferred_on_publish (VezaRtmpServer *server, VezaRtmpSession *session, const char *app,
                     const char *stream_name, gpointer data)
{
  Deferred *d = data;
  d->n_publish++;
  if (g_str_equal (stream_name, "goodkey"))
    {
      g_signal_connect (session, "media", G_CALLBACK (deferred_on_media), d);
      g_signal_connect (session, "closed", G_CALLBACK (deferred_on_closed), d);
      g_set_object (&d->pending, session);
    }
  /* Any other key: never answered. */
}

static gboolean
has_pending (gpointer data)
{
  return ((Deferred *) data)->pending != NULL;
}

static gboolean
has_media (gpointer data)
{
  return ((Deferred *) data)->n_media > 30;
}

static void
test_deferred_answer (void)
{
  VezaRtmpLimits limits;
  veza_rtmp_limits_init_default (&limits);
  limits.handshake_timeout_s = 2;
  g_autoptr (VezaRtmpServer) server = veza_rtmp_server_new (&limits);
  g_autoptr (GError) error = NULL;
  Deferred d = { 0 };
  guint16 port = 0;

  g_signal_connect (server, "publish", G_CALLBACK (deferred_on_publish), &d);
  g_assert_true (veza_rtmp_server_listen (server, "127.0.0.1", 0, &port, &error));

  /* Unanswered: refused by the session itself. */
  Child *c = spawn_ffmpeg (port, "silentkey");
  g_assert_cmpint (child_finish (c, 30), !=, 0);
  g_assert_cmpuint (d.n_publish, ==, 1);
  g_assert_true (wait_until (no_sessions, server, 5));

  /* Answered half a second later. */
  c = spawn_ffmpeg (port, "goodkey");
  g_assert_true (wait_until (has_pending, &d, 10));
  g_usleep (G_USEC_PER_SEC / 2);
  veza_rtmp_session_accept_publish (d.pending);
  g_assert_true (wait_until (has_media, &d, 10));

  /* Stopping the server closes the live session (cleanly, from our side). */
  veza_rtmp_server_stop (server);
  g_assert_true (d.closed);
  g_assert_cmpuint (veza_rtmp_server_get_n_sessions (server), ==, 0);
  g_assert_cmpint (child_finish (c, 30), !=, 0);
  /* Answers to a closed session are ignored. */
  veza_rtmp_session_accept_publish (d.pending);
  veza_rtmp_session_reject_publish (d.pending, "NetStream.Publish.BadName", "late");
  g_clear_object (&d.pending);
}

/* ---------------------------------------------------------------------- */
/* Malformed input                                                        */
/* ---------------------------------------------------------------------- */

typedef struct {
  GSocketConnection *conn;
  guint8 buf[8192];
  gsize received;
  gboolean closed_by_peer;
} RawClient;

static void raw_read (RawClient *rc);

static void
raw_read_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  RawClient *rc = data;
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (n <= 0)
    {
      /* EOF or reset: either way the server closed us. */
      rc->closed_by_peer = TRUE;
      return;
    }
  rc->received += n;
  raw_read (rc);
}

static void
raw_read (RawClient *rc)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (rc->conn)), rc->buf,
                             sizeof rc->buf, G_PRIORITY_DEFAULT, NULL, raw_read_cb, rc);
}

static RawClient *
raw_connect (guint16 port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  RawClient *rc = g_new0 (RawClient, 1);

  rc->conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  raw_read (rc);
  return rc;
}

static void
raw_send (RawClient *rc, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  /* Small writes go into the socket buffer at once. */
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (rc->conn)), data, len,
                             NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
raw_handshake (RawClient *rc)
{
  g_autofree guint8 *c0c1c2 = g_malloc0 (1 + 2 * 1536);
  c0c1c2[0] = 3;
  raw_send (rc, c0c1c2, 1 + 2 * 1536);
}

static gboolean
raw_closed (gpointer data)
{
  return ((RawClient *) data)->closed_by_peer;
}

static void
raw_free (RawClient *rc)
{
  if (!rc->closed_by_peer)
    {
      g_io_stream_close (G_IO_STREAM (rc->conn), NULL, NULL);
      wait_until (raw_closed, rc, 5);
    }
  g_object_unref (rc->conn);
  g_free (rc);
}

/* A fmt 0 chunk header on chunk stream @csid (2..319). */
static gsize
chunk_header (guint8 *h, guint csid, guint32 len, guint8 type)
{
  gsize n = 0;
  if (csid < 64)
    h[n++] = csid;
  else
    {
      h[n++] = 0;
      h[n++] = csid - 64;
    }
  guint8 rest[11] = { 0, 0, 0, len >> 16, len >> 8, len, type, 0, 0, 0, 0 };
  memcpy (h + n, rest, sizeof rest);
  return n + sizeof rest;
}

typedef void (*Misbehave) (RawClient *rc);

static void
bad_wrong_version (RawClient *rc)
{
  guint8 c0c1[1537] = { 6 };
  raw_send (rc, c0c1, sizeof c0c1);
}

static void
bad_chunk_size (RawClient *rc)
{
  guint8 m[32];
  gsize n = chunk_header (m, 2, 4, 1);
  const guint8 size[4] = { 0x7f, 0xff, 0xff, 0xff };
  memcpy (m + n, size, 4);
  raw_handshake (rc);
  raw_send (rc, m, n + 4);
}

static void
bad_length (RawClient *rc)
{
  guint8 m[32];
  gsize n = chunk_header (m, 3, 0xFFFFFF, 20);
  raw_handshake (rc);
  raw_send (rc, m, n);
}

static void
bad_amf (RawClient *rc)
{
  static const guint8 garbage[] = { 0x02, 0x00, 0x07, 'c', 'o', 'n', 'n', 'e', 'c', 't', 0x00,
                                    0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x03, 0x00, 0x03, 'a', 'p',
                                    'p', 0x02, 0xff, 0xff, 'x', 0x42, 0x42 };
  guint8 m[64];
  gsize n = chunk_header (m, 3, sizeof garbage, 20);
  memcpy (m + n, garbage, sizeof garbage);
  raw_handshake (rc);
  raw_send (rc, m, n + sizeof garbage);
}

static void
bad_many_cstreams (RawClient *rc)
{
  g_autoptr (GByteArray) all = g_byte_array_new ();
  raw_handshake (rc);
  for (guint csid = 3; csid < 103; csid++)
    {
      guint8 m[32];
      gsize n = chunk_header (m, csid, 0, 8);
      g_byte_array_append (all, m, n);
    }
  raw_send (rc, all->data, all->len);
}

static void
test_malformed (Fixture *f, gconstpointer data)
{
  static const Misbehave cases[] = { bad_wrong_version, bad_chunk_size, bad_length, bad_amf,
                                     bad_many_cstreams };
  Child *c = spawn_ffmpeg (f->port, "goodkey");

  /* Truncated handshake, then the client goes away. */
  RawClient *rc = raw_connect (f->port);
  guint8 partial[200] = { 3 };
  raw_send (rc, partial, sizeof partial);
  raw_free (rc);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      rc = raw_connect (f->port);
      cases[i] (rc);
      g_test_message ("malformed case %u", i);
      g_assert_true (wait_until (raw_closed, rc, 5));
      raw_free (rc);
    }

  g_assert_cmpint (child_finish (c, 30), ==, 0);
  g_assert_cmpuint (f->publishers->len, ==, 1);
  assert_good_publish (f, g_ptr_array_index (f->publishers, 0));
  g_assert_true (wait_until (no_sessions, f->server, 5));
}

/* ---------------------------------------------------------------------- */
/* Limits                                                                 */
/* ---------------------------------------------------------------------- */

static const VezaRtmpLimits tight_limits = {
  .max_connections = 3,
  .max_connections_per_address = 2,
  .handshake_timeout_s = 1,
  .idle_timeout_s = 2,
};

static void
test_limits (Fixture *f, gconstpointer data)
{
  RawClient *a = raw_connect (f->port);
  RawClient *b = raw_connect (f->port);
  RawClient *c = raw_connect (f->port);

  /* The third from the same address is refused at once. */
  g_assert_true (wait_until (raw_closed, c, 5));
  g_assert_false (a->closed_by_peer || b->closed_by_peer);
  g_assert_cmpuint (veza_rtmp_server_get_n_sessions (f->server), ==, 2);

  /* The others never finish their handshake: closed after the timeout. */
  g_assert_true (wait_until (raw_closed, a, 4));
  g_assert_true (wait_until (raw_closed, b, 4));
  g_assert_true (wait_until (no_sessions, f->server, 2));
  raw_free (a);
  raw_free (b);
  raw_free (c);
}

/* ---------------------------------------------------------------------- */

static gboolean
make_clip (void)
{
  g_autoptr (GError) error = NULL;
  int status = 0;
  const char *argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                         "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i",
                         "sine=frequency=440", "-t", "4", "-c:v", "libx264", "-g", "30",
                         "-c:a", "aac", "-f", "flv", clip_path, NULL };

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, child_setup, NULL, NULL,
                     NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("cannot make the test clip: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ffmpeg = g_find_program_in_path ("ffmpeg");
  g_autofree char *gst_launch = g_find_program_in_path ("gst-launch-1.0");
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* The server warns about each malformed connection, which is expected
   * here: only criticals stay fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

  if (ffmpeg == NULL || gst_launch == NULL)
    {
      g_test_skip ("ffmpeg and gst-launch-1.0 are needed");
      return g_test_run ();
    }
  tmp_dir = g_dir_make_tmp ("veza-rtmp-test-XXXXXX", &error);
  g_assert_no_error (error);
  clip_path = g_build_filename (tmp_dir, "clip.flv", NULL);
  if (!make_clip ())
    return 1;

  g_test_add ("/veza/rtmp/server/ffmpeg-publish", Fixture, NULL, fixture_setup,
              test_ffmpeg_publish, fixture_teardown);
  g_test_add ("/veza/rtmp/server/rtmp2sink-publish", Fixture, NULL, fixture_setup,
              test_rtmp2sink_publish, fixture_teardown);
  g_test_add ("/veza/rtmp/server/bad-key", Fixture, NULL, fixture_setup, test_bad_key,
              fixture_teardown);
  g_test_add_func ("/veza/rtmp/server/no-handler", test_no_handler);
  g_test_add_func ("/veza/rtmp/server/deferred-answer", test_deferred_answer);
  g_test_add ("/veza/rtmp/server/malformed", Fixture, NULL, fixture_setup, test_malformed,
              fixture_teardown);
  g_test_add ("/veza/rtmp/server/limits", Fixture, &tight_limits, fixture_setup, test_limits,
              fixture_teardown);

  ret = g_test_run ();

  g_unlink (clip_path);
  g_rmdir (tmp_dir);
  g_free (clip_path);
  g_free (tmp_dir);
  return ret;
}
