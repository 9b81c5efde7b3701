/* media-pipeline-test.c: per-stream pipelines, from FLV tags to HLS
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Clips are made at test time with ffmpeg, split into FLV tags and pushed
 * through a pipeline; the segments are checked with ffprobe.  The pull
 * test runs a private nginx-rtmp on a free 127.0.0.1 port.
 */

#include <signal.h>
#include <sys/prctl.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include "media/veza-flv.h"
#include "media/veza-hls-writer.h"
#include "media/veza-media-pipeline.h"

#define STREAM_ID "0b7d6c1e-8f51-4c8e-9a53-3c1f2f6d7a10"
#define NGINX_RTMP_MODULE "/usr/lib/nginx/modules/ngx_rtmp_module.so"

static char *clips_dir;   /* shared by all tests, removed at the end */

/* ---- helpers ---------------------------------------------------------- */

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            rm_rf (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the default main context until *@flag or @timeout_ms. */
static gboolean
wait_for (gboolean *flag, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint wake = g_timeout_add (50, wake_cb, NULL);

  while (!*flag && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake);
  return *flag;
}

static void
sleep_in_loop (guint ms)
{
  gboolean never = FALSE;
  wait_for (&never, ms);
}

/* Runs a command, bounded by @timeout_s; returns its stdout. */
static char *
run_command (const char *const *argv, guint timeout_s, GError **error)
{
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  gboolean done = FALSE;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
  if (proc == NULL)
    return NULL;

  /* communicate in a thread-free way: poll until exit, then read */
  {
    gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
    GInputStream *stdout_pipe = g_subprocess_get_stdout_pipe (proc);
    GInputStream *stderr_pipe = g_subprocess_get_stderr_pipe (proc);
    g_autoptr (GOutputStream) out_mem = g_memory_output_stream_new_resizable ();
    g_autoptr (GOutputStream) err_mem = g_memory_output_stream_new_resizable ();

    g_output_stream_splice_async (out_mem, stdout_pipe, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                  G_PRIORITY_DEFAULT, cancellable, NULL, NULL);
    g_output_stream_splice_async (err_mem, stderr_pipe, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                  G_PRIORITY_DEFAULT, cancellable, NULL, NULL);
    while (g_get_monotonic_time () < deadline)
      {
        sleep_in_loop (20);
        if (g_output_stream_is_closed (out_mem) && g_output_stream_is_closed (err_mem))
          {
            done = TRUE;
            break;
          }
      }
    if (!done)
      {
        g_cancellable_cancel (cancellable);
        g_subprocess_force_exit (proc);
        g_subprocess_wait (proc, NULL, NULL);
        sleep_in_loop (10);
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s timed out", argv[0]);
        return NULL;
      }
    g_subprocess_wait (proc, NULL, NULL);
    out = g_strndup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out_mem)),
                     g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out_mem)));
    err = g_strndup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (err_mem)),
                     g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (err_mem)));
  }

  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", argv[0], err);
      return NULL;
    }
  return g_steal_pointer (&out);
}

static gboolean
have_program (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);
  return path != NULL;
}

static GPtrArray *
read_flv_tags (const char *name)
{
  g_autofree char *path = g_build_filename (clips_dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaFlvParser) parser = veza_flv_parser_new ();
  GPtrArray *tags = g_ptr_array_new_with_free_func ((GDestroyNotify) veza_flv_tag_free);

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  /* in odd-sized pieces, as a network would deliver them */
  for (gsize pos = 0; pos < len; pos += 1000)
    {
      veza_flv_parser_feed (parser, (const guint8 *) contents + pos, MIN (1000, len - pos), tags, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (tags->len, >, 10);
  return tags;
}

/* ---- a pipeline run --------------------------------------------------- */

typedef struct
{
  GPtrArray *filenames;   /* char* */
  GArray *durations;      /* double */
  guint n_created;
  gboolean video_tee;
  gboolean audio_tee;
  guint n_errors;
  GError *error;
  guint n_stopped;
  gboolean stopped;
} Run;

static void
run_init (Run *run)
{
  memset (run, 0, sizeof *run);
  run->filenames = g_ptr_array_new_with_free_func (g_free);
  run->durations = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
run_clear (Run *run)
{
  g_ptr_array_unref (run->filenames);
  g_array_unref (run->durations);
  g_clear_error (&run->error);
}

static gboolean
is_tee (GstElement *element)
{
  GstElementFactory *factory;

  if (element == NULL)
    return FALSE;
  factory = gst_element_get_factory (element);
  return factory != NULL && g_str_equal (gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory)), "tee");
}

static void
pipeline_created_cb (VezaMediaPipeline *pipeline, GstPipeline *gst_pipeline,
                     GstElement *video_tee, GstElement *audio_tee, Run *run)
{
  g_assert_true (GST_IS_PIPELINE (gst_pipeline));
  g_assert_true (gst_pipeline == veza_media_pipeline_get_pipeline (pipeline));
  run->n_created++;
  run->video_tee = is_tee (video_tee);
  run->audio_tee = is_tee (audio_tee);
  g_assert_true (video_tee == NULL || run->video_tee);
  g_assert_true (audio_tee == NULL || run->audio_tee);
}

static void
segment_added_cb (VezaMediaPipeline *pipeline, const char *filename, double duration, Run *run)
{
  g_assert_false (run->stopped);
  g_ptr_array_add (run->filenames, g_strdup (filename));
  g_array_append_val (run->durations, duration);
}

static void
error_cb (VezaMediaPipeline *pipeline, const GError *error, Run *run)
{
  g_assert_false (run->stopped);
  run->n_errors++;
  g_clear_error (&run->error);
  run->error = g_error_copy (error);
}

static void
stopped_cb (VezaMediaPipeline *pipeline, Run *run)
{
  run->n_stopped++;
  run->stopped = TRUE;
}

static void
connect_run (VezaMediaPipeline *pipeline, Run *run)
{
  g_signal_connect (pipeline, "pipeline-created", G_CALLBACK (pipeline_created_cb), run);
  g_signal_connect (pipeline, "segment-added", G_CALLBACK (segment_added_cb), run);
  g_signal_connect (pipeline, "error", G_CALLBACK (error_cb), run);
  g_signal_connect (pipeline, "stopped", G_CALLBACK (stopped_cb), run);
}

/* Pushes the tags of @clip through a push pipeline on @writer, stops it
 * and waits for "stopped".  @paced_ms: push in real time, tags with
 * timestamps below this many ms (0: everything at once). */
static void
push_clip (VezaHlsWriter *writer, const char *clip, guint paced_ms, Run *run)
{
  g_autoptr (GPtrArray) tags = read_flv_tags (clip);
  g_autoptr (VezaMediaPipeline) pipeline = veza_media_pipeline_new_push (STREAM_ID, writer, 2);
  g_autoptr (GError) error = NULL;
  guint64 bytes = 0;
  gint64 t0;

  connect_run (pipeline, run);
  g_assert_true (veza_media_pipeline_start (pipeline, &error));
  g_assert_no_error (error);
  g_assert_nonnull (veza_media_pipeline_get_pipeline (pipeline));

  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < tags->len; i++)
    {
      VezaFlvTag *tag = g_ptr_array_index (tags, i);

      if (paced_ms > 0 && tag->timestamp < paced_ms)
        {
          gint64 due = t0 + (gint64) tag->timestamp * 1000;
          while (g_get_monotonic_time () < due)
            if (!g_main_context_iteration (NULL, FALSE))
              g_usleep (2000);
        }
      veza_media_pipeline_push_tag (pipeline, tag->type, tag->timestamp, tag->payload);
      bytes += g_bytes_get_size (tag->payload);
      if (i % 16 == 0)
        while (g_main_context_iteration (NULL, FALSE))
          ;
    }
  g_assert_cmpuint (veza_media_pipeline_get_bytes_in (pipeline), ==, bytes);

  veza_media_pipeline_stop (pipeline);
  veza_media_pipeline_stop (pipeline);  /* idempotent */
  g_assert_true (wait_for (&run->stopped, 20000));
  sleep_in_loop (100);
  g_assert_cmpuint (run->n_stopped, ==, 1);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static char *
ffprobe_streams (const char *path)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-show_entries", "stream=codec_type",
                         "-of", "csv=p=0", path, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = run_command (argv, 30, &error);
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) kinds = g_ptr_array_new ();

  g_assert_no_error (error);
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  /* MPEG-TS streams are listed once alone and once under their program */
  for (guint i = 0; lines[i] != NULL; i++)
    if (*g_strstrip (lines[i]) != '\0' &&
        !g_ptr_array_find_with_equal_func (kinds, lines[i], g_str_equal, NULL))
      g_ptr_array_add (kinds, lines[i]);
  g_ptr_array_sort (kinds, compare_strings);
  g_ptr_array_add (kinds, NULL);
  return g_strjoinv (",", (char **) kinds->pdata);
}

/* Every segment of the run: listed in vod.m3u8, on disk, readable with
 * the @expected streams ("audio,video", "audio" or "video"); durations
 * around 2 s except the last. */
static void
check_segments (VezaHlsWriter *writer, Run *run, guint first, const char *expected, guint min_segments)
{
  const char *dir = veza_hls_writer_get_dir (writer);
  g_autofree char *vod_path = g_build_filename (dir, "vod.m3u8", NULL);
  g_autofree char *vod = NULL;
  g_autoptr (GError) error = NULL;
  guint n = run->filenames->len;

  g_assert_cmpuint (n, >=, min_segments);
  g_file_get_contents (vod_path, &vod, NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < n; i++)
    {
      const char *name = g_ptr_array_index (run->filenames, i);
      double duration = g_array_index (run->durations, double, i);
      g_autofree char *expected_name = g_strdup_printf ("segment-%06u.ts", first + i);
      g_autofree char *line = g_strdup_printf ("\n%s\n", name);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *streams = NULL;

      g_test_message ("%s: %.3f s", name, duration);
      g_assert_cmpstr (name, ==, expected_name);
      g_assert_nonnull (strstr (vod, line));
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
      if (i + 1 < n)
        {
          g_assert_cmpfloat (duration, >=, 1.95);
          g_assert_cmpfloat (duration, <=, 2.1);
        }
      else
        {
          g_assert_cmpfloat (duration, >, 0.0);
          g_assert_cmpfloat (duration, <=, 2.1);
        }
      streams = ffprobe_streams (path);
      g_assert_cmpstr (streams, ==, expected);
    }

  /* no unfinished recording left over */
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *entry;
    while ((entry = g_dir_read_name (d)) != NULL)
      g_assert_false (g_str_has_prefix (entry, ".recording-"));
  }
}

static guint
count (const char *haystack, const char *needle)
{
  guint n = 0;
  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static double
total_duration (Run *run)
{
  double total = 0;
  for (guint i = 0; i < run->durations->len; i++)
    total += g_array_index (run->durations, double, i);
  return total;
}

/* ---- tests ------------------------------------------------------------ */

typedef struct
{
  char *dir;
  VezaHlsWriter *writer;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("veza-media-XXXXXX", &error);
  g_assert_no_error (error);
  f->writer = veza_hls_writer_new (f->dir, 2, 6, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->writer);
  rm_rf (f->dir);
  g_free (f->dir);
}

static void
test_audio_video (Fixture *f, gconstpointer data)
{
  Run run;
  g_autofree char *live_path = g_build_filename (f->dir, "live.m3u8", NULL);

  run_init (&run);
  push_clip (f->writer, "av.flv", 0, &run);
  g_assert_cmpuint (run.n_errors, ==, 0);
  g_assert_cmpuint (run.n_created, ==, 1);
  g_assert_true (run.video_tee);
  g_assert_true (run.audio_tee);
  check_segments (f->writer, &run, 0, "audio,video", 3);
  g_assert_cmpuint (veza_hls_writer_get_n_segments (f->writer), ==, run.filenames->len);
  g_assert_cmpfloat (total_duration (&run), >=, 6.8);
  g_assert_cmpfloat (total_duration (&run), <=, 7.2);
  g_assert_true (g_file_test (live_path, G_FILE_TEST_IS_REGULAR));
  /* stopping a pipeline does not end the broadcast */
  g_assert_false (veza_hls_writer_is_finished (f->writer));
  run_clear (&run);
}

static void
test_audio_video_paced (Fixture *f, gconstpointer data)
{
  Run run;

  /* the first 3 s in real time, as a publisher sends them */
  run_init (&run);
  push_clip (f->writer, "av.flv", 3000, &run);
  g_assert_cmpuint (run.n_errors, ==, 0);
  g_assert_true (run.video_tee && run.audio_tee);
  check_segments (f->writer, &run, 0, "audio,video", 3);
  run_clear (&run);
}

static void
test_audio_only (Fixture *f, gconstpointer data)
{
  Run run;

  run_init (&run);
  push_clip (f->writer, "a.flv", 0, &run);
  g_assert_cmpuint (run.n_errors, ==, 0);
  g_assert_cmpuint (run.n_created, ==, 1);
  g_assert_false (run.video_tee);
  g_assert_true (run.audio_tee);
  check_segments (f->writer, &run, 0, "audio", 3);
  run_clear (&run);
}

static void
test_video_only (Fixture *f, gconstpointer data)
{
  Run run;

  run_init (&run);
  push_clip (f->writer, "v.flv", 0, &run);
  g_assert_cmpuint (run.n_errors, ==, 0);
  g_assert_cmpuint (run.n_created, ==, 1);
  g_assert_true (run.video_tee);
  g_assert_false (run.audio_tee);
  check_segments (f->writer, &run, 0, "video", 3);
  run_clear (&run);
}

static void
test_reconnect (Fixture *f, gconstpointer data)
{
  Run first, second;
  g_autofree char *vod_path = g_build_filename (f->dir, "vod.m3u8", NULL);
  g_autofree char *vod = NULL;
  g_autofree char *expected = NULL;
  guint n_first;

  run_init (&first);
  push_clip (f->writer, "av.flv", 0, &first);
  n_first = first.filenames->len;
  check_segments (f->writer, &first, 0, "audio,video", 3);

  veza_hls_writer_mark_discontinuity (f->writer);
  run_init (&second);
  push_clip (f->writer, "av.flv", 0, &second);
  g_assert_cmpuint (second.n_errors, ==, 0);
  check_segments (f->writer, &second, n_first, "audio,video", 3);
  g_assert_cmpuint (veza_hls_writer_get_n_segments (f->writer), ==, n_first + second.filenames->len);

  g_file_get_contents (vod_path, &vod, NULL, NULL);
  expected = g_strdup_printf ("segment-%06u.ts\n#EXT-X-DISCONTINUITY\n", n_first - 1);
  g_assert_nonnull (strstr (vod, expected));
  g_assert_cmpuint (count (vod, "#EXT-X-DISCONTINUITY\n"), ==, 1);

  veza_hls_writer_finish (f->writer);
  run_clear (&first);
  run_clear (&second);
}

/* Random bytes as H.264 tags: the stream fails, cleanly. */
static void
push_garbage (Fixture *f, guint8 first_byte, VezaMediaError expected_code)
{
  g_autoptr (VezaMediaPipeline) pipeline = veza_media_pipeline_new_push (STREAM_ID, f->writer, 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  Run run;

  run_init (&run);
  connect_run (pipeline, &run);
  g_assert_true (veza_media_pipeline_start (pipeline, &error));
  for (guint i = 0; i < 200 && !run.stopped; i++)
    {
      guint8 data[512];
      g_autoptr (GBytes) payload = NULL;

      for (guint j = 0; j < sizeof data; j++)
        data[j] = g_rand_int_range (rand, 0, 256);
      data[0] = first_byte;
      payload = g_bytes_new (data, sizeof data);
      veza_media_pipeline_push_tag (pipeline, VEZA_FLV_TAG_VIDEO, i * 33, payload);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  veza_media_pipeline_stop (pipeline);
  g_assert_true (wait_for (&run.stopped, 10000));
  sleep_in_loop (100);

  g_assert_cmpuint (run.n_errors, ==, 1);
  g_assert_cmpuint (run.n_stopped, ==, 1);
  g_assert_error (run.error, VEZA_MEDIA_ERROR, (gint) expected_code);
  g_test_message ("error: %s", run.error->message);
  g_assert_cmpuint (veza_hls_writer_get_n_segments (f->writer), ==, 0);
  run_clear (&run);
}

static void
test_garbage (Fixture *f, gconstpointer data)
{
  /* keyframe + AVC: passes the codec check, fails in the pipeline */
  push_garbage (f, 0x17, VEZA_MEDIA_ERROR_FAILED);
}

static void
test_unsupported_codec (Fixture *f, gconstpointer data)
{
  /* keyframe + Sorenson H.263 */
  push_garbage (f, 0x12, VEZA_MEDIA_ERROR_UNSUPPORTED_CODEC);
}

static void
test_stop_without_data (Fixture *f, gconstpointer data)
{
  g_autoptr (VezaMediaPipeline) pipeline = veza_media_pipeline_new_push (STREAM_ID, f->writer, 2);
  g_autoptr (GError) error = NULL;
  Run run;

  run_init (&run);
  connect_run (pipeline, &run);
  g_assert_true (veza_media_pipeline_start (pipeline, &error));
  veza_media_pipeline_stop (pipeline);
  g_assert_false (run.stopped);   /* never from inside the call */
  g_assert_true (wait_for (&run.stopped, 5000));
  sleep_in_loop (50);
  g_assert_cmpuint (run.n_stopped, ==, 1);
  g_assert_cmpuint (run.n_errors, ==, 0);
  g_assert_cmpuint (run.n_created, ==, 0);
  run_clear (&run);
}

/* ---- pull mode -------------------------------------------------------- */

/* Children die with the test, even when an assertion aborts it. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn (const char *const *argv, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

static guint16
free_port (void)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (socket);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
port_accepts (guint16 port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;

  g_socket_client_set_timeout (client, 1);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return connection != NULL;
}

static void
stop_process (GSubprocess *proc)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  if (proc == NULL)
    return;
  g_subprocess_send_signal (proc, SIGTERM);
  while (g_get_monotonic_time () < deadline)
    {
      gboolean exited = FALSE;
      /* g_subprocess_wait_check would block: poll the exit instead */
      if (g_subprocess_get_identifier (proc) == NULL)
        exited = TRUE;
      if (exited)
        break;
      sleep_in_loop (20);
    }
  if (g_subprocess_get_identifier (proc) != NULL)
    g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
}

static void
test_pull (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *nginx_dir = NULL;
  g_autofree char *conf_path = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *clip = g_build_filename (clips_dir, "av.flv", NULL);
  g_autofree char *rtmp_url = NULL;
  g_autoptr (GSubprocess) nginx = NULL;
  g_autoptr (GSubprocess) ffmpeg = NULL;
  g_autoptr (VezaMediaPipeline) pipeline = NULL;
  gboolean ready = FALSE;
  gboolean ended_by_itself;
  guint16 port;
  gint64 deadline;
  Run run;

  if (!have_program ("nginx") || !g_file_test (NGINX_RTMP_MODULE, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("nginx with the RTMP module is not installed");
      return;
    }

  nginx_dir = g_build_filename (f->dir, "nginx", NULL);
  g_mkdir (nginx_dir, 0755);
  port = free_port ();
  conf = g_strdup_printf ("load_module %s;\n"
                          "daemon off;\n"
                          "master_process off;\n"
                          "pid %s/nginx.pid;\n"
                          "error_log %s/error.log;\n"
                          "events { worker_connections 64; }\n"
                          "rtmp { server { listen 127.0.0.1:%u; application live { live on; } } }\n",
                          NGINX_RTMP_MODULE, nginx_dir, nginx_dir, port);
  conf_path = g_build_filename (nginx_dir, "nginx.conf", NULL);
  g_file_set_contents (conf_path, conf, -1, &error);
  g_assert_no_error (error);

  {
    g_autofree char *error_log = g_build_filename (nginx_dir, "error.log", NULL);
    const char *argv[] = { "nginx", "-p", nginx_dir, "-e", error_log, "-c", conf_path, NULL };
    nginx = spawn (argv, &error);
    g_assert_no_error (error);
  }
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!(ready = port_accepts (port)) && g_get_monotonic_time () < deadline)
    sleep_in_loop (50);
  if (!ready)
    {
      stop_process (nginx);
      g_assert_true (ready);
    }

  run_init (&run);
  rtmp_url = g_strdup_printf ("rtmp://127.0.0.1:%u/live/src", port);
  pipeline = veza_media_pipeline_new_pull (STREAM_ID, f->writer, 2, rtmp_url);
  connect_run (pipeline, &run);

  {
    const char *argv[] = { "ffmpeg", "-loglevel", "error", "-re", "-i", clip, "-c", "copy",
                           "-f", "flv", rtmp_url, NULL };
    ffmpeg = spawn (argv, &error);
    g_assert_no_error (error);
  }
  /* let the publish begin, then play it */
  sleep_in_loop (500);
  g_assert_true (veza_media_pipeline_start (pipeline, &error));
  g_assert_no_error (error);

  /* the clip lasts 7 s; when the publisher leaves, the source ends and the
   * pipeline stops by itself */
  wait_for (&run.stopped, 25000);
  ended_by_itself = run.stopped;
  if (!run.stopped)
    {
      veza_media_pipeline_stop (pipeline);
      wait_for (&run.stopped, 10000);
    }
  sleep_in_loop (100);

  stop_process (ffmpeg);
  stop_process (nginx);

  g_assert_true (run.stopped);
  g_assert_true (ended_by_itself);
  veza_media_pipeline_stop (pipeline);  /* after the end: nothing happens */
  sleep_in_loop (50);
  g_assert_cmpuint (run.n_stopped, ==, 1);
  if (run.error)
    g_test_message ("error: %s", run.error->message);
  g_assert_cmpuint (run.n_errors, ==, 0);
  g_assert_true (run.video_tee && run.audio_tee);
  g_assert_cmpuint (veza_media_pipeline_get_bytes_in (pipeline), >, 100000);
  /* a player joins at a keyframe: the first seconds may be missing */
  check_segments (f->writer, &run, 0, "audio,video", 2);
  run_clear (&run);
}

/* ---- main ------------------------------------------------------------- */

/* Under AddressSanitizer: record whole allocation stacks, so that the
 * one-time allocations of GLib and GStreamer (built without frame pointers)
 * are recognised by tests/lsan.supp.  Unused otherwise. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

static gboolean
make_clips (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *av = NULL, *a = NULL, *v = NULL;

  if (!have_program ("ffmpeg") || !have_program ("ffprobe"))
    return FALSE;

  clips_dir = g_dir_make_tmp ("veza-clips-XXXXXX", &error);
  g_assert_no_error (error);
  av = g_build_filename (clips_dir, "av.flv", NULL);
  a = g_build_filename (clips_dir, "a.flv", NULL);
  v = g_build_filename (clips_dir, "v.flv", NULL);

  {
    const char *argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                           "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                           "-f", "lavfi", "-i", "sine", "-t", "7",
                           "-c:v", "libx264", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0",
                           "-c:a", "aac", "-f", "flv", av, NULL };
    g_free (run_command (argv, 60, &error));
    g_assert_no_error (error);
  }
  {
    const char *argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                           "-f", "lavfi", "-i", "sine", "-t", "7",
                           "-c:a", "aac", "-f", "flv", a, NULL };
    g_free (run_command (argv, 60, &error));
    g_assert_no_error (error);
  }
  {
    const char *argv[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                           "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "7",
                           "-c:v", "libx264", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0",
                           "-f", "flv", v, NULL };
    g_free (run_command (argv, 60, &error));
    g_assert_no_error (error);
  }
  return TRUE;
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* The failure tests provoke warnings (GStreamer's own, through structured
   * logging that a fatal handler cannot filter, and the pipeline's report of
   * the failure): expected, so only criticals stay fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  gst_init (&argc, &argv);

  if (!make_clips ())
    {
      g_test_skip ("ffmpeg/ffprobe are not installed");
      return g_test_run ();
    }

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/veza/media/audio-video", test_audio_video);
  ADD ("/veza/media/audio-video-paced", test_audio_video_paced);
  ADD ("/veza/media/audio-only", test_audio_only);
  ADD ("/veza/media/video-only", test_video_only);
  ADD ("/veza/media/reconnect", test_reconnect);
  ADD ("/veza/media/garbage", test_garbage);
  ADD ("/veza/media/unsupported-codec", test_unsupported_codec);
  ADD ("/veza/media/stop-without-data", test_stop_without_data);
  ADD ("/veza/media/pull", test_pull);

  ret = g_test_run ();

  rm_rf (clips_dir);
  g_free (clips_dir);
  gst_deinit ();
  return ret;
}
