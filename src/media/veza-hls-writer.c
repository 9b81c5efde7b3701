/* veza-hls-writer.c: the playlists and segment names of one broadcast
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A broadcast's folder holds `segment-%06u.ts` files, a sliding-window
 * `live.m3u8` and a `vod.m3u8` listing every segment (RFC 8216).  No
 * playlist exists before the first segment.
 *
 * While the broadcast is live, a new segment costs no new file: live.m3u8
 * is rewritten in place, and the segment's lines are appended to vod.m3u8,
 * whose header does not change (unless a longer segment raises its target
 * duration: it is then written anew).  Creating a file per playlist and
 * segment, and renaming it over the old one, cost more than all of the
 * segment's muxing (the file system allocates, and frees, an inode each
 * time).  Veza's HTTP server reads the playlists on the main context, as
 * the writer writes them, so it never sees one half written; it copies
 * them rather than mapping them.  When the broadcast ends, or a segment
 * comes after that, both are written as a whole into a temporary file
 * renamed over the old one.
 *
 * vod.m3u8 is also the state of the writer: a new writer on a folder that
 * already holds one (a publisher reconnect after a restart) reloads the
 * segment list from it and continues the numbering.
 */

#include "veza-hls-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define SEGMENT_PREFIX "segment-"
#define SEGMENT_SUFFIX ".ts"
#define DEFAULT_LIVE_WINDOW 6
/* A vod.m3u8 larger than this is not one of ours (a week of 2 s segments
 * is about 30 MiB). */
#define MAX_PLAYLIST_SIZE (64 * 1024 * 1024)

G_DEFINE_QUARK (veza-media-error-quark, veza_media_error)

typedef struct
{
  char *filename;
  gint64 duration_ms;
  GDateTime *program_date_time; /* nullable */
  gboolean discontinuity;
} Segment;

struct _VezaHlsWriter
{
  GObject parent_instance;

  char *dir;
  guint target_duration_s;
  guint live_window;

  GPtrArray *segments;          /* Segment* */
  guint next_index;             /* number of the next segment file */
  gboolean discontinuity_pending;
  gboolean finished;
  gboolean reopenable;          /* closed on disk when loaded */
  guint vod_target_on_disk;     /* target duration in vod.m3u8's header, 0: rewrite it */
};

G_DEFINE_FINAL_TYPE (VezaHlsWriter, veza_hls_writer, G_TYPE_OBJECT)

static void
segment_free (Segment *segment)
{
  g_free (segment->filename);
  g_clear_pointer (&segment->program_date_time, g_date_time_unref);
  g_free (segment);
}

static void
veza_hls_writer_finalize (GObject *object)
{
  VezaHlsWriter *self = VEZA_HLS_WRITER (object);

  g_free (self->dir);
  g_ptr_array_unref (self->segments);

  G_OBJECT_CLASS (veza_hls_writer_parent_class)->finalize (object);
}

static void
veza_hls_writer_class_init (VezaHlsWriterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = veza_hls_writer_finalize;
}

static void
veza_hls_writer_init (VezaHlsWriter *self)
{
  self->segments = g_ptr_array_new_with_free_func ((GDestroyNotify) segment_free);
}

/* Number of a file named segment-NNNNNN.ts, or -1. */
static gint64
parse_segment_number (const char *name)
{
  const char *digits;
  const char *end;
  guint64 value;

  if (!g_str_has_prefix (name, SEGMENT_PREFIX) || !g_str_has_suffix (name, SEGMENT_SUFFIX))
    return -1;
  digits = name + strlen (SEGMENT_PREFIX);
  end = name + strlen (name) - strlen (SEGMENT_SUFFIX);
  if (digits == end)
    return -1;
  for (const char *p = digits; p < end; p++)
    if (!g_ascii_isdigit (*p))
      return -1;
  value = g_ascii_strtoull (digits, NULL, 10);
  if (value >= G_MAXUINT)
    return -1;
  return (gint64) value;
}

static char *
format_program_date_time (GDateTime *dt)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (dt);
  g_autofree char *base = g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", base, g_date_time_get_microsecond (utc) / 1000);
}

static guint
effective_target_duration (VezaHlsWriter *self)
{
  gint64 max_ms = 0;

  for (guint i = 0; i < self->segments->len; i++)
    {
      Segment *segment = g_ptr_array_index (self->segments, i);
      max_ms = MAX (max_ms, segment->duration_ms);
    }

  /* ceil() of the largest duration as written (milliseconds) */
  return MAX (self->target_duration_s, (guint) ((max_ms + 999) / 1000));
}

static void
append_segment (GString *out, Segment *segment)
{
  /* The first segment never has one; a tag on the first segment of the
   * window is not yet counted by EXT-X-DISCONTINUITY-SEQUENCE (RFC 8216,
   * 6.2.1: only tags that left the playlist are). */
  if (segment->discontinuity)
    g_string_append (out, "#EXT-X-DISCONTINUITY\n");
  if (segment->program_date_time != NULL)
    {
      g_autofree char *pdt = format_program_date_time (segment->program_date_time);
      g_string_append_printf (out, "#EXT-X-PROGRAM-DATE-TIME:%s\n", pdt);
    }
  g_string_append_printf (out, "#EXTINF:%" G_GINT64_FORMAT ".%03d,\n%s\n",
                          segment->duration_ms / 1000,
                          (int) (segment->duration_ms % 1000),
                          segment->filename);
}

static char *
render_playlist (VezaHlsWriter *self, gboolean vod)
{
  GString *out = g_string_new ("#EXTM3U\n#EXT-X-VERSION:3\n");
  guint first = 0;
  guint discontinuity_sequence = 0;

  if (!vod && self->segments->len > self->live_window)
    first = self->segments->len - self->live_window;

  for (guint i = 0; i < first; i++)
    {
      Segment *segment = g_ptr_array_index (self->segments, i);
      if (segment->discontinuity)
        discontinuity_sequence++;
    }

  g_string_append_printf (out, "#EXT-X-TARGETDURATION:%u\n", effective_target_duration (self));
  g_string_append_printf (out, "#EXT-X-MEDIA-SEQUENCE:%u\n", first);
  if (discontinuity_sequence > 0)
    g_string_append_printf (out, "#EXT-X-DISCONTINUITY-SEQUENCE:%u\n", discontinuity_sequence);
  if (vod)
    g_string_append_printf (out, "#EXT-X-PLAYLIST-TYPE:%s\n", self->finished ? "VOD" : "EVENT");

  for (guint i = first; i < self->segments->len; i++)
    append_segment (out, g_ptr_array_index (self->segments, i));

  if (self->finished)
    g_string_append (out, "#EXT-X-ENDLIST\n");

  return g_string_free (out, FALSE);
}

static gboolean
write_atomically (const char *dir, const char *name, const char *contents, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, name);
  gsize len = strlen (contents);
  gsize done = 0;
  int fd;
  int saved_errno;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot create a temporary file for %s: %s", name, g_strerror (saved_errno));
      return FALSE;
    }
  /* mkstemp creates 0600 whatever the mode asked; playlists are public */
  if (fchmod (fd, 0644) != 0)
    g_debug ("fchmod on a temporary playlist failed: %s", g_strerror (errno));

  while (done < len)
    {
      ssize_t n = write (fd, contents + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved_errno = errno;
          close (fd);
          g_unlink (tmp);
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       "Cannot write %s: %s", name, g_strerror (saved_errno));
          return FALSE;
        }
      done += (gsize) n;
    }

  if (close (fd) != 0 || g_rename (tmp, path) != 0)
    {
      saved_errno = errno;
      g_unlink (tmp);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot replace %s: %s", name, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

/* Writes @contents at the start of @name, created if needed, and cuts
 * what is left of the old contents.  Returns FALSE with errno set. */
static gboolean
write_in_place (const char *dir, const char *name, const char *contents, gsize len, int flags)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  gsize done = 0;
  int fd = g_open (path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
  int saved_errno;

  if (fd < 0)
    return FALSE;
  while (done < len)
    {
      ssize_t n = (flags & O_APPEND) ? write (fd, contents + done, len - done)
                                     : pwrite (fd, contents + done, len - done, (off_t) done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        goto failed;
      done += (gsize) n;
    }
  if (!(flags & O_APPEND) && ftruncate (fd, (off_t) len) != 0)
    goto failed;
  return close (fd) == 0;

failed:
  saved_errno = errno != 0 ? errno : EIO;
  close (fd);
  errno = saved_errno;
  return FALSE;
}

/* The last segment's lines at the end of vod.m3u8, when its header can
 * stay as it is. */
static gboolean
append_to_vod (VezaHlsWriter *self)
{
  g_autoptr (GString) lines = g_string_new (NULL);

  if (self->vod_target_on_disk == 0 || self->vod_target_on_disk != effective_target_duration (self))
    return FALSE;
  append_segment (lines, g_ptr_array_index (self->segments, self->segments->len - 1));
  if (!write_in_place (self->dir, VEZA_HLS_VOD_PLAYLIST, lines->str, lines->len, O_APPEND))
    {
      g_debug ("appending to %s/%s failed (%s): writing it anew", self->dir,
               VEZA_HLS_VOD_PLAYLIST, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* After a new segment (@appended) or the end. */
static void
write_playlists_after (VezaHlsWriter *self, gboolean appended)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *live = NULL;
  g_autofree char *vod = NULL;

  if (self->segments->len == 0)
    return;

  live = render_playlist (self, FALSE);
  if (appended && !self->finished)
    {
      if (!write_in_place (self->dir, VEZA_HLS_LIVE_PLAYLIST, live, strlen (live), 0))
        g_warning ("Cannot update the playlists in %s: %s", self->dir, g_strerror (errno));
      if (append_to_vod (self))
        return;
    }
  /* live first: a vod.m3u8 with ENDLIST then means both are closed */
  else if (!write_atomically (self->dir, VEZA_HLS_LIVE_PLAYLIST, live, &error))
    {
      g_warning ("Cannot update the playlists in %s: %s", self->dir, error->message);
      return;
    }

  vod = render_playlist (self, TRUE);
  self->vod_target_on_disk = 0;
  if (!write_atomically (self->dir, VEZA_HLS_VOD_PLAYLIST, vod, &error))
    g_warning ("Cannot update the playlists in %s: %s", self->dir, error->message);
  else if (!self->finished)
    self->vod_target_on_disk = effective_target_duration (self);
}

static void
write_playlists (VezaHlsWriter *self)
{
  write_playlists_after (self, FALSE);
}

/* Loads the segments of @dir's vod.m3u8 into @self.  Returns FALSE with
 * G_FILE_ERROR_NOENT when there is none. */
static gboolean
load_vod_playlist (VezaHlsWriter *self, GError **error)
{
  g_autofree char *path = g_build_filename (self->dir, VEZA_HLS_VOD_PLAYLIST, NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  gsize length = 0;
  gboolean discontinuity = FALSE;
  gint64 duration_ms = -1;
  g_autoptr (GDateTime) pdt = NULL;

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;

  if (length > MAX_PLAYLIST_SIZE || !g_str_has_prefix (contents, "#EXTM3U"))
    {
      g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_INVALID_DATA,
                   "%s is not a playlist written by Veza", VEZA_HLS_VOD_PLAYLIST);
      return FALSE;
    }
  /* segments are appended while live: a crash may have cut the last one */
  if (length > 0 && contents[length - 1] != '\n')
    {
      char *end = strrchr (contents, '\n');
      if (end != NULL)
        end[1] = '\0';
    }

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (*line == '\0')
        continue;

      if (g_str_has_prefix (line, "#EXT-X-DISCONTINUITY") &&
          line[strlen ("#EXT-X-DISCONTINUITY")] == '\0')
        discontinuity = TRUE;
      else if (g_str_has_prefix (line, "#EXT-X-PROGRAM-DATE-TIME:"))
        {
          g_clear_pointer (&pdt, g_date_time_unref);
          pdt = g_date_time_new_from_iso8601 (line + strlen ("#EXT-X-PROGRAM-DATE-TIME:"), NULL);
        }
      else if (g_str_has_prefix (line, "#EXTINF:"))
        {
          double d = g_ascii_strtod (line + strlen ("#EXTINF:"), NULL);
          if (!(d >= 0.0 && d < 86400.0))
            d = 0.0;
          duration_ms = (gint64) llround (d * 1000.0);
        }
      else if (g_str_has_prefix (line, "#EXT-X-TARGETDURATION:"))
        {
          guint64 t = g_ascii_strtoull (line + strlen ("#EXT-X-TARGETDURATION:"), NULL, 10);
          if (t > 0 && t < 3600)
            self->target_duration_s = MAX (self->target_duration_s, (guint) t);
        }
      else if (strcmp (line, "#EXT-X-ENDLIST") == 0)
        self->finished = self->reopenable = TRUE;
      else if (*line != '#')
        {
          gint64 number = parse_segment_number (line);
          Segment *segment;

          if (number < 0 || duration_ms < 0)
            {
              g_set_error (error, VEZA_MEDIA_ERROR, VEZA_MEDIA_ERROR_INVALID_DATA,
                           "%s is not a playlist written by Veza (line %u)",
                           VEZA_HLS_VOD_PLAYLIST, i + 1);
              return FALSE;
            }

          segment = g_new0 (Segment, 1);
          segment->filename = g_strdup (line);
          segment->duration_ms = duration_ms;
          segment->program_date_time = g_steal_pointer (&pdt);
          segment->discontinuity = discontinuity;
          g_ptr_array_add (self->segments, segment);

          self->next_index = MAX (self->next_index, (guint) number + 1);
          discontinuity = FALSE;
          duration_ms = -1;
        }
    }

  return TRUE;
}

/* Never reuse the number of a segment file that exists, even one that did
 * not make it into a playlist (a crash between the two). */
static void
skip_existing_segment_files (VezaHlsWriter *self)
{
  g_autoptr (GDir) dir = g_dir_open (self->dir, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gint64 number = parse_segment_number (name);
      if (number >= 0)
        self->next_index = MAX (self->next_index, (guint) number + 1);
    }
}

static VezaHlsWriter *
writer_open (const char *dir, guint target_duration_s, guint live_window, GError **error)
{
  g_autoptr (VezaHlsWriter) self = g_object_new (VEZA_TYPE_HLS_WRITER, NULL);
  g_autoptr (GError) local_error = NULL;

  if (g_path_is_absolute (dir))
    self->dir = g_strdup (dir);
  else
    {
      g_autofree char *cwd = g_get_current_dir ();
      self->dir = g_build_filename (cwd, dir, NULL);
    }
  self->target_duration_s = MAX (target_duration_s, 1);
  self->live_window = MAX (live_window, 1);

  if (!load_vod_playlist (self, &local_error))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  else if (self->segments->len > 0)
    {
      /* whatever comes next was not recorded by the same pipeline */
      self->discontinuity_pending = TRUE;
    }

  skip_existing_segment_files (self);

  return g_steal_pointer (&self);
}

/**
 * veza_hls_writer_new:
 * @dir: the broadcast's folder (created with mode 0755 if needed)
 * @target_duration_s: the target segment duration in seconds
 * @live_window: number of segments in live.m3u8
 * @error: return location for a #GError
 *
 * When @dir already holds a vod.m3u8 written by a writer, its segments are
 * loaded, numbering continues after them and the next segment added is
 * marked as a discontinuity.  A loaded playlist that was already closed (the
 * broadcast continues after a restart) is reopened by the next
 * veza_hls_writer_add_segment(), unless veza_hls_writer_finish() is called
 * first.
 *
 * Returns: (transfer full): a new writer, or %NULL with @error set
 */
VezaHlsWriter *
veza_hls_writer_new (const char *dir, guint target_duration_s, guint live_window, GError **error)
{
  int saved_errno;

  g_return_val_if_fail (dir != NULL && *dir != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Cannot create the media folder %s: %s", dir, g_strerror (saved_errno));
      return NULL;
    }

  return writer_open (dir, target_duration_s, live_window, error);
}

/**
 * veza_hls_writer_next_segment_path:
 * @self: a #VezaHlsWriter
 *
 * Returns: (transfer full): the absolute path of the next segment file;
 *   each call returns a new number.
 */
char *
veza_hls_writer_next_segment_path (VezaHlsWriter *self)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (VEZA_IS_HLS_WRITER (self), NULL);

  name = g_strdup_printf (SEGMENT_PREFIX "%06u" SEGMENT_SUFFIX, self->next_index++);
  return g_build_filename (self->dir, name, NULL);
}

/**
 * veza_hls_writer_add_segment:
 * @self: a #VezaHlsWriter
 * @path_or_filename: the segment file (only its base name is used)
 * @duration_s: its duration in seconds
 * @program_date_time: (nullable): wall clock of its first sample
 *
 * Appends a complete segment and rewrites both playlists.  A segment that
 * arrives after veza_hls_writer_finish() is still listed (nothing recorded
 * is lost) and the playlists stay closed; call finish() after the pipeline
 * emitted "stopped".
 */
void
veza_hls_writer_add_segment (VezaHlsWriter *self,
                             const char    *path_or_filename,
                             double         duration_s,
                             GDateTime     *program_date_time)
{
  Segment *segment;
  gint64 number;

  g_return_if_fail (VEZA_IS_HLS_WRITER (self));
  g_return_if_fail (path_or_filename != NULL);

  segment = g_new0 (Segment, 1);
  segment->filename = g_path_get_basename (path_or_filename);
  segment->duration_ms = (duration_s > 0.0 && duration_s < 86400.0) ? llround (duration_s * 1000.0) : 0;
  segment->program_date_time = program_date_time ? g_date_time_ref (program_date_time) : NULL;
  segment->discontinuity = self->discontinuity_pending && self->segments->len > 0;
  g_ptr_array_add (self->segments, segment);

  number = parse_segment_number (segment->filename);
  if (number >= 0)
    self->next_index = MAX (self->next_index, (guint) number + 1);

  self->discontinuity_pending = FALSE;
  if (self->reopenable)
    self->finished = self->reopenable = FALSE;

  write_playlists_after (self, TRUE);
}

/**
 * veza_hls_writer_mark_discontinuity:
 * @self: a #VezaHlsWriter
 *
 * The next segment added gets an `#EXT-X-DISCONTINUITY` tag in both
 * playlists (a publisher reconnected).
 */
void
veza_hls_writer_mark_discontinuity (VezaHlsWriter *self)
{
  g_return_if_fail (VEZA_IS_HLS_WRITER (self));

  self->discontinuity_pending = TRUE;
}

/**
 * veza_hls_writer_finish:
 * @self: a #VezaHlsWriter
 *
 * Closes both playlists (`#EXT-X-ENDLIST`; vod.m3u8 becomes a VOD playlist).
 * Nothing is written when no segment exists.  Idempotent.
 */
void
veza_hls_writer_finish (VezaHlsWriter *self)
{
  g_return_if_fail (VEZA_IS_HLS_WRITER (self));

  self->reopenable = FALSE;
  if (self->finished)
    return;
  self->finished = TRUE;
  write_playlists (self);
}

guint
veza_hls_writer_get_n_segments (VezaHlsWriter *self)
{
  g_return_val_if_fail (VEZA_IS_HLS_WRITER (self), 0);

  return self->segments->len;
}

gboolean
veza_hls_writer_is_finished (VezaHlsWriter *self)
{
  g_return_val_if_fail (VEZA_IS_HLS_WRITER (self), FALSE);

  return self->finished;
}

const char *
veza_hls_writer_get_dir (VezaHlsWriter *self)
{
  g_return_val_if_fail (VEZA_IS_HLS_WRITER (self), NULL);

  return self->dir;
}

static guint
count_live_window (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, VEZA_HLS_LIVE_PLAYLIST, NULL);
  g_autofree char *contents = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return DEFAULT_LIVE_WINDOW;
  for (const char *p = strstr (contents, "#EXTINF:"); p != NULL; p = strstr (p + 1, "#EXTINF:"))
    n++;
  return n > 0 ? n : DEFAULT_LIVE_WINDOW;
}

static gboolean
playlist_is_closed (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  return strstr (contents, "\n#EXT-X-ENDLIST") != NULL;
}

/* Temporary files of an interrupted playlist update or of a segment that was
 * still being recorded. */
static void
remove_stale_files (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (g_str_has_prefix (name, "." VEZA_HLS_LIVE_PLAYLIST ".") ||
          g_str_has_prefix (name, "." VEZA_HLS_VOD_PLAYLIST ".") ||
          g_str_has_prefix (name, ".recording-"))
        {
          g_autofree char *file = g_build_filename (path, name, NULL);
          if (g_unlink (file) != 0)
            g_debug ("Cannot remove %s: %s", file, g_strerror (errno));
        }
    }
}

/**
 * veza_hls_finish_dir:
 * @dir: a broadcast's folder
 * @error: return location for a #GError
 *
 * Crash recovery: closes the playlists of a folder that was left open.
 * Does nothing when they are already closed.
 *
 * Returns: %TRUE on success; %FALSE with @error set when @dir holds no
 *   playlist (G_FILE_ERROR_NOENT) or an unreadable one
 */
gboolean
veza_hls_finish_dir (const char *dir, GError **error)
{
  g_autoptr (VezaHlsWriter) writer = NULL;

  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No media folder %s", dir);
      return FALSE;
    }

  remove_stale_files (dir);

  if (playlist_is_closed (dir, VEZA_HLS_VOD_PLAYLIST) &&
      playlist_is_closed (dir, VEZA_HLS_LIVE_PLAYLIST))
    return TRUE;

  writer = writer_open (dir, 1, count_live_window (dir), error);
  if (writer == NULL)
    return FALSE;

  if (writer->segments->len == 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No playlist in %s", dir);
      return FALSE;
    }

  /* rewrite both, even if vod.m3u8 alone was already closed */
  writer->finished = FALSE;
  veza_hls_writer_finish (writer);
  return TRUE;
}
