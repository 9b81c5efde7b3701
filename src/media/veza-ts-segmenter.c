/* veza-ts-segmenter.c: cuts a muxed MPEG-TS stream into HLS segment files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sits on the sink pad after mpegtsmux (alignment 0: one buffer list per
 * buffer the muxer took in, one TS packet per buffer) and writes the
 * packets itself, in the muxer's streaming thread, into a hidden file of
 * the broadcast's folder.  The data goes no further than the probe.
 *
 * A new file begins at the first keyframe (any buffer of an audio-only
 * stream) whose presentation time reaches the start of the file plus the
 * target duration, and starts with the PAT and PMT (the "streamheader" of
 * the muxer's caps) unless the muxer wrote them there itself.  The closed
 * file is queued and announced at once with an element message of the
 * sink; the owner renames and lists it from its main context.
 *
 * Timing comes from the parser of the track that times the segments (the
 * video one when there is one): its running times, the wall clock when its
 * first buffer passed, the end of its latest buffer, and the presentation
 * time of each keyframe.  The muxer's packets carry no presentation time,
 * so those keyframe times are taken in order: only the first packet after
 * a video keyframe lacks DELTA_UNIT, and a list is matched to a keyframe
 * only when it starts a PES packet of that track's PID.
 *
 * When the stream ends more than a target duration after the start of the
 * file (no keyframe came in time), the file is split at its latest keyframe.
 */

#include "veza-ts-segmenter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define FILE_BUFFER_SIZE (64 * 1024)
/* cut points waiting for the muxer: more than a second of audio frames */
#define MAX_CUT_POINTS 256
/* FLV timestamps are whole milliseconds: a keyframe this close to the
 * target duration reaches it */
#define CUT_TOLERANCE (5 * GST_MSECOND)

struct _VezaTsSegmenter
{
  /* immutable once the pipeline plays */
  char *dir;
  guint serial;
  GstClockTime target;
  GstElement *sink;
  GstPad *sink_pad;
  gulong record_probe;
  gulong latency_probe;
  GstClockTime mux_latency;
  GstPad *timing_pad;
  gulong timing_probe;
  guint timing_pid;
  gboolean by_keyframes;

  /* the timing track's streaming thread */
  GstSegment timing_segment;

  /* the muxer's streaming thread (anyone once it stopped) */
  FILE *file;
  char *location;
  char *file_buffer;            /* FILE_BUFFER_SIZE, stdio buffer of @file */
  guint next_id;
  GstClockTime start_rt;
  GPtrArray *streamheader;      /* GstBuffer*: PAT and PMT */
  gint64 split_offset;          /* where the latest keyframe after the first begins, or -1 */
  GstClockTime split_rt;
  gboolean split_header;        /* its packets start without the PAT */
  gboolean failed;

  GMutex lock;
  GArray *cut_points;           /* under lock: GstClockTime, oldest first */
  GQueue fragments;             /* under lock: VezaTsFragment*, oldest first */
  GstClockTime max_end_rt;      /* under lock */
  gboolean anchored;            /* under lock */
  GstClockTime anchor_rt;       /* under lock */
  gint64 anchor_wall_us;        /* under lock */
};

void
veza_ts_fragment_free (VezaTsFragment *fragment)
{
  if (fragment == NULL)
    return;
  g_free (fragment->location);
  g_free (fragment);
}

/**
 * veza_ts_segmenter_new:
 * @dir: the broadcast's folder
 * @serial: distinguishes the temporary names of concurrent segmenters
 * @target_duration_s: the target segment duration
 *
 * Returns: (transfer full): a segmenter, to be given its sink and timing
 *   track before the pipeline plays
 */
VezaTsSegmenter *
veza_ts_segmenter_new (const char *dir, guint serial, guint target_duration_s)
{
  VezaTsSegmenter *self = g_new0 (VezaTsSegmenter, 1);

  self->dir = g_strdup (dir);
  self->serial = serial;
  self->target = (GstClockTime) MAX (target_duration_s, 1) * GST_SECOND;
  gst_segment_init (&self->timing_segment, GST_FORMAT_UNDEFINED);
  self->start_rt = GST_CLOCK_TIME_NONE;
  self->split_offset = -1;
  self->streamheader = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  g_mutex_init (&self->lock);
  self->cut_points = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  g_queue_init (&self->fragments);
  self->max_end_rt = GST_CLOCK_TIME_NONE;
  self->anchor_rt = GST_CLOCK_TIME_NONE;
  return self;
}

/**
 * veza_ts_segmenter_free:
 *
 * Removes the probes and drops what was not published (see
 * veza_ts_segmenter_discard()).  No streaming thread may run.
 */
void
veza_ts_segmenter_free (VezaTsSegmenter *self)
{
  if (self == NULL)
    return;

  if (self->sink_pad != NULL)
    {
      gst_pad_remove_probe (self->sink_pad, self->record_probe);
      gst_pad_remove_probe (self->sink_pad, self->latency_probe);
      gst_object_unref (self->sink_pad);
    }
  if (self->timing_pad != NULL)
    {
      gst_pad_remove_probe (self->timing_pad, self->timing_probe);
      gst_object_unref (self->timing_pad);
    }
  g_clear_object (&self->sink);
  veza_ts_segmenter_discard (self);

  g_free (self->dir);
  g_free (self->file_buffer);
  g_ptr_array_unref (self->streamheader);
  g_array_unref (self->cut_points);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/**
 * veza_ts_segmenter_discard:
 *
 * Drops the file being recorded and the closed fragments nobody popped:
 * none of them is a segment.  No streaming thread may run.
 *
 * Returns: whether an unfinished file was dropped
 */
gboolean
veza_ts_segmenter_discard (VezaTsSegmenter *self)
{
  VezaTsFragment *fragment;
  gboolean dropped = FALSE;

  if (self->file != NULL)
    {
      fclose (self->file);
      self->file = NULL;
      g_unlink (self->location);
      dropped = TRUE;
    }
  g_clear_pointer (&self->location, g_free);

  g_mutex_lock (&self->lock);
  while ((fragment = g_queue_pop_head (&self->fragments)) != NULL)
    {
      g_unlink (fragment->location);
      veza_ts_fragment_free (fragment);
    }
  g_mutex_unlock (&self->lock);
  return dropped;
}

/**
 * veza_ts_segmenter_pop_fragment:
 *
 * Returns: (transfer full) (nullable): the oldest closed fragment
 */
VezaTsFragment *
veza_ts_segmenter_pop_fragment (VezaTsSegmenter *self)
{
  VezaTsFragment *fragment;

  g_mutex_lock (&self->lock);
  fragment = g_queue_pop_head (&self->fragments);
  g_mutex_unlock (&self->lock);
  return fragment;
}

/**
 * veza_ts_segmenter_wall_clock_at:
 *
 * Returns: (transfer full): the wall-clock time at @running_time, from
 *   when the timing track's first buffer passed (now if none did)
 */
GDateTime *
veza_ts_segmenter_wall_clock_at (VezaTsSegmenter *self, GstClockTime running_time)
{
  g_autoptr (GDateTime) seconds = NULL;
  gint64 wall_us;

  g_mutex_lock (&self->lock);
  if (self->anchored && GST_CLOCK_TIME_IS_VALID (running_time))
    wall_us = self->anchor_wall_us + GST_CLOCK_DIFF (self->anchor_rt, running_time) / 1000;
  else
    wall_us = g_get_real_time ();
  g_mutex_unlock (&self->lock);

  seconds = g_date_time_new_from_unix_utc (wall_us / G_USEC_PER_SEC);
  return g_date_time_add (seconds, wall_us % G_USEC_PER_SEC);
}

/* ---- the timing track ------------------------------------------------- */

static GstPadProbeReturn
timing_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  VezaTsSegmenter *self = user_data;
  GstBuffer *buffer;
  GstClockTime pts, rt, end_rt;

  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM)
    {
      GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
      if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT)
        gst_event_copy_segment (event, &self->timing_segment);
      return GST_PAD_PROBE_OK;
    }

  buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  pts = GST_BUFFER_PTS_IS_VALID (buffer) ? GST_BUFFER_PTS (buffer) : GST_BUFFER_DTS (buffer);
  if (!GST_CLOCK_TIME_IS_VALID (pts) || self->timing_segment.format != GST_FORMAT_TIME)
    return GST_PAD_PROBE_OK;
  /* the muxer drops what has no running time: so do we */
  rt = gst_segment_to_running_time (&self->timing_segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return GST_PAD_PROBE_OK;
  end_rt = rt;
  if (GST_BUFFER_DURATION_IS_VALID (buffer))
    end_rt += GST_BUFFER_DURATION (buffer);

  g_mutex_lock (&self->lock);
  if (!self->by_keyframes || !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT))
    {
      /* the muxer takes them in order; a bound, should it lose some */
      if (self->cut_points->len >= MAX_CUT_POINTS)
        g_array_remove_index (self->cut_points, 0);
      g_array_append_val (self->cut_points, rt);
    }
  if (!self->anchored)
    {
      self->anchored = TRUE;
      self->anchor_rt = rt;
      self->anchor_wall_us = g_get_real_time ();
    }
  if (!GST_CLOCK_TIME_IS_VALID (self->max_end_rt) || end_rt > self->max_end_rt)
    self->max_end_rt = end_rt;
  g_mutex_unlock (&self->lock);

  return GST_PAD_PROBE_OK;
}

/**
 * veza_ts_segmenter_set_timing_track:
 * @pad: where the track's buffers pass before the muxer (with the same
 *   segment as at the muxer)
 * @pid: the TS PID the muxer gives the track
 * @video: cut on its keyframes (else on any buffer)
 */
void
veza_ts_segmenter_set_timing_track (VezaTsSegmenter *self, GstPad *pad, guint pid, gboolean video)
{
  g_return_if_fail (self->timing_pad == NULL);

  self->timing_pad = gst_object_ref (pad);
  self->timing_pid = pid;
  self->by_keyframes = video;
  self->timing_probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
                                          GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                                          timing_probe_cb, self, NULL);
}

/* ---- files (the muxer's streaming thread) ----------------------------- */

static void
recording_failed (VezaTsSegmenter *self, const char *what, int saved_errno)
{
  self->failed = TRUE;
  GST_ELEMENT_ERROR (self->sink, RESOURCE, WRITE,
                     ("Cannot %s a segment file: %s", what, g_strerror (saved_errno)), (NULL));
}

static FILE *
create_file (VezaTsSegmenter *self, char **location)
{
  FILE *file;

  *location = g_strdup_printf ("%s/.recording-%u-%06u.ts", self->dir, self->serial,
                               self->next_id++);
  /* read back when the last file is split */
  file = g_fopen (*location, "w+b");
  if (file == NULL)
    {
      recording_failed (self, "create", errno);
      g_clear_pointer (location, g_free);
    }
  return file;
}

static gboolean
open_file (VezaTsSegmenter *self)
{
  g_assert (self->file == NULL);

  g_clear_pointer (&self->location, g_free);
  self->file = create_file (self, &self->location);
  if (self->file == NULL)
    return FALSE;
  if (self->file_buffer == NULL)
    self->file_buffer = g_malloc (FILE_BUFFER_SIZE);
  setvbuf (self->file, self->file_buffer, _IOFBF, FILE_BUFFER_SIZE);
  self->start_rt = GST_CLOCK_TIME_NONE;
  self->split_offset = -1;
  return TRUE;
}

/* Takes @location. */
static void
queue_fragment (VezaTsSegmenter *self, char *location, GstClockTime start_rt, GstClockTime end_rt)
{
  VezaTsFragment *fragment = g_new0 (VezaTsFragment, 1);

  fragment->location = location;
  fragment->start_rt = start_rt;
  fragment->end_rt = end_rt;
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->fragments, fragment);
  g_mutex_unlock (&self->lock);

  gst_element_post_message (self->sink,
                            gst_message_new_element (GST_OBJECT (self->sink),
                                                     gst_structure_new_empty (VEZA_TS_SEGMENTER_FRAGMENT_CLOSED)));
}

static gboolean
close_file (VezaTsSegmenter *self, GstClockTime end_rt)
{
  gboolean write_error;

  if (self->file == NULL)
    return TRUE;

  write_error = ferror (self->file) != 0;
  if (fclose (self->file) != 0 || write_error)
    {
      int saved_errno = errno;
      self->file = NULL;
      g_unlink (self->location);
      g_clear_pointer (&self->location, g_free);
      recording_failed (self, "write", saved_errno);
      return FALSE;
    }
  self->file = NULL;
  queue_fragment (self, g_steal_pointer (&self->location), self->start_rt, end_rt);
  return TRUE;
}

static gboolean
write_buffer (VezaTsSegmenter *self, FILE *file, GstBuffer *buffer)
{
  GstMapInfo map;
  gsize written;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return TRUE;
  written = fwrite (map.data, 1, map.size, file);
  gst_buffer_unmap (buffer, &map);
  if (written != map.size)
    {
      recording_failed (self, "write", errno);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_streamheader (VezaTsSegmenter *self, FILE *file)
{
  for (guint i = 0; i < self->streamheader->len; i++)
    if (!write_buffer (self, file, g_ptr_array_index (self->streamheader, i)))
      return FALSE;
  return TRUE;
}

/* The tail of the file, from the latest keyframe on, becomes a file of
 * its own, the last one. */
static gboolean
split_file (VezaTsSegmenter *self, GstClockTime end_rt)
{
  FILE *head = self->file;
  g_autofree char *head_location = g_steal_pointer (&self->location);
  g_autofree char *tail_location = NULL;
  g_autofree char *chunk = NULL;
  FILE *tail = NULL;
  size_t n;

  self->file = NULL;
  if (fflush (head) != 0 || ferror (head))
    goto io_failed;
  tail = create_file (self, &tail_location);
  if (tail == NULL)
    goto failed;
  if (self->split_header && !write_streamheader (self, tail))
    goto failed;

  chunk = g_malloc (FILE_BUFFER_SIZE);
  if (fseeko (head, self->split_offset, SEEK_SET) != 0)
    goto io_failed;
  while ((n = fread (chunk, 1, FILE_BUFFER_SIZE, head)) > 0)
    if (fwrite (chunk, 1, n, tail) != n)
      goto io_failed;
  if (ferror (head) || ftruncate (fileno (head), self->split_offset) != 0)
    goto io_failed;
  if (fclose (head) != 0)
    {
      head = NULL;
      goto io_failed;
    }
  queue_fragment (self, g_steal_pointer (&head_location), self->start_rt, self->split_rt);

  self->file = tail;
  self->location = g_steal_pointer (&tail_location);
  self->start_rt = self->split_rt;
  return close_file (self, end_rt);

io_failed:
  recording_failed (self, "write", errno);
failed:
  if (head != NULL)
    fclose (head);
  g_unlink (head_location);
  if (tail != NULL)
    {
      fclose (tail);
      g_unlink (tail_location);
    }
  return FALSE;
}

/* End of stream: the last file ends with the end of the last buffer. */
static void
finish (VezaTsSegmenter *self)
{
  GstClockTime end_rt;

  if (self->file == NULL || self->failed)
    return;

  g_mutex_lock (&self->lock);
  end_rt = self->max_end_rt;
  g_mutex_unlock (&self->lock);

  if (self->split_offset > 0 && GST_CLOCK_TIME_IS_VALID (self->start_rt) &&
      GST_CLOCK_TIME_IS_VALID (end_rt) && self->split_rt > self->start_rt &&
      end_rt > self->start_rt + self->target + CUT_TOLERANCE)
    split_file (self, end_rt);
  else
    close_file (self, end_rt);
}

static gboolean
starts_with_pat (GstBuffer *buffer)
{
  guint8 header[3];

  /* sync byte, then PID 0 */
  return gst_buffer_extract (buffer, 0, header, sizeof header) == sizeof header &&
         header[0] == 0x47 && (header[1] & 0x1f) == 0 && header[2] == 0;
}

/* Whether @list starts a PES packet of the timing track, and so holds one
 * of its buffers. */
static gboolean
starts_timing_buffer (VezaTsSegmenter *self, GstBufferList *list)
{
  guint n = gst_buffer_list_length (list);

  for (guint i = 0; i < n; i++)
    {
      guint8 header[3];

      if (gst_buffer_extract (gst_buffer_list_get (list, i), 0, header, sizeof header) == sizeof header &&
          header[0] == 0x47 && (header[1] & 0x40) != 0 &&
          (((guint) header[1] & 0x1f) << 8 | header[2]) == self->timing_pid)
        return TRUE;
    }
  return FALSE;
}

static GstClockTime
next_cut_point (VezaTsSegmenter *self)
{
  GstClockTime pts_rt = GST_CLOCK_TIME_NONE;

  g_mutex_lock (&self->lock);
  if (self->cut_points->len > 0)
    {
      pts_rt = g_array_index (self->cut_points, GstClockTime, 0);
      g_array_remove_index (self->cut_points, 0);
    }
  g_mutex_unlock (&self->lock);
  return pts_rt;
}

/* The packets of one buffer the muxer took in. */
static void
record_packets (VezaTsSegmenter *self, GstBufferList *list)
{
  guint n = gst_buffer_list_length (list);
  GstBuffer *first;
  GstClockTime rt = GST_CLOCK_TIME_NONE;

  if (self->failed || n == 0)
    return;
  first = gst_buffer_list_get (list, 0);
  if ((!self->by_keyframes || !GST_BUFFER_FLAG_IS_SET (first, GST_BUFFER_FLAG_DELTA_UNIT)) &&
      starts_timing_buffer (self, list))
    rt = next_cut_point (self);

  if (self->file != NULL && GST_CLOCK_TIME_IS_VALID (rt) &&
      GST_CLOCK_TIME_IS_VALID (self->start_rt) &&
      rt + CUT_TOLERANCE >= self->start_rt + self->target)
    {
      if (!close_file (self, rt))
        return;
    }

  if (self->file == NULL)
    {
      if (!open_file (self))
        return;
      /* a player may start with this file alone */
      if (!starts_with_pat (first) && !write_streamheader (self, self->file))
        return;
    }
  else if (self->by_keyframes && GST_CLOCK_TIME_IS_VALID (rt))
    {
      self->split_offset = ftello (self->file);
      self->split_rt = rt;
      self->split_header = !starts_with_pat (first);
    }
  /* the first cut point starts the first file (other buffers may come
   * before it) */
  if (!GST_CLOCK_TIME_IS_VALID (self->start_rt))
    self->start_rt = rt;

  for (guint i = 0; i < n; i++)
    if (!write_buffer (self, self->file, gst_buffer_list_get (list, i)))
      return;
}

static void
store_streamheader (VezaTsSegmenter *self, GstCaps *caps)
{
  const GValue *array;

  g_ptr_array_set_size (self->streamheader, 0);
  if (gst_caps_get_size (caps) == 0)
    return;
  array = gst_structure_get_value (gst_caps_get_structure (caps, 0), "streamheader");
  if (array == NULL || !GST_VALUE_HOLDS_ARRAY (array))
    return;
  for (guint i = 0; i < gst_value_array_get_size (array); i++)
    {
      const GValue *value = gst_value_array_get_value (array, i);
      if (GST_VALUE_HOLDS_BUFFER (value))
        g_ptr_array_add (self->streamheader, gst_buffer_ref (gst_value_get_buffer (value)));
    }
}

static GstPadProbeReturn
record_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  VezaTsSegmenter *self = user_data;

  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    {
      record_packets (self, GST_PAD_PROBE_INFO_BUFFER_LIST (info));
      return GST_PAD_PROBE_DROP;
    }
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER)
    {
      g_autoptr (GstBufferList) list = gst_buffer_list_new_sized (1);

      gst_buffer_list_add (list, gst_buffer_ref (GST_PAD_PROBE_INFO_BUFFER (info)));
      record_packets (self, list);
      return GST_PAD_PROBE_DROP;
    }
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM)
    {
      GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

      if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS)
        {
          GstCaps *caps;
          gst_event_parse_caps (event, &caps);
          store_streamheader (self, caps);
        }
      else if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
        {
          /* before the sink posts EOS: the bus keeps the order */
          finish (self);
        }
    }
  return GST_PAD_PROBE_OK;
}

/* The room the muxer keeps at its pads is no delay of its output: nothing
 * downstream syncs on it, and the sinks that plugins add to the tees should
 * not wait for it. */
static GstPadProbeReturn
latency_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  VezaTsSegmenter *self = user_data;
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  gboolean live;
  GstClockTime min, max;

  if (!(GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_PULL) ||
      GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_PAD_PROBE_OK;

  gst_query_parse_latency (query, &live, &min, &max);
  min = min > self->mux_latency ? min - self->mux_latency : 0;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max = max > self->mux_latency ? max - self->mux_latency : 0;
  gst_query_set_latency (query, live, min, max);
  return GST_PAD_PROBE_OK;
}

/**
 * veza_ts_segmenter_set_sink:
 * @sink: the sink after mpegtsmux (alignment 0), not syncing to the clock
 * @mux_latency: the muxer's "latency", hidden from the latency query
 */
void
veza_ts_segmenter_set_sink (VezaTsSegmenter *self, GstElement *sink, GstClockTime mux_latency)
{
  g_return_if_fail (self->sink == NULL);

  self->sink = gst_object_ref (sink);
  self->mux_latency = mux_latency;
  self->sink_pad = gst_element_get_static_pad (sink, "sink");
  self->record_probe = gst_pad_add_probe (self->sink_pad,
                                          GST_PAD_PROBE_TYPE_BUFFER |
                                          GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                          GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                                          record_probe_cb, self, NULL);
  self->latency_probe = gst_pad_add_probe (self->sink_pad, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM,
                                           latency_probe_cb, self, NULL);
}
