/* hls-writer-test.c: playlists written by VezaHlsWriter
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "media/veza-hls-writer.h"

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("veza-hls-XXXXXX", &error);
  g_assert_no_error (error);
}

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
          if (g_file_test (child, G_FILE_TEST_IS_DIR))
            rm_rf (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  rm_rf (f->dir);
  g_free (f->dir);
}

static char *
read_in (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static gboolean
exists_in (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* 2026-11-24T10:00:00.250Z + @seconds */
static GDateTime *
pdt (double seconds)
{
  g_autoptr (GDateTime) base = g_date_time_new_utc (2026, 11, 24, 10, 0, 0.25);
  return g_date_time_add (base, (GTimeSpan) (seconds * G_TIME_SPAN_SECOND));
}

/* Adds a segment of @duration starting at @start seconds; writes a dummy
 * file for it.  Returns its base name. */
static char *
add (VezaHlsWriter *writer, double start, double duration)
{
  g_autofree char *path = veza_hls_writer_next_segment_path (writer);
  g_autoptr (GDateTime) when = pdt (start);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, "ts", 2, &error);
  g_assert_no_error (error);
  veza_hls_writer_add_segment (writer, path, duration, when);
  return g_path_get_basename (path);
}

static void
test_no_playlist_before_first_segment (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sub = g_build_filename (f->dir, "a", "b", NULL);
  g_autoptr (VezaHlsWriter) writer = veza_hls_writer_new (sub, 2, 6, &error);
  g_autofree char *path = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (writer);
  g_assert_true (g_file_test (sub, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (veza_hls_writer_get_n_segments (writer), ==, 0);

  path = veza_hls_writer_next_segment_path (writer);
  g_assert_true (g_path_is_absolute (path));
  g_assert_true (g_str_has_suffix (path, "/segment-000000.ts"));
  g_assert_false (exists_in (sub, "live.m3u8"));
  g_assert_false (exists_in (sub, "vod.m3u8"));

  /* finishing an empty broadcast writes nothing either */
  veza_hls_writer_finish (writer);
  g_assert_true (veza_hls_writer_is_finished (writer));
  g_assert_false (exists_in (sub, "live.m3u8"));
  g_assert_false (exists_in (sub, "vod.m3u8"));

  /* and there is nothing to recover */
  g_assert_false (veza_hls_finish_dir (sub, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

static void
test_exact_text (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaHlsWriter) writer = veza_hls_writer_new (f->dir, 2, 6, &error);
  g_autofree char *live = NULL;
  g_autofree char *vod = NULL;
  g_autofree char *name0 = NULL, *name1 = NULL, *name2 = NULL;

  g_assert_no_error (error);
  name0 = add (writer, 0, 2.0);
  g_assert_cmpstr (name0, ==, "segment-000000.ts");
  name1 = add (writer, 2.0, 2.0333);
  name2 = add (writer, 4.0333, 1.5);
  g_assert_cmpstr (name2, ==, "segment-000002.ts");
  g_assert_cmpuint (veza_hls_writer_get_n_segments (writer), ==, 3);
  g_assert_false (veza_hls_writer_is_finished (writer));

  live = read_in (f->dir, "live.m3u8");
  g_assert_cmpstr (live, ==,
                   "#EXTM3U\n"
                   "#EXT-X-VERSION:3\n"
                   "#EXT-X-TARGETDURATION:3\n"
                   "#EXT-X-MEDIA-SEQUENCE:0\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:00.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000000.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:02.250Z\n"
                   "#EXTINF:2.033,\n"
                   "segment-000001.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:04.283Z\n"
                   "#EXTINF:1.500,\n"
                   "segment-000002.ts\n");

  vod = read_in (f->dir, "vod.m3u8");
  g_assert_cmpstr (vod, ==,
                   "#EXTM3U\n"
                   "#EXT-X-VERSION:3\n"
                   "#EXT-X-TARGETDURATION:3\n"
                   "#EXT-X-MEDIA-SEQUENCE:0\n"
                   "#EXT-X-PLAYLIST-TYPE:EVENT\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:00.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000000.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:02.250Z\n"
                   "#EXTINF:2.033,\n"
                   "segment-000001.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:04.283Z\n"
                   "#EXTINF:1.500,\n"
                   "segment-000002.ts\n");

  /* no temporary file left behind */
  {
    g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
    const char *name;
    guint n = 0;
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_assert_false (name[0] == '.');
        n++;
      }
    g_assert_cmpuint (n, ==, 5);
  }
}

static void
test_target_duration_two (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaHlsWriter) writer = veza_hls_writer_new (f->dir, 2, 6, &error);
  g_autofree char *live = NULL;
  g_autofree char *n0 = NULL, *n1 = NULL;

  g_assert_no_error (error);
  n0 = add (writer, 0, 2.0);
  n1 = add (writer, 2.0, 1.9996);  /* written 2.000 */
  live = read_in (f->dir, "live.m3u8");
  g_assert_nonnull (strstr (live, "#EXT-X-TARGETDURATION:2\n"));
  g_assert_nonnull (strstr (live, "#EXTINF:2.000,\nsegment-000001.ts\n"));
}

static void
test_sliding_window (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaHlsWriter) writer = veza_hls_writer_new (f->dir, 2, 3, &error);
  g_autofree char *live = NULL;
  g_autofree char *vod = NULL;

  g_assert_no_error (error);
  for (guint i = 0; i < 5; i++)
    g_free (add (writer, 2.0 * i, 2.0));

  live = read_in (f->dir, "live.m3u8");
  g_assert_cmpstr (live, ==,
                   "#EXTM3U\n"
                   "#EXT-X-VERSION:3\n"
                   "#EXT-X-TARGETDURATION:2\n"
                   "#EXT-X-MEDIA-SEQUENCE:2\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:04.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000002.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:06.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000003.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:08.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000004.ts\n");

  vod = read_in (f->dir, "vod.m3u8");
  g_assert_nonnull (strstr (vod, "#EXT-X-MEDIA-SEQUENCE:0\n"));
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *line = g_strdup_printf ("\nsegment-%06u.ts\n", i);
      g_assert_nonnull (strstr (vod, line));
    }
}

static guint
count (const char *haystack, const char *needle)
{
  gsize len = strlen (haystack), step = strlen (needle);
  guint n = 0;

  /* By offset: GCC's -Wdangling-pointer misreads the pointer walk once
   * the callers are inlined. */
  for (gsize at = 0; at + step <= len; at++)
    if (strncmp (haystack + at, needle, step) == 0)
      n++;
  return n;
}

static void
test_discontinuity (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaHlsWriter) writer = veza_hls_writer_new (f->dir, 2, 3, &error);
  g_autofree char *live = NULL;
  g_autofree char *vod = NULL;

  g_assert_no_error (error);
  /* a discontinuity before anything is meaningless */
  veza_hls_writer_mark_discontinuity (writer);
  g_free (add (writer, 0, 2.0));
  g_free (add (writer, 2, 2.0));
  veza_hls_writer_mark_discontinuity (writer);  /* publisher reconnected */
  g_free (add (writer, 10, 2.0));
  g_free (add (writer, 12, 2.0));

  live = read_in (f->dir, "live.m3u8");
  g_assert_cmpstr (live, ==,
                   "#EXTM3U\n"
                   "#EXT-X-VERSION:3\n"
                   "#EXT-X-TARGETDURATION:2\n"
                   "#EXT-X-MEDIA-SEQUENCE:1\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:02.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000001.ts\n"
                   "#EXT-X-DISCONTINUITY\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:10.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000002.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:12.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000003.ts\n");
  vod = read_in (f->dir, "vod.m3u8");
  g_assert_cmpuint (count (vod, "#EXT-X-DISCONTINUITY\n"), ==, 1);
  g_assert_nonnull (strstr (vod, "segment-000001.ts\n#EXT-X-DISCONTINUITY\n"
                                 "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:10.250Z\n"));
  g_assert_null (strstr (vod, "DISCONTINUITY-SEQUENCE"));

  /* the discontinuity is still the first line of the window: not counted */
  g_free (add (writer, 14, 2.0));
  g_clear_pointer (&live, g_free);
  live = read_in (f->dir, "live.m3u8");
  g_assert_null (strstr (live, "DISCONTINUITY-SEQUENCE"));
  g_assert_nonnull (strstr (live, "#EXT-X-MEDIA-SEQUENCE:2\n#EXT-X-DISCONTINUITY\n"));

  /* once it slid out, the sequence counts it */
  g_free (add (writer, 16, 2.0));
  g_clear_pointer (&live, g_free);
  live = read_in (f->dir, "live.m3u8");
  g_assert_cmpstr (live, ==,
                   "#EXTM3U\n"
                   "#EXT-X-VERSION:3\n"
                   "#EXT-X-TARGETDURATION:2\n"
                   "#EXT-X-MEDIA-SEQUENCE:3\n"
                   "#EXT-X-DISCONTINUITY-SEQUENCE:1\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:12.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000003.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:14.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000004.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:16.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000005.ts\n");
}

static void
test_finish (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaHlsWriter) writer = veza_hls_writer_new (f->dir, 2, 2, &error);
  g_autofree char *live = NULL;
  g_autofree char *vod = NULL;
  g_autofree char *vod_again = NULL;

  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_free (add (writer, 2.0 * i, 2.0));
  veza_hls_writer_finish (writer);
  g_assert_true (veza_hls_writer_is_finished (writer));

  live = read_in (f->dir, "live.m3u8");
  g_assert_true (g_str_has_suffix (live, "segment-000002.ts\n#EXT-X-ENDLIST\n"));
  g_assert_nonnull (strstr (live, "#EXT-X-MEDIA-SEQUENCE:1\n"));
  g_assert_null (strstr (live, "PLAYLIST-TYPE"));

  vod = read_in (f->dir, "vod.m3u8");
  g_assert_cmpstr (vod, ==,
                   "#EXTM3U\n"
                   "#EXT-X-VERSION:3\n"
                   "#EXT-X-TARGETDURATION:2\n"
                   "#EXT-X-MEDIA-SEQUENCE:0\n"
                   "#EXT-X-PLAYLIST-TYPE:VOD\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:00.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000000.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:02.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000001.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:04.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000002.ts\n"
                   "#EXT-X-ENDLIST\n");

  /* idempotent */
  veza_hls_writer_finish (writer);
  vod_again = read_in (f->dir, "vod.m3u8");
  g_assert_cmpstr (vod, ==, vod_again);
}

static void
test_resume (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaHlsWriter) first = veza_hls_writer_new (f->dir, 2, 6, &error);
  g_autoptr (VezaHlsWriter) second = NULL;
  g_autofree char *vod = NULL;
  g_autofree char *name = NULL;
  g_autofree char *stray = g_build_filename (f->dir, "segment-000004.ts", NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_free (add (first, 2.0 * i, 2.0));
  g_clear_object (&first);   /* the process "restarts" */

  /* a segment recorded but never listed must not be overwritten */
  g_file_set_contents (stray, "x", 1, &error);
  g_assert_no_error (error);

  second = veza_hls_writer_new (f->dir, 2, 6, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (veza_hls_writer_get_n_segments (second), ==, 3);
  g_assert_false (veza_hls_writer_is_finished (second));

  name = add (second, 20, 2.0);
  g_assert_cmpstr (name, ==, "segment-000005.ts");
  g_assert_cmpuint (veza_hls_writer_get_n_segments (second), ==, 4);

  vod = read_in (f->dir, "vod.m3u8");
  g_assert_cmpstr (vod, ==,
                   "#EXTM3U\n"
                   "#EXT-X-VERSION:3\n"
                   "#EXT-X-TARGETDURATION:2\n"
                   "#EXT-X-MEDIA-SEQUENCE:0\n"
                   "#EXT-X-PLAYLIST-TYPE:EVENT\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:00.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000000.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:02.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000001.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:04.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000002.ts\n"
                   "#EXT-X-DISCONTINUITY\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:20.250Z\n"
                   "#EXTINF:2.000,\n"
                   "segment-000005.ts\n");
}

static void
test_resume_rejects_foreign_playlist (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "vod.m3u8", NULL);
  g_autoptr (VezaHlsWriter) writer = NULL;

  g_file_set_contents (path, "#EXTM3U\n#EXTINF:2,\n../../etc/passwd\n", -1, &error);
  g_assert_no_error (error);
  writer = veza_hls_writer_new (f->dir, 2, 6, &error);
  g_assert_null (writer);
  g_assert_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_INVALID_DATA);
}

static void
test_finish_dir (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaHlsWriter) writer = veza_hls_writer_new (f->dir, 2, 2, &error);
  g_autofree char *live = NULL;
  g_autofree char *vod = NULL;
  g_autofree char *vod_again = NULL;
  g_autofree char *stale = g_build_filename (f->dir, ".recording-3-000007.ts", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "nothing-here", NULL);

  g_assert_no_error (error);
  veza_hls_writer_mark_discontinuity (writer);
  for (guint i = 0; i < 4; i++)
    {
      if (i == 2)
        veza_hls_writer_mark_discontinuity (writer);
      g_free (add (writer, 2.0 * i, 2.0));
    }
  g_clear_object (&writer);   /* "crash": never finished */
  g_file_set_contents (stale, "partial", -1, &error);
  g_assert_no_error (error);

  vod = read_in (f->dir, "vod.m3u8");
  g_assert_null (strstr (vod, "ENDLIST"));

  g_assert_true (veza_hls_finish_dir (f->dir, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));

  g_clear_pointer (&vod, g_free);
  vod = read_in (f->dir, "vod.m3u8");
  g_assert_nonnull (strstr (vod, "#EXT-X-PLAYLIST-TYPE:VOD\n"));
  g_assert_true (g_str_has_suffix (vod, "segment-000003.ts\n#EXT-X-ENDLIST\n"));
  g_assert_cmpuint (count (vod, "#EXT-X-DISCONTINUITY\n"), ==, 1);
  g_assert_cmpuint (count (vod, "#EXTINF:"), ==, 4);

  /* the live playlist keeps its window of 2 and is closed too */
  live = read_in (f->dir, "live.m3u8");
  g_assert_cmpuint (count (live, "#EXTINF:"), ==, 2);
  g_assert_nonnull (strstr (live, "#EXT-X-MEDIA-SEQUENCE:2\n"));
  g_assert_nonnull (strstr (live, "#EXT-X-DISCONTINUITY\n"));
  g_assert_true (g_str_has_suffix (live, "#EXT-X-ENDLIST\n"));

  /* no-op when already closed */
  g_assert_true (veza_hls_finish_dir (f->dir, &error));
  g_assert_no_error (error);
  vod_again = read_in (f->dir, "vod.m3u8");
  g_assert_cmpstr (vod, ==, vod_again);

  g_assert_false (veza_hls_finish_dir (missing, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

static void
test_reopen_finished (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaHlsWriter) writer = veza_hls_writer_new (f->dir, 2, 6, &error);
  g_autoptr (VezaHlsWriter) again = NULL;
  g_autofree char *vod = NULL;

  g_assert_no_error (error);
  g_free (add (writer, 0, 2.0));
  veza_hls_writer_finish (writer);
  g_clear_object (&writer);

  /* closed at shutdown, then the broadcast continues after a restart */
  again = veza_hls_writer_new (f->dir, 2, 6, &error);
  g_assert_no_error (error);
  g_assert_true (veza_hls_writer_is_finished (again));
  g_free (add (again, 30, 2.0));
  g_assert_false (veza_hls_writer_is_finished (again));
  vod = read_in (f->dir, "vod.m3u8");
  g_assert_null (strstr (vod, "ENDLIST"));
  g_assert_nonnull (strstr (vod, "#EXT-X-PLAYLIST-TYPE:EVENT\n"));
  g_assert_nonnull (strstr (vod, "segment-000000.ts\n#EXT-X-DISCONTINUITY\n"));
}

static void
test_segment_after_finish (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaHlsWriter) writer = veza_hls_writer_new (f->dir, 2, 6, &error);
  g_autofree char *vod = NULL;
  g_autofree char *live = NULL;

  g_assert_no_error (error);
  g_free (add (writer, 0, 2.0));
  veza_hls_writer_finish (writer);
  /* the last segment of a pipeline that was still draining */
  g_free (add (writer, 2, 1.0));
  g_assert_true (veza_hls_writer_is_finished (writer));
  vod = read_in (f->dir, "vod.m3u8");
  g_assert_true (g_str_has_suffix (vod, "#EXTINF:1.000,\nsegment-000001.ts\n#EXT-X-ENDLIST\n"));
  g_assert_nonnull (strstr (vod, "#EXT-X-PLAYLIST-TYPE:VOD\n"));
  live = read_in (f->dir, "live.m3u8");
  g_assert_true (g_str_has_suffix (live, "segment-000001.ts\n#EXT-X-ENDLIST\n"));
}

/* While live, segments are appended to vod.m3u8 and live.m3u8 is
 * rewritten in place: what is on disk is what a whole rewrite gives, a
 * longer segment rewrites the header, and a crash that cut the last
 * append loses that segment only. */
static void
test_append_while_live (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VezaHlsWriter) writer = veza_hls_writer_new (f->dir, 2, 3, &error);
  g_autoptr (VezaHlsWriter) again = NULL;
  g_autofree char *vod_path = g_build_filename (f->dir, "vod.m3u8", NULL);
  g_autofree char *vod = NULL;
  g_autofree char *live = NULL;
  g_autofree char *cut = NULL;
  GStatBuf before, after;

  g_assert_no_error (error);
  for (guint i = 0; i < 5; i++)
    g_free (add (writer, 2.0 * i, 2.0));
  g_assert_cmpint (g_stat (vod_path, &before), ==, 0);
  g_free (add (writer, 10.0, 2.0));
  g_assert_cmpint (g_stat (vod_path, &after), ==, 0);
  g_assert_cmpuint (before.st_ino, ==, after.st_ino);      /* appended, not replaced */

  vod = read_in (f->dir, "vod.m3u8");
  g_assert_true (g_str_has_prefix (vod, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
                                        "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n"));
  g_assert_true (g_str_has_suffix (vod, "#EXTINF:2.000,\nsegment-000005.ts\n"));
  live = read_in (f->dir, "live.m3u8");
  g_assert_true (g_str_has_prefix (live, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
                                         "#EXT-X-MEDIA-SEQUENCE:3\n"));
  g_assert_true (g_str_has_suffix (live, "segment-000005.ts\n"));
  g_clear_pointer (&live, g_free);

  /* a longer segment changes the header: the whole file is new */
  g_free (add (writer, 12.0, 3.5));
  g_clear_pointer (&vod, g_free);
  vod = read_in (f->dir, "vod.m3u8");
  g_assert_true (g_str_has_prefix (vod, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n"));
  g_assert_true (g_str_has_suffix (vod, "#EXTINF:3.500,\nsegment-000006.ts\n"));
  live = read_in (f->dir, "live.m3u8");
  g_assert_true (g_str_has_prefix (live, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n"
                                         "#EXT-X-MEDIA-SEQUENCE:4\n"));
  g_free (add (writer, 15.5, 2.0));
  g_clear_object (&writer);

  /* the process dies in the middle of an append */
  g_clear_pointer (&vod, g_free);
  vod = read_in (f->dir, "vod.m3u8");
  cut = g_strconcat (vod, "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T10:00:17.500Z\n#EXTINF:2.000,\nsegm", NULL);
  g_file_set_contents (vod_path, cut, -1, &error);
  g_assert_no_error (error);
  again = veza_hls_writer_new (f->dir, 2, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (veza_hls_writer_get_n_segments (again), ==, 8);
  veza_hls_writer_finish (again);
  g_clear_pointer (&vod, g_free);
  vod = read_in (f->dir, "vod.m3u8");
  g_assert_true (g_str_has_suffix (vod, "#EXTINF:2.000,\nsegment-000007.ts\n#EXT-X-ENDLIST\n"));
  g_assert_null (strstr (vod, "segm\n"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/veza/hls/no-playlist-before-first-segment", test_no_playlist_before_first_segment);
  ADD ("/veza/hls/exact-text", test_exact_text);
  ADD ("/veza/hls/target-duration", test_target_duration_two);
  ADD ("/veza/hls/sliding-window", test_sliding_window);
  ADD ("/veza/hls/discontinuity", test_discontinuity);
  ADD ("/veza/hls/finish", test_finish);
  ADD ("/veza/hls/resume", test_resume);
  ADD ("/veza/hls/resume-rejects-foreign-playlist", test_resume_rejects_foreign_playlist);
  ADD ("/veza/hls/finish-dir", test_finish_dir);
  ADD ("/veza/hls/reopen-finished", test_reopen_finished);
  ADD ("/veza/hls/segment-after-finish", test_segment_after_finish);
  ADD ("/veza/hls/append-while-live", test_append_while_live);

  return g_test_run ();
}
