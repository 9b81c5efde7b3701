/* ingest-test.c — going live end to end: real RTMP publishers (ffmpeg and
 * GStreamer's rtmp2sink), the broadcast lifecycle, HLS serving, metrics,
 * shutdown and crash recovery of a real vezad
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "test-utils.h"

#include <gio/gio.h>
#include <signal.h>
#include <string.h>

static TestServer *ts;


static Streamer *
streamer_new_on (TestServer *server,
                 const char *title)
{
  Streamer *s = g_new0 (Streamer, 1);
  g_autofree char *body = g_strdup_printf ("{\"title\":\"%s\",\"category\":\"tests\","
                                           "\"tags\":[\"ingest\"]}", title);
  g_autoptr(TestResponse) r = NULL;

  s->token = test_register_user (server, "pub", &s->user_id);
  r = test_request (server, "POST", "/api/v1/live/streams", s->token, body, NULL);
  g_assert_cmpuint (r->status, ==, 201);
  s->stream_id = g_strdup (test_json_string (r, "data.id"));
  s->key = g_strdup (test_json_string (r, "data.stream_key"));
  return s;
}

static Streamer *
streamer_new (const char *title)
{
  return streamer_new_on (ts, title);
}

static char *
rtmp_url (guint16 port,
          const char *key)
{
  return g_strdup_printf ("rtmp://127.0.0.1:%u/live/%s", port, key);
}

static GSubprocess *
publish_ffmpeg (guint16     port,
                const char *key,
                const char *clip,
                gboolean    loop)
{
  g_autofree char *url = rtmp_url (port, key);
  g_autoptr(GPtrArray) argv = test_ffmpeg_publish_argv (url, clip, loop);

  return test_spawn ((const char * const *) argv->pdata);
}

static GSubprocess *
publish_rtmp2sink (guint16     port,
                   const char *key,
                   const char *clip)
{
  g_autofree char *url = rtmp_url (port, key);
  g_autofree char *sink_location = g_strdup_printf ("location=%s", url);
  g_autofree char *src_location = g_strdup_printf ("location=%s", clip);
  const char *argv[] = {
    "gst-launch-1.0", "-q", "-e",
    "filesrc", src_location, "!", "flvdemux", "name=d",
    "flvmux", "name=m", "streamable=true", "!", "rtmp2sink", sink_location,
    "d.video", "!", "queue", "!", "h264parse", "!", "m.video",
    "d.audio", "!", "queue", "!", "aacparse", "!", "m.audio",
    NULL
  };

  return test_spawn (argv);
}

/* ---- waiting on the server's state ------------------------------------- */

typedef struct {
  TestServer *server;
  const char *path;
  const char *needle;   /* in the body; NULL: any 200 */
  guint       status;
} Poll;

static gboolean
poll_once (gpointer data)
{
  Poll *p = data;
  g_autoptr(TestResponse) r = test_request (p->server, "GET", p->path, NULL, NULL, NULL);

  p->status = r->status;
  return r->status == 200 && (p->needle == NULL || strstr (r->body, p->needle) != NULL);
}

/* Polls GET @path every 200 ms until it answers 200 (containing @needle). */
static gboolean
wait_for (TestServer *server,
          const char *path,
          const char *needle,
          guint       timeout_s)
{
  Poll p = { server, path, needle, 0 };
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      if (poll_once (&p))
        return TRUE;
      test_run_for (200);
    }
  return FALSE;
}

static char *
stream_path (const char *id)
{
  return g_strconcat ("/api/v1/live/streams/", id, NULL);
}

static TestResponse *
get_stream (TestServer *server,
            const char *id)
{
  g_autofree char *path = stream_path (id);
  return test_request (server, "GET", path, NULL, NULL, NULL);
}

static gboolean
wait_live (TestServer *server,
           const char *id,
           gboolean    live,
           guint       timeout_s)
{
  g_autofree char *path = stream_path (id);

  return wait_for (server, path, live ? "\"is_live\":true" : "\"is_live\":false", timeout_s);
}

static char *
playlist_path (const char *id,
               const char *name)
{
  return g_strdup_printf ("/hls/%s/%s", id, name);
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

/* Every segment a playlist lists is served, as MPEG-TS. */
static void
assert_segments_served (TestServer *server,
                        const char *id,
                        const char *playlist)
{
  g_auto(GStrv) lines = g_strsplit (playlist, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *path = NULL;
      g_autoptr(TestResponse) r = NULL;

      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      path = playlist_path (id, lines[i]);
      r = test_request (server, "GET", path, NULL, NULL, NULL);
      g_assert_cmpuint (r->status, ==, 200);
      g_assert_cmpstr (soup_message_headers_get_content_type (r->headers, NULL), ==, "video/mp2t");
      g_assert_cmpuint (r->body_len, >, 188);
      g_assert_cmpint (r->body[0], ==, 0x47);   /* TS sync byte */
      n++;
    }
  g_assert_cmpuint (n, >, 0);
}

static TestResponse *
fetch (TestServer *server,
       const char *id,
       const char *name)
{
  g_autofree char *path = playlist_path (id, name);
  return test_request (server, "GET", path, NULL, NULL, NULL);
}

/* ---- the tests ---------------------------------------------------------- */

typedef struct {
  char    *stream_id;
  gboolean video_tee;
  gboolean audio_tee;
} Created;

static void
on_pipeline_created (VezaServer  *server,
                     const char  *stream_id,
                     GstPipeline *pipeline,
                     GstElement  *video_tee,
                     GstElement  *audio_tee,
                     Created     *created)
{
  g_assert_true (GST_IS_PIPELINE (pipeline));
  g_free (created->stream_id);
  created->stream_id = g_strdup (stream_id);
  created->video_tee = video_tee != NULL;
  created->audio_tee = audio_tee != NULL;
}

/* Publish → live playlist with segments → listed live → unpublish →
 * VOD with ENDLIST and every segment. */
static void
test_publish_ffmpeg (void)
{
  g_autoptr(Streamer) s = streamer_new ("ffmpeg publish");
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pub = publish_ffmpeg (ts->rtmp_port, s->key, clip, FALSE);
  g_autofree char *live = playlist_path (s->stream_id, "live.m3u8");
  g_autoptr(TestResponse) listed = NULL;
  g_autoptr(TestResponse) row = NULL;
  g_autoptr(TestResponse) vod = NULL;
  g_autoptr(TestResponse) live_after = NULL;
  g_autoptr(TestResponse) metrics = NULL;
  g_autofree char *vod_suffix = NULL;
  Created created = { 0 };
  gulong handler = g_signal_connect (ts->server, "pipeline-created",
                                     G_CALLBACK (on_pipeline_created), &created);

  g_assert_true (wait_for (ts, live, "#EXTINF", 20));
  /* Plugins get the pipeline and its tee points. */
  g_signal_handler_disconnect (ts->server, handler);
  g_assert_cmpstr (created.stream_id, ==, s->stream_id);
  g_assert_true (created.video_tee);
  g_assert_true (created.audio_tee);
  g_free (created.stream_id);
  listed = test_request (ts, "GET", "/api/v1/live/streams?is_live=true", NULL, NULL, NULL);
  g_assert_nonnull (strstr (listed->body, s->stream_id));
  g_assert_null (strstr (listed->body, s->key));

  row = get_stream (ts, s->stream_id);
  g_assert_true (test_json_bool (row, "data.stream.is_live"));
  g_assert_nonnull (test_json_string (row, "data.stream.started_at"));
  g_assert_true (g_str_has_suffix (test_json_string (row, "data.stream.stream_url"), "/live.m3u8"));

  metrics = test_request (ts, "GET", "/metrics", NULL, NULL, NULL);
  g_assert_null (strstr (metrics->body, "veza_live_streams_active 0\n"));

  /* ffmpeg ends the clip with FCUnpublish/deleteStream: the broadcast ends
   * without waiting for the grace. */
  g_assert_cmpint (test_wait_child (pub, 30), ==, 0);
  g_assert_true (wait_live (ts, s->stream_id, FALSE, 15));

  g_clear_pointer (&row, test_response_free);
  row = get_stream (ts, s->stream_id);
  g_assert_true (test_json_bool (row, "data.stream.is_vod"));
  g_assert_nonnull (test_json_string (row, "data.stream.ended_at"));
  vod_suffix = g_strdup_printf ("/hls/%s/vod.m3u8", s->stream_id);
  g_assert_true (g_str_has_suffix (test_json_string (row, "data.stream.stream_url"), vod_suffix));

  vod = fetch (ts, s->stream_id, "vod.m3u8");
  g_assert_cmpuint (vod->status, ==, 200);
  g_assert_nonnull (strstr (vod->body, "#EXT-X-PLAYLIST-TYPE:VOD"));
  g_assert_nonnull (strstr (vod->body, "#EXT-X-ENDLIST"));
  g_assert_nonnull (strstr (vod->body, "#EXT-X-PROGRAM-DATE-TIME:"));
  /* 8 s of media in segments of about 2 s */
  g_assert_cmpuint (count_lines_with (vod->body, "#EXTINF:"), >=, 3);
  assert_segments_served (ts, s->stream_id, vod->body);

  live_after = fetch (ts, s->stream_id, "live.m3u8");
  g_assert_nonnull (strstr (live_after->body, "#EXT-X-ENDLIST"));
}

static void
test_publish_rtmp2sink (void)
{
  g_autoptr(Streamer) s = streamer_new ("rtmp2sink publish");
  const char *clip = test_make_clip ("av", 6);
  g_autoptr(GSubprocess) pub = publish_rtmp2sink (ts->rtmp_port, s->key, clip);
  g_autofree char *live = playlist_path (s->stream_id, "live.m3u8");
  g_autoptr(TestResponse) vod = NULL;

  g_assert_true (wait_for (ts, live, "#EXTINF", 20));
  g_assert_cmpint (test_wait_child (pub, 40), ==, 0);
  g_assert_true (wait_live (ts, s->stream_id, FALSE, 40));
  vod = fetch (ts, s->stream_id, "vod.m3u8");
  g_assert_nonnull (strstr (vod->body, "#EXT-X-ENDLIST"));
  assert_segments_served (ts, s->stream_id, vod->body);
}

static void
test_audio_only (void)
{
  g_autoptr(Streamer) s = streamer_new ("audio only");
  const char *clip = test_make_clip ("audio", 6);
  g_autoptr(GSubprocess) pub = publish_ffmpeg (ts->rtmp_port, s->key, clip, FALSE);
  g_autoptr(TestResponse) vod = NULL;

  g_assert_cmpint (test_wait_child (pub, 30), ==, 0);
  g_assert_true (wait_live (ts, s->stream_id, FALSE, 15));
  vod = fetch (ts, s->stream_id, "vod.m3u8");
  g_assert_cmpuint (vod->status, ==, 200);
  g_assert_nonnull (strstr (vod->body, "#EXT-X-ENDLIST"));
  assert_segments_served (ts, s->stream_id, vod->body);
}

static void
test_bad_key (void)
{
  const char *clip = test_make_clip ("av", 4);
  g_autoptr(GSubprocess) pub = publish_ffmpeg (ts->rtmp_port, "live_not_a_real_key", clip, FALSE);

  /* Refused with NetStream.Publish.BadName: ffmpeg gives up with an error. */
  g_assert_cmpint (test_wait_child (pub, 20), !=, 0);
}

static void
configure_strict_keyauth (VezaConfig *config)
{
  g_key_file_set_integer (config->keyfile, "plugin:keyauth", "max-failures", 2);
}

/* An address that keeps trying unknown keys is refused for a while, even
 * with a good key. */
static void
test_keyauth_rate_limit (void)
{
  TestServer *strict = test_server_new (configure_strict_keyauth);
  g_autoptr(Streamer) s = streamer_new_on (strict, "guarded");
  const char *clip = test_make_clip ("av", 4);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GSubprocess) guess = publish_ffmpeg (strict->rtmp_port, "live_guess", clip, FALSE);
      g_assert_cmpint (test_wait_child (guess, 20), !=, 0);
    }
  {
    g_autoptr(GSubprocess) good = publish_ffmpeg (strict->rtmp_port, s->key, clip, FALSE);
    g_autoptr(TestResponse) row = NULL;

    g_assert_cmpint (test_wait_child (good, 20), !=, 0);
    row = get_stream (strict, s->stream_id);
    g_assert_false (test_json_bool (row, "data.stream.is_live"));
    g_assert_null (test_json_string (row, "data.stream.started_at"));
  }
  test_server_free (strict);
}

/* A publisher that drops (killed: no unpublish) and comes back within the
 * grace continues the same broadcast; the playlists get a discontinuity. */
static void
test_reconnect_within_grace (void)
{
  g_autoptr(Streamer) s = streamer_new ("reconnect");
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) first = publish_ffmpeg (ts->rtmp_port, s->key, clip, TRUE);
  g_autoptr(GSubprocess) second = NULL;
  g_autofree char *live = playlist_path (s->stream_id, "live.m3u8");
  g_autoptr(TestResponse) vod = NULL;
  g_autoptr(TestResponse) mine = NULL;

  g_assert_true (wait_for (ts, live, "#EXTINF", 20));
  test_kill_child (first);

  /* Still live during the grace (3 s in these tests). */
  test_run_for (500);
  {
    g_autoptr(TestResponse) row = get_stream (ts, s->stream_id);
    g_assert_true (test_json_bool (row, "data.stream.is_live"));
  }

  second = publish_ffmpeg (ts->rtmp_port, s->key, clip, FALSE);
  g_assert_cmpint (test_wait_child (second, 30), ==, 0);
  g_assert_true (wait_live (ts, s->stream_id, FALSE, 15));

  vod = fetch (ts, s->stream_id, "vod.m3u8");
  g_assert_nonnull (strstr (vod->body, "#EXT-X-DISCONTINUITY"));
  g_assert_nonnull (strstr (vod->body, "#EXT-X-ENDLIST"));
  assert_segments_served (ts, s->stream_id, vod->body);

  /* One broadcast: the user still has exactly one stream. */
  mine = test_request (ts, "GET", "/api/v1/live/streams/me", s->token, NULL, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (test_json_node (mine, "data.streams"))),
                    ==, 1);
}

/* A drop without a return: after the grace the broadcast is a VOD. */
static void
test_grace_expiry (void)
{
  g_autoptr(Streamer) s = streamer_new ("drop");
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pub = publish_ffmpeg (ts->rtmp_port, s->key, clip, TRUE);
  g_autofree char *live = playlist_path (s->stream_id, "live.m3u8");
  g_autoptr(TestResponse) vod = NULL;

  g_assert_true (wait_for (ts, live, "#EXTINF", 20));
  test_kill_child (pub);
  g_assert_true (wait_live (ts, s->stream_id, FALSE, 15));
  vod = fetch (ts, s->stream_id, "vod.m3u8");
  g_assert_nonnull (strstr (vod->body, "#EXT-X-ENDLIST"));
  assert_segments_served (ts, s->stream_id, vod->body);
}

/* A second publisher on a key that is live is refused; two streams of two
 * users run at once. */
static void
test_second_publisher_and_two_streams (void)
{
  g_autoptr(Streamer) a = streamer_new ("first");
  g_autoptr(Streamer) b = streamer_new ("second");
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pa = publish_ffmpeg (ts->rtmp_port, a->key, clip, TRUE);
  g_autoptr(GSubprocess) pb = publish_ffmpeg (ts->rtmp_port, b->key, clip, TRUE);
  g_autoptr(GSubprocess) intruder = NULL;
  g_autofree char *live_a = playlist_path (a->stream_id, "live.m3u8");
  g_autofree char *live_b = playlist_path (b->stream_id, "live.m3u8");
  g_autoptr(TestResponse) listed = NULL;

  g_assert_true (wait_for (ts, live_a, "#EXTINF", 20));
  g_assert_true (wait_for (ts, live_b, "#EXTINF", 20));
  listed = test_request (ts, "GET", "/api/v1/live/streams?is_live=true&limit=100", NULL, NULL, NULL);
  g_assert_nonnull (strstr (listed->body, a->stream_id));
  g_assert_nonnull (strstr (listed->body, b->stream_id));

  intruder = publish_ffmpeg (ts->rtmp_port, a->key, clip, FALSE);
  g_assert_cmpint (test_wait_child (intruder, 20), !=, 0);
  /* The first publisher is unaffected. */
  g_assert_nonnull (g_subprocess_get_identifier (pa));

  /* POST /stop disconnects the publisher and ends the broadcast. */
  {
    g_autofree char *stop = g_strconcat ("/api/v1/live/streams/", a->stream_id, "/stop", NULL);
    g_autoptr(TestResponse) r = test_request (ts, "POST", stop, a->token, NULL, NULL);
    g_autoptr(TestResponse) denied = test_request (ts, "POST", stop, b->token, NULL, NULL);

    test_assert_error (denied, 403, "forbidden");
    g_assert_cmpuint (r->status, ==, 200);
    g_assert_false (test_json_bool (r, "data.is_live"));
    g_assert_true (test_json_bool (r, "data.is_vod"));
  }
  /* Disconnected, the publisher exits by itself. */
  g_assert_cmpint (test_wait_child (pa, 15), >=, 0);
  test_kill_child (pb);
  g_assert_true (wait_live (ts, b->stream_id, FALSE, 15));
}

/* Publishing with the key of an ended broadcast starts a new broadcast row
 * that takes the key and the metadata; the old row keeps its VOD. */
static void
test_new_broadcast_moves_key (void)
{
  g_autoptr(Streamer) s = streamer_new ("twice");
  const char *clip = test_make_clip ("av", 4);
  g_autoptr(GSubprocess) first = publish_ffmpeg (ts->rtmp_port, s->key, clip, FALSE);
  g_autoptr(GSubprocess) second = NULL;
  g_autoptr(TestResponse) mine = NULL;
  g_autoptr(TestResponse) old_row = NULL;
  const char *new_id, *old_id;

  g_assert_cmpint (test_wait_child (first, 30), ==, 0);
  g_assert_true (wait_live (ts, s->stream_id, FALSE, 15));

  second = publish_ffmpeg (ts->rtmp_port, s->key, clip, FALSE);
  g_assert_cmpint (test_wait_child (second, 30), ==, 0);
  test_run_for (1500);

  mine = test_request (ts, "GET", "/api/v1/live/streams/me", s->token, NULL, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (test_json_node (mine, "data.streams"))),
                    ==, 2);
  new_id = test_json_string (mine, "data.streams.0.id");
  old_id = test_json_string (mine, "data.streams.1.id");
  g_assert_cmpstr (old_id, ==, s->stream_id);
  g_assert_cmpstr (new_id, !=, s->stream_id);
  g_assert_cmpstr (test_json_string (mine, "data.streams.0.stream_key"), ==, s->key);
  g_assert_cmpstr (test_json_string (mine, "data.streams.1.stream_key"), !=, s->key);
  g_assert_cmpstr (test_json_string (mine, "data.streams.0.title"), ==, "twice");
  g_assert_cmpstr (test_json_string (mine, "data.streams.0.category"), ==, "tests");
  g_assert_true (wait_live (ts, new_id, FALSE, 15));

  old_row = get_stream (ts, old_id);
  g_assert_true (test_json_bool (old_row, "data.stream.is_vod"));
  {
    g_autoptr(TestResponse) vod = fetch (ts, old_id, "vod.m3u8");
    g_assert_nonnull (strstr (vod->body, "#EXT-X-ENDLIST"));
  }
}

/* HLS as API.md §4: types, caching, CORS, ranges; live-playlist fetches
 * count as viewers, one per ?viewer= id. */
static void
test_hls_serving_and_viewers (void)
{
  g_autoptr(Streamer) s = streamer_new ("viewers");
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pub = publish_ffmpeg (ts->rtmp_port, s->key, clip, TRUE);
  g_autofree char *live = playlist_path (s->stream_id, "live.m3u8");
  g_autofree char *viewers = g_strconcat ("/api/v1/live/streams/", s->stream_id, "/viewers", NULL);
  g_autofree char *segment = playlist_path (s->stream_id, "segment-000000.ts");
  g_autoptr(TestResponse) pl = NULL;
  g_autoptr(TestResponse) seg = NULL;
  g_autoptr(TestResponse) part = NULL;
  g_autoptr(TestResponse) count = NULL;
  g_autoptr(TestResponse) options = NULL;
  const char *range[] = { "Range: bytes=0-187", NULL };
  const char *preflight[] = { "Origin: http://example.org", "Access-Control-Request-Method: GET", NULL };

  g_assert_true (wait_for (ts, live, "#EXTINF", 20));

  pl = test_request (ts, "GET", live, NULL, NULL, NULL);
  g_assert_cmpstr (soup_message_headers_get_content_type (pl->headers, NULL), ==,
                   "application/vnd.apple.mpegurl");
  g_assert_cmpstr (soup_message_headers_get_one (pl->headers, "Cache-Control"), ==, "no-cache");
  g_assert_cmpstr (soup_message_headers_get_one (pl->headers, "Access-Control-Allow-Origin"), ==, "*");
  g_assert_null (strstr (pl->body, s->key));

  seg = test_request (ts, "GET", segment, NULL, NULL, NULL);
  g_assert_cmpuint (seg->status, ==, 200);
  g_assert_nonnull (strstr (soup_message_headers_get_one (seg->headers, "Cache-Control"), "immutable"));

  part = test_request_full (ts, "GET", segment, range, NULL, 0);
  g_assert_cmpuint (part->status, ==, 206);
  g_assert_cmpuint (part->body_len, ==, 188);
  g_assert_true (g_str_has_prefix (soup_message_headers_get_one (part->headers, "Content-Range"),
                                   "bytes 0-187/"));

  {
    /* An end past the file is clamped; a start past it cannot be served. */
    const char *long_range[] = { "Range: bytes=100-99999999", NULL };
    const char *past_end[] = { "Range: bytes=99999999-", NULL };
    g_autoptr(TestResponse) clamped = test_request_full (ts, "GET", segment, long_range, NULL, 0);
    g_autoptr(TestResponse) beyond = test_request_full (ts, "GET", segment, past_end, NULL, 0);
    g_autofree char *expected = g_strdup_printf ("bytes 100-%" G_GSIZE_FORMAT "/%" G_GSIZE_FORMAT,
                                                 seg->body_len - 1, seg->body_len);

    g_assert_cmpuint (clamped->status, ==, 206);
    g_assert_cmpuint (clamped->body_len, ==, seg->body_len - 100);
    g_assert_cmpstr (soup_message_headers_get_one (clamped->headers, "Content-Range"), ==, expected);
    g_assert_cmpuint (beyond->status, ==, 416);
  }

  options = test_request_full (ts, "OPTIONS", live, preflight, NULL, 0);
  g_assert_cmpuint (options->status, ==, 204);
  g_assert_nonnull (strstr (soup_message_headers_get_one (options->headers,
                                                          "Access-Control-Allow-Headers"), "Range"));

  /* Two players with their own ids, one of them fetching twice. */
  {
    g_autofree char *a = g_strconcat (live, "?viewer=viewer-aaaaaaaa", NULL);
    g_autofree char *b = g_strconcat (live, "?viewer=viewer-bbbbbbbb", NULL);
    g_autoptr(TestResponse) r1 = test_request (ts, "GET", a, NULL, NULL, NULL);
    g_autoptr(TestResponse) r2 = test_request (ts, "GET", a, NULL, NULL, NULL);
    g_autoptr(TestResponse) r3 = test_request (ts, "GET", b, NULL, NULL, NULL);

    g_assert_cmpuint (r1->status, ==, 200);
    g_assert_cmpuint (r2->status, ==, 200);
    g_assert_cmpuint (r3->status, ==, 200);
  }
  count = test_request (ts, "GET", viewers, NULL, NULL, NULL);
  /* a, b, and this test's own plain fetches (one address + agent) */
  g_assert_cmpint (test_json_int (count, "data.viewer_count"), ==, 3);

  test_kill_child (pub);
  g_assert_true (wait_live (ts, s->stream_id, FALSE, 15));
  g_clear_pointer (&count, test_response_free);
  count = test_request (ts, "GET", viewers, NULL, NULL, NULL);
  g_assert_cmpint (test_json_int (count, "data.viewer_count"), ==, 0);
}

static gint64
metric_value (const char *body,
              const char *name)
{
  g_autofree char *needle = g_strconcat ("\n", name, " ", NULL);
  const char *at = strstr (body, needle);

  g_assert_nonnull (at);
  return g_ascii_strtoll (at + strlen (needle), NULL, 10);
}

static void
test_metrics_move (void)
{
  g_autoptr(TestResponse) before = test_request (ts, "GET", "/metrics", NULL, NULL, NULL);
  g_autoptr(Streamer) s = streamer_new ("metrics");
  const char *clip = test_make_clip ("av", 4);
  g_autoptr(GSubprocess) pub = publish_ffmpeg (ts->rtmp_port, s->key, clip, FALSE);
  g_autoptr(TestResponse) after = NULL;

  g_assert_cmpint (test_wait_child (pub, 30), ==, 0);
  g_assert_true (wait_live (ts, s->stream_id, FALSE, 15));
  test_run_for (1200);   /* one presence/counters tick */
  after = test_request (ts, "GET", "/metrics", NULL, NULL, NULL);

  g_assert_cmpint (metric_value (after->body, "veza_ingest_bytes_total"), >,
                   metric_value (before->body, "veza_ingest_bytes_total"));
  g_assert_cmpint (metric_value (after->body, "veza_hls_segments_total"), >,
                   metric_value (before->body, "veza_hls_segments_total"));
  g_assert_cmpint (metric_value (after->body, "veza_live_streams_active"), ==, 0);
  g_assert_null (strstr (after->body, s->key));
}

/* Malformed bytes on one RTMP connection close that connection only. */
static void
test_malformed_rtmp_isolated (void)
{
  g_autoptr(Streamer) s = streamer_new ("isolation");
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pub = publish_ffmpeg (ts->rtmp_port, s->key, clip, TRUE);
  g_autofree char *live = playlist_path (s->stream_id, "live.m3u8");
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  guint8 c0c1[1 + 1536] = { 0 };
  guint8 garbage[4096];

  g_assert_true (wait_for (ts, live, "#EXTINF", 20));

  for (guint round = 0; round < 3; round++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocketConnection) conn =
        g_socket_client_connect_to_host (client, "127.0.0.1", ts->rtmp_port, NULL, &error);
      GOutputStream *out;

      g_assert_no_error (error);
      out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
      if (round == 0)
        /* a truncated handshake, then hang up */
        g_output_stream_write_all (out, "\x03\x00\x00", 3, NULL, NULL, NULL);
      else if (round == 1)
        {
          /* a wrong version byte */
          c0c1[0] = 0x42;
          g_output_stream_write_all (out, c0c1, sizeof c0c1, NULL, NULL, NULL);
        }
      else
        {
          /* a valid C0/C1, then noise instead of C2 and chunks */
          c0c1[0] = 0x03;
          for (guint i = 0; i < sizeof garbage; i++)
            garbage[i] = (guint8) g_random_int ();
          g_output_stream_write_all (out, c0c1, sizeof c0c1, NULL, NULL, NULL);
          g_output_stream_write_all (out, garbage, sizeof garbage, NULL, NULL, NULL);
        }
      test_run_for (300);
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    }

  /* The live stream kept going: a newer segment appears. */
  {
    g_autoptr(TestResponse) before = test_request (ts, "GET", live, NULL, NULL, NULL);
    guint n = count_lines_with (before->body, "#EXT-X-PROGRAM-DATE-TIME");
    gint64 media_seq_before = 0;
    const char *m = strstr (before->body, "#EXT-X-MEDIA-SEQUENCE:");
    gboolean advanced = FALSE;

    if (m != NULL)
      media_seq_before = g_ascii_strtoll (m + strlen ("#EXT-X-MEDIA-SEQUENCE:"), NULL, 10);
    for (guint i = 0; i < 40 && !advanced; i++)
      {
        g_autoptr(TestResponse) now = NULL;
        const char *mn;

        test_run_for (250);
        now = test_request (ts, "GET", live, NULL, NULL, NULL);
        mn = strstr (now->body, "#EXT-X-MEDIA-SEQUENCE:");
        advanced = count_lines_with (now->body, "#EXT-X-PROGRAM-DATE-TIME") > n ||
                   (mn != NULL && g_ascii_strtoll (mn + strlen ("#EXT-X-MEDIA-SEQUENCE:"), NULL, 10)
                                  > media_seq_before);
      }
    g_assert_true (advanced);
  }
  test_kill_child (pub);
  g_assert_true (wait_live (ts, s->stream_id, FALSE, 15));
}

/* ---- a real vezad: SIGTERM while live, and a crash -------------------- */

static Daemon *
start_vezad (const char *data_dir,
             char      **base_url,
             guint16    *rtmp_port)
{
  const char *args[] = { "--data-dir", data_dir, "--http-port", "0", "--rtmp-port", "0", NULL };
  Daemon *d = daemon_start (args);
  const char *at;

  g_assert_true (daemon_wait_log (d, "ready:", 60));
  at = strstr (d->log->str, "listening on http://");
  g_assert_nonnull (at);
  *base_url = g_strndup (at + strlen ("listening on "), strcspn (at + strlen ("listening on "), "\n"));
  at = strstr (d->log->str, "listening on rtmp://127.0.0.1:");
  g_assert_nonnull (at);
  *rtmp_port = (guint16) g_ascii_strtoull (at + strlen ("listening on rtmp://127.0.0.1:"), NULL, 10);
  return d;
}

static void
test_sigterm_closes_playlists (void)
{
  g_autofree char *dir = g_build_filename (test_tmp_dir (), "sigterm", NULL);
  g_autofree char *base = NULL;
  guint16 port = 0;
  Daemon *d = start_vezad (dir, &base, &port);
  TestServer *remote = test_server_for_url (base);
  g_autoptr(Streamer) s = streamer_new_on (remote, "sigterm");
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pub = publish_ffmpeg (port, s->key, clip, TRUE);
  g_autofree char *live = playlist_path (s->stream_id, "live.m3u8");
  g_autofree char *vod_file = g_build_filename (dir, "media", s->stream_id, "vod.m3u8", NULL);
  g_autofree char *vod = NULL;

  g_assert_true (wait_for (remote, live, "#EXTINF", 20));
  g_subprocess_send_signal (d->proc, SIGTERM);
  g_assert_cmpint (daemon_finish (d, 30), ==, 0);
  test_kill_child (pub);

  vod = test_read_file (vod_file);
  g_assert_nonnull (vod);
  g_assert_nonnull (strstr (vod, "#EXT-X-ENDLIST"));
  g_assert_nonnull (strstr (vod, "#EXT-X-PLAYLIST-TYPE:VOD"));
  daemon_free (d);

  /* Restarted, it shows the broadcast as a VOD. */
  {
    g_autofree char *base2 = NULL;
    guint16 port2;
    Daemon *again = start_vezad (dir, &base2, &port2);
    TestServer *remote2 = test_server_for_url (base2);
    g_autoptr(TestResponse) row = get_stream (remote2, s->stream_id);

    g_assert_false (test_json_bool (row, "data.stream.is_live"));
    g_assert_true (test_json_bool (row, "data.stream.is_vod"));
    test_server_for_url_free (remote2);
    g_subprocess_send_signal (again->proc, SIGTERM);
    g_assert_cmpint (daemon_finish (again, 30), ==, 0);
    daemon_free (again);
  }
  test_server_for_url_free (remote);
}

static void
test_crash_recovery (void)
{
  g_autofree char *dir = g_build_filename (test_tmp_dir (), "crash", NULL);
  g_autofree char *base = NULL;
  guint16 port = 0;
  Daemon *d = start_vezad (dir, &base, &port);
  TestServer *remote = test_server_for_url (base);
  g_autoptr(Streamer) s = streamer_new_on (remote, "crash");
  const char *clip = test_make_clip ("av", 8);
  g_autoptr(GSubprocess) pub = publish_ffmpeg (port, s->key, clip, TRUE);
  g_autofree char *live = playlist_path (s->stream_id, "live.m3u8");
  g_autofree char *base2 = NULL;
  guint16 port2;
  Daemon *again;
  TestServer *remote2;

  g_assert_true (wait_for (remote, live, "#EXTINF", 20));
  g_subprocess_send_signal (d->proc, SIGKILL);
  daemon_finish (d, 30);
  test_kill_child (pub);
  daemon_free (d);
  test_server_for_url_free (remote);

  /* The next start finds the row live, closes its playlists and ends it. */
  again = start_vezad (dir, &base2, &port2);
  remote2 = test_server_for_url (base2);
  g_assert_true (wait_live (remote2, s->stream_id, FALSE, 15));
  {
    g_autoptr(TestResponse) row = get_stream (remote2, s->stream_id);
    g_autoptr(TestResponse) vod = fetch (remote2, s->stream_id, "vod.m3u8");

    g_assert_true (test_json_bool (row, "data.stream.is_vod"));
    g_assert_nonnull (strstr (vod->body, "#EXT-X-ENDLIST"));
    assert_segments_served (remote2, s->stream_id, vod->body);
  }
  test_server_for_url_free (remote2);
  g_subprocess_send_signal (again->proc, SIGTERM);
  g_assert_cmpint (daemon_finish (again, 30), ==, 0);
  daemon_free (again);
}

int
main (int argc, char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  ts = test_server_new (NULL);

  g_test_add_func ("/veza/ingest/publish-ffmpeg", test_publish_ffmpeg);
  g_test_add_func ("/veza/ingest/publish-rtmp2sink", test_publish_rtmp2sink);
  g_test_add_func ("/veza/ingest/audio-only", test_audio_only);
  g_test_add_func ("/veza/ingest/bad-key", test_bad_key);
  g_test_add_func ("/veza/ingest/keyauth-rate-limit", test_keyauth_rate_limit);
  g_test_add_func ("/veza/ingest/reconnect-within-grace", test_reconnect_within_grace);
  g_test_add_func ("/veza/ingest/grace-expiry", test_grace_expiry);
  g_test_add_func ("/veza/ingest/second-publisher-two-streams-stop",
                   test_second_publisher_and_two_streams);
  g_test_add_func ("/veza/ingest/new-broadcast-moves-key", test_new_broadcast_moves_key);
  g_test_add_func ("/veza/ingest/hls-serving-viewers", test_hls_serving_and_viewers);
  g_test_add_func ("/veza/ingest/metrics-move", test_metrics_move);
  g_test_add_func ("/veza/ingest/malformed-rtmp-isolated", test_malformed_rtmp_isolated);
  g_test_add_func ("/veza/ingest/sigterm-closes-playlists", test_sigterm_closes_playlists);
  g_test_add_func ("/veza/ingest/crash-recovery", test_crash_recovery);

  ret = g_test_run ();
  test_server_free (ts);
  return ret;
}
