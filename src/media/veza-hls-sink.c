/* veza-hls-sink.c: muxes H.264 and AAC into MPEG-TS segment files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The last element of a stream's pipeline.  Its "video" pad takes H.264
 * access units in byte-stream form (h264parse puts an access unit
 * delimiter and, with config-interval=-1, the SPS and PPS before each
 * keyframe), its "audio" pad AAC frames with ADTS headers.  Every buffer
 * becomes one PES packet (veza-ts-mux.c), written in the order the
 * buffers arrive, which is the publisher's interleaving: no aggregation,
 * no thread of its own.  The element runs in its upstream's streaming
 * thread, which for Veza's pipelines is the thread that pushes the FLV
 * tags, so a tag is demuxed, parsed, muxed and written without changing
 * threads.
 *
 * Files are recorded under a hidden name in the broadcast's folder.  A new
 * one begins at the first video keyframe (any buffer of an audio-only
 * stream) whose presentation time reaches the start of the file plus the
 * target duration, and starts with the PAT and PMT, so a player can start
 * at any segment.  The closed file is queued and announced at once with an
 * element message; the owner renames and lists it from its main context.
 *
 * Timing comes from the video track when there is one (the tracks'
 * running times may start at different points): the start of each file
 * is its keyframe's presentation time, the wall clock is anchored when the
 * track's first buffer passes, and the last file ends with the end of its
 * latest buffer.  When the stream ends more than a target duration after
 * the start of the file (no keyframe came in time), the file is split at
 * its latest keyframe.
 *
 * MPEG-TS timestamps are running times plus TS_TIME_OFFSET, so that the
 * decoding times of the first frames (before their presentation times)
 * and the program clock behind them stay positive.
 */

#include "veza-hls-sink.h"
#include "veza-ts-mux.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

GST_DEBUG_CATEGORY_STATIC (veza_hls_sink_debug);
#define GST_CAT_DEFAULT veza_hls_sink_debug

#define FILE_BUFFER_SIZE (64 * 1024)
/* FLV timestamps are whole milliseconds: a keyframe this close to the
 * target duration reaches it */
#define CUT_TOLERANCE (5 * GST_MSECOND)
#define TS_TIME_OFFSET (1 * GST_SECOND)

typedef struct
{
  VezaTsTrack track;
  GstPad *pad;
  GstSegment segment;
  gboolean eos;
} Track;

struct _VezaHlsSink
{
  GstElement parent_instance;

  /* immutable after construction */
  char *dir;
  guint serial;
  GstClockTime target;
  Track *video;
  Track *audio;
  Track *timing;                /* the track that times the segments */

  /* under stream_lock: the streaming threads */
  GMutex stream_lock;
  VezaTsMux *mux;
  GByteArray *packets;          /* scratch: one frame's packets */
  FILE *file;
  char *location;
  char *file_buffer;            /* FILE_BUFFER_SIZE, stdio buffer of @file */
  gint64 file_size;
  guint next_id;
  GstClockTime start_rt;
  gint64 split_offset;          /* where the latest keyframe after the first begins, or -1 */
  GstClockTime split_rt;
  GstClockTime max_end_rt;
  gboolean failed;
  gboolean eos_posted;

  /* under lock: shared with the owner's main context */
  GMutex lock;
  GQueue fragments;             /* VezaHlsFragment*, oldest first */
  gboolean anchored;
  GstClockTime anchor_rt;
  gint64 anchor_wall_us;
};

static GstStaticPadTemplate video_template =
  GST_STATIC_PAD_TEMPLATE ("video", GST_PAD_SINK, GST_PAD_SOMETIMES,
                           GST_STATIC_CAPS ("video/x-h264, stream-format=(string)byte-stream, "
                                            "alignment=(string)au"));
static GstStaticPadTemplate audio_template =
  GST_STATIC_PAD_TEMPLATE ("audio", GST_PAD_SINK, GST_PAD_SOMETIMES,
                           GST_STATIC_CAPS ("audio/mpeg, mpegversion=(int){ 2, 4 }, "
                                            "stream-format=(string)adts"));

G_DEFINE_FINAL_TYPE (VezaHlsSink, veza_hls_sink, GST_TYPE_ELEMENT)

void
veza_hls_fragment_free (VezaHlsFragment *fragment)
{
  if (fragment == NULL)
    return;
  g_free (fragment->location);
  g_free (fragment);
}

/* ---- files (under stream_lock) ---------------------------------------- */

static void
recording_failed (VezaHlsSink *self, const char *what, int saved_errno)
{
  self->failed = TRUE;
  GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
                     ("Cannot %s a segment file: %s", what, g_strerror (saved_errno)), (NULL));
}

static FILE *
create_file (VezaHlsSink *self, char **location)
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
write_bytes (VezaHlsSink *self, FILE *file, const guint8 *data, gsize size)
{
  if (fwrite (data, 1, size, file) != size)
    {
      recording_failed (self, "write", errno);
      return FALSE;
    }
  self->file_size += size;
  return TRUE;
}

/* Opens the next file and writes the tables at its head. */
static gboolean
open_file (VezaHlsSink *self)
{
  g_assert (self->file == NULL);

  g_clear_pointer (&self->location, g_free);
  self->file = create_file (self, &self->location);
  if (self->file == NULL)
    return FALSE;
  if (self->file_buffer == NULL)
    self->file_buffer = g_malloc (FILE_BUFFER_SIZE);
  setvbuf (self->file, self->file_buffer, _IOFBF, FILE_BUFFER_SIZE);
  self->file_size = 0;
  self->start_rt = GST_CLOCK_TIME_NONE;
  self->split_offset = -1;

  g_byte_array_set_size (self->packets, 0);
  veza_ts_mux_write_tables (self->mux, self->packets);
  return write_bytes (self, self->file, self->packets->data, self->packets->len);
}

/* Takes @location. */
static void
queue_fragment (VezaHlsSink *self, char *location, GstClockTime start_rt, GstClockTime end_rt)
{
  VezaHlsFragment *fragment = g_new0 (VezaHlsFragment, 1);

  fragment->location = location;
  fragment->start_rt = start_rt;
  fragment->end_rt = end_rt;
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->fragments, fragment);
  g_mutex_unlock (&self->lock);

  gst_element_post_message (GST_ELEMENT (self),
                            gst_message_new_element (GST_OBJECT (self),
                                                     gst_structure_new_empty (VEZA_HLS_SINK_FRAGMENT_CLOSED)));
}

static gboolean
close_file (VezaHlsSink *self, GstClockTime end_rt)
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

/* The tail of the file, from the latest keyframe on, becomes a file of
 * its own (after a copy of the tables), the last one. */
static gboolean
split_file (VezaHlsSink *self, GstClockTime end_rt)
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
  g_byte_array_set_size (self->packets, 0);
  veza_ts_mux_write_tables (self->mux, self->packets);
  if (!write_bytes (self, tail, self->packets->data, self->packets->len))
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

/* End of stream: the last file ends with the end of the timing track. */
static void
finish (VezaHlsSink *self)
{
  GstClockTime end_rt = self->max_end_rt;

  if (self->file == NULL || self->failed)
    return;

  if (self->split_offset > 0 && GST_CLOCK_TIME_IS_VALID (self->start_rt) &&
      GST_CLOCK_TIME_IS_VALID (end_rt) && self->split_rt > self->start_rt &&
      end_rt > self->start_rt + self->target + CUT_TOLERANCE)
    split_file (self, end_rt);
  else
    close_file (self, end_rt);
}

/* ---- streaming -------------------------------------------------------- */

/* A running time (which may be negative) as an MPEG-TS timestamp. */
static guint64
to_ts_time (const GstSegment *segment, GstClockTime t)
{
  guint64 rt;
  int sign = gst_segment_to_running_time_full (segment, GST_FORMAT_TIME, t, &rt);

  if (sign > 0)
    rt += TS_TIME_OFFSET;
  else if (sign < 0)
    rt = rt < TS_TIME_OFFSET ? TS_TIME_OFFSET - rt : 0;
  else
    rt = TS_TIME_OFFSET;
  return gst_util_uint64_scale (rt, VEZA_TS_CLOCK_HZ, GST_SECOND) & VEZA_TS_TIME_MASK;
}

/* Cuts and times the files on a buffer of the timing track; returns
 * whether the buffer starts a part the last file can be split at. */
static gboolean
time_buffer (VezaHlsSink *self, GstBuffer *buffer, GstClockTime rt, gboolean *ok)
{
  gboolean by_keyframes = self->timing->track == VEZA_TS_TRACK_VIDEO;
  gboolean cut_point = !by_keyframes || !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  GstClockTime end_rt = rt;

  *ok = TRUE;
  if (GST_BUFFER_DURATION_IS_VALID (buffer))
    end_rt += GST_BUFFER_DURATION (buffer);
  if (!GST_CLOCK_TIME_IS_VALID (self->max_end_rt) || end_rt > self->max_end_rt)
    self->max_end_rt = end_rt;

  g_mutex_lock (&self->lock);
  if (!self->anchored)
    {
      self->anchored = TRUE;
      self->anchor_rt = rt;
      self->anchor_wall_us = g_get_real_time ();
    }
  g_mutex_unlock (&self->lock);

  if (!cut_point)
    return FALSE;
  if (self->file != NULL && GST_CLOCK_TIME_IS_VALID (self->start_rt) &&
      rt + CUT_TOLERANCE >= self->start_rt + self->target)
    {
      if (!close_file (self, rt))
        {
          *ok = FALSE;
          return FALSE;
        }
    }
  if (self->file == NULL && !open_file (self))
    {
      *ok = FALSE;
      return FALSE;
    }
  /* the first cut point starts the first file (other buffers may come
   * before it) */
  if (!GST_CLOCK_TIME_IS_VALID (self->start_rt))
    {
      self->start_rt = rt;
      return FALSE;
    }
  return by_keyframes;
}

static GstFlowReturn
veza_hls_sink_chain (GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  VezaHlsSink *self = VEZA_HLS_SINK (parent);
  Track *track = gst_pad_get_element_private (pad);
  GstClockTime pts, dts, rt;
  GstMapInfo map;
  GstFlowReturn ret = GST_FLOW_OK;

  pts = GST_BUFFER_PTS_IS_VALID (buffer) ? GST_BUFFER_PTS (buffer) : GST_BUFFER_DTS (buffer);
  dts = GST_BUFFER_DTS_IS_VALID (buffer) ? GST_BUFFER_DTS (buffer) : pts;
  if (!GST_CLOCK_TIME_IS_VALID (pts) || track->segment.format != GST_FORMAT_TIME ||
      gst_buffer_get_size (buffer) == 0)
    goto out;
  /* what has no running time is outside the segment: dropped */
  rt = gst_segment_to_running_time (&track->segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    goto out;
  if (dts > pts)
    dts = pts;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    {
      GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Cannot read a buffer"), (NULL));
      ret = GST_FLOW_ERROR;
      goto out;
    }

  g_mutex_lock (&self->stream_lock);
  if (self->failed)
    ret = GST_FLOW_ERROR;
  else
    {
      gboolean ok = TRUE;
      gboolean split_point = FALSE;

      if (track == self->timing)
        split_point = time_buffer (self, buffer, rt, &ok);
      if (ok && self->file == NULL)
        ok = open_file (self);
      if (ok && split_point)
        {
          self->split_offset = self->file_size;
          self->split_rt = rt;
        }
      if (ok)
        {
          g_byte_array_set_size (self->packets, 0);
          veza_ts_mux_write_frame (self->mux, track->track, map.data, map.size,
                                   to_ts_time (&track->segment, pts),
                                   to_ts_time (&track->segment, dts),
                                   !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT),
                                   self->packets);
          ok = write_bytes (self, self->file, self->packets->data, self->packets->len);
        }
      if (!ok)
        ret = GST_FLOW_ERROR;
    }
  g_mutex_unlock (&self->stream_lock);
  gst_buffer_unmap (buffer, &map);

out:
  gst_buffer_unref (buffer);
  return ret;
}

/* Every track ended: closes the last file, then tells the bin. */
static void
track_ended (VezaHlsSink *self, Track *track, guint32 seqnum)
{
  GstMessage *eos;

  g_mutex_lock (&self->stream_lock);
  track->eos = TRUE;
  if ((self->video != NULL && !self->video->eos) || (self->audio != NULL && !self->audio->eos) ||
      self->eos_posted)
    {
      g_mutex_unlock (&self->stream_lock);
      return;
    }
  finish (self);
  self->eos_posted = TRUE;
  g_mutex_unlock (&self->stream_lock);

  /* after the last fragment's message: the bus keeps the order */
  eos = gst_message_new_eos (GST_OBJECT (self));
  gst_message_set_seqnum (eos, seqnum);
  gst_element_post_message (GST_ELEMENT (self), eos);
}

static gboolean
veza_hls_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  VezaHlsSink *self = VEZA_HLS_SINK (parent);
  Track *track = gst_pad_get_element_private (pad);

  switch (GST_EVENT_TYPE (event))
    {
    case GST_EVENT_SEGMENT:
      g_mutex_lock (&self->stream_lock);
      gst_event_copy_segment (event, &track->segment);
      g_mutex_unlock (&self->stream_lock);
      if (track->segment.format != GST_FORMAT_TIME)
        {
          GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Segment is not in time"), (NULL));
          gst_event_unref (event);
          return FALSE;
        }
      break;

    case GST_EVENT_EOS:
      track_ended (self, track, gst_event_get_seqnum (event));
      break;

    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->stream_lock);
      gst_segment_init (&track->segment, GST_FORMAT_UNDEFINED);
      track->eos = FALSE;
      g_mutex_unlock (&self->stream_lock);
      break;

    default:
      break;
    }

  /* caps are those of the template; everything ends here */
  gst_event_unref (event);
  return TRUE;
}

static gboolean
veza_hls_sink_query (GstElement *element, GstQuery *query)
{
  VezaHlsSink *self = VEZA_HLS_SINK (element);

  /* a latency query goes upstream, to the live source */
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY)
    return gst_pad_peer_query (self->timing->pad, query);
  return GST_ELEMENT_CLASS (veza_hls_sink_parent_class)->query (element, query);
}

/* ---- public API ------------------------------------------------------- */

/**
 * veza_hls_sink_discard:
 *
 * Drops the file being recorded and the closed fragments nobody popped:
 * none of them is a segment.  No streaming thread may run.
 *
 * Returns: whether an unfinished file was dropped
 */
gboolean
veza_hls_sink_discard (VezaHlsSink *self)
{
  VezaHlsFragment *fragment;
  gboolean dropped = FALSE;

  g_return_val_if_fail (VEZA_IS_HLS_SINK (self), FALSE);

  g_mutex_lock (&self->stream_lock);
  if (self->file != NULL)
    {
      fclose (self->file);
      self->file = NULL;
      g_unlink (self->location);
      dropped = TRUE;
    }
  g_clear_pointer (&self->location, g_free);
  g_mutex_unlock (&self->stream_lock);

  g_mutex_lock (&self->lock);
  while ((fragment = g_queue_pop_head (&self->fragments)) != NULL)
    {
      g_unlink (fragment->location);
      veza_hls_fragment_free (fragment);
    }
  g_mutex_unlock (&self->lock);
  return dropped;
}

/**
 * veza_hls_sink_pop_fragment:
 *
 * Returns: (transfer full) (nullable): the oldest closed fragment
 */
VezaHlsFragment *
veza_hls_sink_pop_fragment (VezaHlsSink *self)
{
  VezaHlsFragment *fragment;

  g_return_val_if_fail (VEZA_IS_HLS_SINK (self), NULL);

  g_mutex_lock (&self->lock);
  fragment = g_queue_pop_head (&self->fragments);
  g_mutex_unlock (&self->lock);
  return fragment;
}

/**
 * veza_hls_sink_wall_clock_at:
 *
 * Returns: (transfer full): the wall-clock time at @running_time, from
 *   when the timing track's first buffer passed (now if none did)
 */
GDateTime *
veza_hls_sink_wall_clock_at (VezaHlsSink *self, GstClockTime running_time)
{
  g_autoptr (GDateTime) seconds = NULL;
  gint64 wall_us;

  g_return_val_if_fail (VEZA_IS_HLS_SINK (self), NULL);

  g_mutex_lock (&self->lock);
  if (self->anchored && GST_CLOCK_TIME_IS_VALID (running_time))
    wall_us = self->anchor_wall_us + GST_CLOCK_DIFF (self->anchor_rt, running_time) / 1000;
  else
    wall_us = g_get_real_time ();
  g_mutex_unlock (&self->lock);

  seconds = g_date_time_new_from_unix_utc (wall_us / G_USEC_PER_SEC);
  return g_date_time_add (seconds, wall_us % G_USEC_PER_SEC);
}

static Track *
add_track (VezaHlsSink *self, VezaTsTrack kind, GstStaticPadTemplate *templ)
{
  Track *track = g_new0 (Track, 1);

  track->track = kind;
  gst_segment_init (&track->segment, GST_FORMAT_UNDEFINED);
  track->pad = gst_pad_new_from_static_template (templ, templ->name_template);
  gst_pad_set_element_private (track->pad, track);
  gst_pad_set_chain_function (track->pad, veza_hls_sink_chain);
  gst_pad_set_event_function (track->pad, veza_hls_sink_event);
  gst_element_add_pad (GST_ELEMENT (self), track->pad);
  return track;
}

/**
 * veza_hls_sink_new:
 * @dir: the broadcast's folder
 * @serial: distinguishes the temporary names of concurrent sinks
 * @target_duration_s: the target segment duration
 * @has_video: give the sink a "video" pad
 * @has_audio: give the sink an "audio" pad
 *
 * Returns: (transfer floating): a sink with the requested pads
 */
GstElement *
veza_hls_sink_new (const char *dir,
                   guint       serial,
                   guint       target_duration_s,
                   gboolean    has_video,
                   gboolean    has_audio)
{
  VezaHlsSink *self;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (has_video || has_audio, NULL);

  self = g_object_new (VEZA_TYPE_HLS_SINK, NULL);
  self->dir = g_strdup (dir);
  self->serial = serial;
  self->target = (GstClockTime) MAX (target_duration_s, 1) * GST_SECOND;
  self->mux = veza_ts_mux_new (has_video, has_audio);
  if (has_video)
    self->video = add_track (self, VEZA_TS_TRACK_VIDEO, &video_template);
  if (has_audio)
    self->audio = add_track (self, VEZA_TS_TRACK_AUDIO, &audio_template);
  self->timing = has_video ? self->video : self->audio;
  return GST_ELEMENT (self);
}

static void
veza_hls_sink_finalize (GObject *object)
{
  VezaHlsSink *self = VEZA_HLS_SINK (object);

  veza_hls_sink_discard (self);
  g_free (self->dir);
  g_free (self->video);
  g_free (self->audio);
  g_clear_pointer (&self->mux, veza_ts_mux_free);
  g_byte_array_unref (self->packets);
  g_free (self->file_buffer);
  g_mutex_clear (&self->stream_lock);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (veza_hls_sink_parent_class)->finalize (object);
}

static void
veza_hls_sink_class_init (VezaHlsSinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  object_class->finalize = veza_hls_sink_finalize;
  element_class->query = veza_hls_sink_query;

  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (element_class, "Veza HLS sink", "Sink/Muxer",
                                         "Muxes H.264 and AAC into MPEG-TS segment files",
                                         "Veza Live");

  GST_DEBUG_CATEGORY_INIT (veza_hls_sink_debug, "veza-hls-sink", 0, "Veza MPEG-TS segments");
}

static void
veza_hls_sink_init (VezaHlsSink *self)
{
  g_mutex_init (&self->stream_lock);
  g_mutex_init (&self->lock);
  g_queue_init (&self->fragments);
  self->packets = g_byte_array_sized_new (64 * 1024);
  self->start_rt = GST_CLOCK_TIME_NONE;
  self->split_offset = -1;
  self->max_end_rt = GST_CLOCK_TIME_NONE;
  self->anchor_rt = GST_CLOCK_TIME_NONE;
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}
